/**
 * Limits the request rate per source with token buckets (Traefik's
 * `rateLimit`).
 *
 * Each source (client IP by default, see `sourceCriterion`) has a bucket of
 * `burst` tokens refilled at `average / period`. A request takes a token. When
 * the bucket is empty, a request that would get a token within a short delay
 * (`1 / (2 × rate)`, at most 500 ms) waits for it, smoothing bursts as
 * Traefik does; otherwise it gets `429 Too Many Requests` with `Retry-After`
 * (whole seconds) and `X-Retry-In` (the exact wait, Go notation).
 * `average: 0` disables the limit.
 *
 * Memory is bounded: at most 65,536 sources are tracked (the least recently
 * seen is forgotten first), and a source idle for as long as its bucket takes
 * to refill is forgotten, which loses nothing since a new bucket starts full.
 * Traefik's `redis` option (limits shared between instances) is not supported.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     api-limit:
 *       rateLimit:
 *         average: 100
 *         period: 1m
 *         burst: 20
 *         sourceCriterion:
 *           ipStrategy:
 *             depth: 1
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, duration, z } from "../../plugin/mod.ts";
import { formatDuration } from "../../config/duration.ts";
import { sourceCriterionSchema, sourceExtractor } from "../_ip/mod.ts";
import { delay } from "../../util/delay.ts";

/** rateLimit options (Traefik's names and defaults). */
export const rateLimitConfig = z.strictObject({
  /**
   * Requests allowed per `period`, on average, per source. 0 = no limit.
   * @default {0}
   */
  average: z.number().int().min(0).default(0),
  /**
   * The period of `average` (Go duration or seconds). 0 means 1s.
   * @default {"1s"}
   */
  period: duration().default(1000),
  /**
   * Requests allowed at once (bucket size). 0 means 1.
   * @default {1}
   */
  burst: z.number().int().min(0).default(1),
  /** What groups requests into one source. Unset: the client IP (socket peer). */
  sourceCriterion: sourceCriterionSchema.optional(),
});
/** Validated rateLimit options. */
export type RateLimitConfig = z.output<typeof rateLimitConfig>;

/** Test seams of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Monotonic clock in milliseconds. @default {performance.now} */
  readonly now?: () => number;
  /**
   * Waits `ms` (a smoothing delay), resolving early if `signal` aborts.
   * @default {delay (src/util/delay.ts)}
   */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Most sources tracked at once (Traefik's `maxSources`). @default {65536} */
  readonly maxSources?: number;
}

interface Bucket {
  tokens: number;
  last: number;
}

/**
 * Builds the rate limiter. Buckets live as long as the returned middleware
 * (one configuration generation).
 */
export function rateLimit(
  config: RateLimitConfig,
  options: RateLimitOptions = {},
): MiddlewareHandler {
  if (config.average === 0) {
    return async function rateLimit(_c, next) {
      await next();
    };
  }
  const now = options.now ?? (() => performance.now());
  const sleep = options.sleep ?? delay;
  const maxSources = options.maxSources ?? 65_536;
  const periodMs = config.period > 0 ? config.period : 1000;
  const perSecond = config.average * 1000 / periodMs;
  const perMs = perSecond / 1000;
  const burst = Math.max(1, config.burst);
  // Traefik: wait at most 1/(2·rate) for a token (Go truncates the rate to an
  // integer there), capped at 500 ms for rates below 1/s.
  const maxDelay = perSecond < 1 ? 500 : 1000 / (2 * Math.floor(perSecond));
  // A bucket idle this long is full again, the same as a new one.
  const idleMs = Math.max(1000, burst / perMs);
  const source = sourceExtractor(config.sourceCriterion, "ip");
  // Insertion order = least recently used first: every use re-inserts.
  const buckets = new Map<string, Bucket>();

  function forgetIdle(t: number): void {
    for (let i = 0; i < 4; i++) {
      const oldest = buckets.entries().next();
      if (oldest.done || t - oldest.value[1].last <= idleMs) return;
      buckets.delete(oldest.value[0]);
    }
  }

  return async function rateLimit(c, next) {
    const key = source(c);
    const t = now();
    let bucket = buckets.get(key);
    if (bucket) {
      buckets.delete(key);
      bucket.tokens = Math.min(burst, bucket.tokens + Math.max(0, t - bucket.last) * perMs);
      bucket.last = t;
    } else {
      bucket = { tokens: burst, last: t };
      forgetIdle(t);
      if (buckets.size >= maxSources) buckets.delete(buckets.keys().next().value!);
    }
    buckets.set(key, bucket);

    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      await next();
      return;
    }
    const waitMs = (1 - bucket.tokens) / perMs;
    if (waitMs > maxDelay) {
      return new Response("Too Many Requests", {
        status: 429,
        headers: {
          "content-type": "text/plain; charset=utf-8",
          "retry-after": String(Math.ceil(waitMs / 1000)),
          "x-retry-in": formatDuration(waitMs),
        },
      });
    }
    // Reserve the token now, serve once it exists (traffic shaping).
    bucket.tokens -= 1;
    const signal = c.req.raw.signal;
    await sleep(waitMs, signal);
    if (signal.aborted) return new Response(null, { status: 499 }); // client gone
    await next();
  };
}

/** The rateLimit plugin. */
export default definePlugin({
  name: "rateLimit",
  description: "Limits the request rate per source (token bucket)",
  config: rateLimitConfig,
  create: (config) => rateLimit(config),
});
