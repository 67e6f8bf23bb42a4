/**
 * The retry stage of Pacer's chain (router → retry → health-gate → drain):
 * Traefik's `retry` middleware (`attempts`, `initialInterval` with
 * exponential backoff), made safe by construction and polite to a sick
 * cluster.
 *
 * **How it re-runs the chain.** Hono lets `next()` run once, so retry
 * declares `replaysDownstream` and calls `ctx.downstream(c, request)` once
 * per attempt: the builder compiled everything after retry (health-gate,
 * drain, the service, and any middleware listed after it) as its own
 * segment, and each call runs it with a fresh context. The load balancer
 * adds every server it picks to the attempt's `tried` set, so a retry goes
 * to a different server when one exists.
 *
 * **When it retries.**
 * - The connection could not be made (nothing reached the upstream): any
 *   method.
 * - The connection broke or timed out before response headers: idempotent
 *   methods only (GET, HEAD, OPTIONS, TRACE, PUT, DELETE), since the
 *   upstream may have acted. Nothing has been sent to the client yet:
 *   Pacer answers only once headers arrive.
 * - The response status is in `statusCodes`: idempotent methods only.
 * - Never when the client went away, or when no server can take the request
 *   (that 503 is immediate by design).
 *
 * Request bodies are buffered for replay up to `maxRequestBodyBytes`; a
 * larger body streams through once and is not retried. Retries are capped
 * by a budget: at most `budget.ratio` of the requests seen over
 * `budget.window` (but at least `budget.minRetries`), so retries cannot
 * multiply the load of a failing cluster. A router's budget outlives
 * configuration reloads: a deploy reloads the configuration exactly when
 * retries are needed, and a fresh budget would allow only `minRetries`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { z } from "zod";
import { duration } from "../../config/duration.ts";
import { definePlugin, type Downstream } from "../../plugin/plugin.ts";
import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";
import { type FailureKind, failureOf } from "../../service/forward.ts";
import type { UpstreamServer } from "../../service/server.ts";
import "../../service/context.ts";
import { delay } from "../../util/delay.ts";
import { derivedRequest } from "../../util/derived_request.ts";
import { readAtMost } from "../_http.ts";

/** Options of the retry middleware (Traefik's plus Pacer's). */
export const retryConfig = z.strictObject({
  /** Total tries, the first included (Traefik's semantics). @default {3} */
  attempts: z.number().int().min(1).max(10).default(3),
  /** Wait before the first retry; doubles each time. @default {100ms} */
  initialInterval: duration().default(100),
  /** Pacer: longest wait between tries. @default {2s} */
  maxInterval: duration().default(2000),
  /** Pacer: random spread of each wait, 0-1 (0.5 = ±50%). @default {0.5} */
  jitter: z.number().min(0).max(1).default(0.5),
  /** Pacer: statuses that are retried for idempotent methods, e.g. [502, 503]. @default {[]} */
  statusCodes: z.array(z.number().int().min(100).max(599)).default([]),
  /** Pacer: largest request body buffered for replay; larger bodies are not retried. @default {1048576} */
  maxRequestBodyBytes: z.number().int().min(0).default(1024 * 1024),
  /** Pacer: retry budget over a sliding window. */
  budget: z.strictObject({
    /** Retries allowed per request seen. @default {0.2} */
    ratio: z.number().min(0).max(10).default(0.2),
    /** Window the ratio is measured over. @default {10s} */
    window: duration().default(10_000),
    /** Retries always allowed per window, for quiet routers. @default {3} */
    minRetries: z.number().int().min(0).default(3),
  }).prefault({}),
});

/** Validated retry options. */
export type RetryConfig = z.output<typeof retryConfig>;

const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"]);

/** Test seams, and the budget to share. */
export interface RetryOptions {
  readonly log?: Logger;
  /** The budget to draw from (default: a new one from `config.budget`). */
  readonly budget?: RetryBudget;
  readonly now?: () => number;
  /** Waits `ms` (resolves early when `signal` aborts). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Uniform in [0, 1). */
  readonly random?: () => number;
}

/** Counts requests and retries over a sliding window of one-second buckets. */
export class RetryBudget {
  readonly #ratio: number;
  readonly #minRetries: number;
  readonly #seconds: number;
  /**
   * Made at the first request: every router has a budget, and in a table
   * of 10,000 routers most never see one.
   */
  #buckets: { second: number; requests: number; retries: number }[] | undefined;
  readonly #now: () => number;

  constructor(config: RetryConfig["budget"], now: () => number = Date.now) {
    this.#ratio = config.ratio;
    this.#minRetries = config.minRetries;
    this.#seconds = Math.max(1, Math.ceil(config.window / 1000));
    this.#now = now;
  }

  #bucket() {
    const second = Math.floor(this.#now() / 1000);
    this.#buckets ??= Array.from(
      { length: this.#seconds },
      () => ({ second: -1, requests: 0, retries: 0 }),
    );
    const bucket = this.#buckets[second % this.#seconds]!;
    if (bucket.second !== second) {
      bucket.second = second;
      bucket.requests = 0;
      bucket.retries = 0;
    }
    return bucket;
  }

  #totals(): { requests: number; retries: number } {
    const oldest = Math.floor(this.#now() / 1000) - this.#seconds + 1;
    let requests = 0;
    let retries = 0;
    for (const b of this.#buckets ?? []) {
      if (b.second >= oldest) {
        requests += b.requests;
        retries += b.retries;
      }
    }
    return { requests, retries };
  }

  /** Counts a new request. */
  request(): void {
    this.#bucket().requests++;
  }

  /** Takes a retry from the budget; `false` when it is spent. */
  tryRetry(): boolean {
    const { requests, retries } = this.#totals();
    if (retries >= Math.max(this.#minRetries, this.#ratio * requests)) return false;
    this.#bucket().retries++;
    return true;
  }
}

/** A request without a body: replayable as is. */
const NO_BODY = { body: null, replayable: true } as const;

/** Reads a request body into memory if it fits in `limit`. */
async function bufferBody(
  request: Request,
  limit: number,
): Promise<
  { body: Uint8Array<ArrayBuffer> | null; replayable: boolean; stream?: ReadableStream<Uint8Array> }
> {
  if (!request.body) return { body: null, replayable: true };
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    return { body: null, replayable: false, stream: request.body };
  }
  const head = await readAtMost(request.body, limit);
  if (head.complete) return { body: head.bytes, replayable: true };
  // Too big to replay: send what was read, then the rest, once.
  return { body: null, replayable: false, stream: head.body };
}

/**
 * The request for one attempt. One without a body is reused as is: nothing
 * in it is consumed by sending it, and copying a Request costs more than
 * the rest of the retry middleware.
 */
function attemptRequest(
  original: Request,
  body: Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array> | null,
): Request {
  if (body === null && original.body === null) return original;
  return derivedRequest(original, { body });
}

/** Whether a failed attempt may be tried again. */
export function retryable(
  method: string,
  response: Response,
  statusCodes: readonly number[],
): { retry: boolean; reason: string } {
  const failure = failureOf(response);
  if (failure) {
    const kind: FailureKind = failure.kind;
    if (kind === "connect") return { retry: true, reason: "connection failed" };
    if (kind === "reset" || kind === "timeout" || kind === "drained") {
      return { retry: IDEMPOTENT.has(method), reason: `upstream ${kind}` };
    }
    return { retry: false, reason: kind };
  }
  if (statusCodes.includes(response.status)) {
    return { retry: IDEMPOTENT.has(method), reason: `status ${response.status}` };
  }
  return { retry: false, reason: "answered" };
}

/**
 * Creates the retry middleware.
 * @param downstream Runs the rest of the chain once per call (from the builder).
 */
export function retry(
  config: RetryConfig,
  downstream: Downstream,
  options: RetryOptions = {},
): MiddlewareHandler {
  const log = options.log ?? silentLogger;
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? delay;
  const random = options.random ?? Math.random;
  const budget = options.budget ?? new RetryBudget(config.budget, now);

  const wait = (retryNumber: number) => {
    const base = Math.min(config.initialInterval * 2 ** (retryNumber - 1), config.maxInterval);
    return base * (1 - config.jitter + 2 * config.jitter * random());
  };

  return async function retry(c: Context) {
    budget.request();
    const original = c.req.raw;
    // A WebSocket upgrade takes the connection over: nothing to replay.
    if (original.headers.has("upgrade")) return await downstream(c, original);
    const method = original.method;
    const tried = new Set<UpstreamServer>();
    const buffered = original.body === null
      ? NO_BODY
      : config.attempts > 1
      ? await bufferBody(original, config.maxRequestBodyBytes)
      : { body: null, replayable: false, stream: original.body };
    for (let attempt = 1;; attempt++) {
      c.set("retryAttempt", { attempt, tried });
      const record = c.get("accessLog");
      if (record) record.retryAttempts = attempt - 1;
      const body = buffered.replayable ? buffered.body : (buffered.stream ?? null);
      const response = await downstream(c, attemptRequest(original, body));
      if (attempt >= config.attempts || !buffered.replayable) return response;
      const verdict = retryable(method, response, config.statusCodes);
      if (!verdict.retry || original.signal.aborted) return response;
      if (!budget.tryRetry()) {
        log.warn("Retry budget spent: answering without retrying", {
          router: c.get("router"),
          reason: verdict.reason,
        });
        return response;
      }
      await response.body?.cancel();
      const backoffMs = wait(attempt);
      log.debug("Retrying request", {
        router: c.get("router"),
        attempt: attempt + 1,
        reason: verdict.reason,
        delayMs: Math.round(backoffMs),
      });
      await sleep(backoffMs, original.signal);
    }
  };
}

export default definePlugin({
  name: "retry",
  description: "Retries failed requests safely, on other servers, within a budget",
  config: retryConfig,
  replaysDownstream: true,
  create(config, ctx) {
    if (!ctx.downstream) {
      throw new Error(
        "retry needs the rest of the chain (ctx.downstream); build it through Pacer's builder",
      );
    }
    return retry(config, ctx.downstream, {
      log: ctx.log,
      budget: sharedBudget(`${ctx.router}\0${ctx.middleware}`, config.budget, ctx.signal),
    });
  },
});

/** A budget shared by the generations that build the same retry instance. */
interface SharedBudget {
  readonly key: string;
  readonly config: RetryConfig["budget"];
  readonly budget: RetryBudget;
  /** Live generations using it. */
  users: number;
}

/** Budgets by router and middleware instance. */
const budgets = new Map<string, SharedBudget>();

/**
 * The budgets each generation uses, released together when it retires: one
 * listener per generation, not one per router (tables of 10,000 routers).
 */
const usedBy = new WeakMap<AbortSignal, SharedBudget[]>();

function sameSettings(a: RetryConfig["budget"], b: RetryConfig["budget"]): boolean {
  return a.ratio === b.ratio && a.window === b.window && a.minRetries === b.minRetries;
}

function release(shared: SharedBudget): void {
  shared.users--;
  if (shared.users === 0 && budgets.get(shared.key) === shared) budgets.delete(shared.key);
}

/**
 * The budget of a router's retry middleware, shared by every generation
 * that builds it with the same budget settings. It is dropped once the last
 * generation using it is retired (`signal`), so removed routers leave
 * nothing behind. A new generation is built before the old one retires,
 * which is what carries the budget over.
 */
export function sharedBudget(
  key: string,
  config: RetryConfig["budget"],
  signal: AbortSignal,
): RetryBudget {
  let shared = budgets.get(key);
  if (!shared || !sameSettings(shared.config, config)) {
    shared = { key, config, budget: new RetryBudget(config), users: 0 };
    budgets.set(key, shared);
  }
  shared.users++;
  if (signal.aborted) {
    release(shared);
    return shared.budget;
  }
  let used = usedBy.get(signal);
  if (!used) {
    const list: SharedBudget[] = used = [];
    usedBy.set(signal, list);
    signal.addEventListener("abort", () => list.forEach(release), { once: true });
  }
  used.push(shared);
  return shared.budget;
}

/** Budgets kept for live routers (for tests: removed routers must leave none). */
export function sharedBudgetCount(): number {
  return budgets.size;
}
