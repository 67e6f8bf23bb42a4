/**
 * Limits simultaneous requests per source (Traefik's `inFlightReq`).
 *
 * A request is in flight from the moment it enters this middleware until its
 * response body has been sent to the client, failed, or been cancelled (the
 * body is wrapped), not merely until the response headers are ready: a slow
 * download keeps its slot. A request over `amount` for its source gets
 * `429` with the body `max connections reached: <amount>` (Traefik/oxy).
 *
 * Sources are grouped by `sourceCriterion`; with none set the request Host is
 * the source (Traefik's default for this middleware). Only sources with
 * requests in flight are tracked, so memory is bounded by concurrency.
 * A `101 Switching Protocols` (WebSocket) response has no body to wrap and
 * frees its slot once the upgrade answer is produced.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     ten-at-once:
 *       inFlightReq:
 *         amount: 10
 *         sourceCriterion:
 *           ipStrategy: {}
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, z } from "../../plugin/mod.ts";
import { sourceCriterionSchema, sourceExtractor } from "../_ip/mod.ts";

/** inFlightReq options (Traefik's names). */
export const inFlightReqConfig = z.strictObject({
  /** Maximum simultaneous requests per source. Required, at least 1. */
  amount: z.number().int().min(1),
  /** What groups requests into one source. Unset: the request Host. */
  sourceCriterion: sourceCriterionSchema.optional(),
});
/** Validated inFlightReq options. */
export type InFlightReqConfig = z.output<typeof inFlightReqConfig>;

const NULL_BODY = new Set([101, 204, 205, 304]);

/** Wraps `body` so that `done` runs once when it ends, fails or is cancelled. */
function onBodyDone(
  body: ReadableStream<Uint8Array>,
  done: () => void,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        done();
        controller.error(error);
        return;
      }
      if (chunk.done) {
        done();
        controller.close();
      } else {
        controller.enqueue(chunk.value);
      }
    },
    cancel(reason) {
      done();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

/**
 * Builds the in-flight limiter. Counters live as long as the returned
 * middleware (one configuration generation).
 */
export function inFlightReq(config: InFlightReqConfig): MiddlewareHandler {
  const amount = config.amount;
  const source = sourceExtractor(config.sourceCriterion, "host");
  const inFlight = new Map<string, number>();
  const refusal = `max connections reached: ${amount}`;

  function release(key: string): void {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left <= 0) inFlight.delete(key);
    else inFlight.set(key, left);
  }

  return async function inFlightReq(c, next) {
    const key = source(c);
    const current = inFlight.get(key) ?? 0;
    if (current >= amount) {
      return new Response(refusal, {
        status: 429,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    inFlight.set(key, current + 1);
    let released = false;
    const done = () => {
      if (released) return;
      released = true;
      release(key);
    };
    try {
      await next();
    } catch (error) {
      done();
      throw error;
    }
    const res = c.res;
    if (!res.body || NULL_BODY.has(res.status)) {
      done();
      return;
    }
    // Reset first: assigning over an existing c.res makes Hono merge the old
    // headers into the new response.
    const wrapped = new Response(onBodyDone(res.body, done), res);
    c.res = undefined;
    c.res = wrapped;
  };
}

/** The inFlightReq plugin. */
export default definePlugin({
  name: "inFlightReq",
  description: "Limits simultaneous requests per source",
  config: inFlightReqConfig,
  create: (config) => inFlightReq(config),
});
