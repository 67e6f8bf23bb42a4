/**
 * Reads whole request and response bodies before passing them on
 * (Traefik's `buffering`): the service gets a request only once the client
 * has sent all of it (slow clients cannot hold a service connection), sizes
 * can be capped, and failed attempts can be retried (`retryExpression`).
 *
 * - A request body over `maxRequestBodyBytes` (by `Content-Length`, or once
 *   read) is refused with 413 and never forwarded.
 * - A response body over `maxResponseBodyBytes` is replaced by a 500.
 * - Bodies over `mem*BodyBytes` are spooled to a temporary file (needs
 *   write permission; without it they stay in memory, with a warning).
 * - `retryExpression` (e.g. `IsNetworkError() && Attempts() < 2`) re-sends
 *   the buffered request while it holds, at most 10 times, and needs the
 *   engine's downstream replay (`ctx.downstream`).
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     limits:
 *       buffering:
 *         maxRequestBodyBytes: 2000000
 *         memRequestBodyBytes: 200000
 *         retryExpression: IsNetworkError() && Attempts() < 2
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { copyHeaders, definePlugin, type Downstream, type Logger, z } from "../../plugin/mod.ts";
import { derivedRequest } from "../../util/derived_request.ts";
import { replaceResponse, textResponse } from "../_http.ts";
import { parseRetryExpression, type RetryPredicate } from "./_retry_expression.ts";
import { BodyTooLargeError, bufferBody, type BufferedBody } from "./_spool.ts";

/** Default in-memory threshold (oxy's), used when a `mem*` option is 0. */
export const DEFAULT_MEM_BYTES = 1_048_576;
/** Attempts after which retrying stops whatever the expression says (oxy's). */
export const MAX_RETRY_ATTEMPTS = 10;

const bytes = z.number().int().min(0, { message: "must be >= 0 (0 means no limit)" });

/** buffering options (Traefik's names and defaults). */
export const bufferingConfig = z.strictObject({
  /** Largest request body accepted; 0 = no limit. @default {0} */
  maxRequestBodyBytes: bytes.default(0),
  /** Request bytes kept in memory before spooling to disk. @default {1048576} */
  memRequestBodyBytes: bytes.default(DEFAULT_MEM_BYTES),
  /** Largest response body accepted; 0 = no limit. @default {0} */
  maxResponseBodyBytes: bytes.default(0),
  /** Response bytes kept in memory before spooling to disk. @default {1048576} */
  memResponseBodyBytes: bytes.default(DEFAULT_MEM_BYTES),
  /** When to re-send the request, e.g. `IsNetworkError() && Attempts() < 2`. @default {""} */
  retryExpression: z.string().default("").superRefine((source, ctx) => {
    if (source.trim() === "") return;
    try {
      parseRetryExpression(source);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
});
/** Validated buffering options. */
export type BufferingConfig = z.output<typeof bufferingConfig>;

/** Options of {@linkcode buffering} besides the configuration. */
export interface BufferingOptions {
  /** Runs the rest of the chain; required for `retryExpression`. */
  readonly downstream?: Downstream;
  /** Where spooling problems are reported. */
  readonly log?: Logger;
}

const NO_BODY_METHODS = new Set(["GET", "HEAD"]);

/**
 * Marks the forwarder's own 502/504 answers to connection failures and
 * timeouts (`UPSTREAM_ERROR_HEADER` in `src/service/forward.ts`).
 */
const UPSTREAM_ERROR_HEADER = "x-pacer-upstream-error";

/**
 * Builds the buffering middleware.
 * @throws {Error} If `retryExpression` is set but `options.downstream` is not.
 */
export function buffering(
  config: BufferingConfig,
  options: BufferingOptions = {},
): MiddlewareHandler {
  const maxRequest = config.maxRequestBodyBytes;
  const memRequest = config.memRequestBodyBytes || DEFAULT_MEM_BYTES;
  const maxResponse = config.maxResponseBodyBytes;
  const memResponse = config.memResponseBodyBytes || DEFAULT_MEM_BYTES;
  const retry: RetryPredicate | undefined = config.retryExpression.trim()
    ? parseRetryExpression(config.retryExpression)
    : undefined;
  const { downstream, log } = options;
  if (retry && !downstream) {
    throw new Error(
      "Cannot create buffering middleware as 'retryExpression' needs the downstream replay " +
        "(ctx.downstream), which this chain does not provide",
    );
  }

  const replayable = (original: Request, body: BufferedBody): Request =>
    derivedRequest(original, {
      body: body.size > 0 && !NO_BODY_METHODS.has(original.method) ? body.content() : null,
    });

  const attempt = async (c: Context, next: () => Promise<void>, body: BufferedBody) => {
    const original = c.req.raw;
    if (!downstream) {
      c.req.raw = replayable(original, body);
      await next();
      return c.res;
    }
    for (let n = 1;; n++) {
      const res = await downstream(c, replayable(original, body));
      if (
        !retry || n >= MAX_RETRY_ATTEMPTS ||
        !retry({
          attempts: n,
          responseCode: res.status,
          method: original.method,
          networkError: (res.status === 502 || res.status === 504) &&
            res.headers.has(UPSTREAM_ERROR_HEADER),
        })
      ) {
        return res;
      }
      await res.body?.cancel().catch(() => {});
    }
  };

  return async function buffering(c, next) {
    const declared = c.req.raw.headers.get("content-length");
    if (maxRequest > 0 && declared !== null && Number(declared) > maxRequest) {
      await c.req.raw.body?.cancel().catch(() => {});
      return textResponse(413);
    }
    let requestBody: BufferedBody;
    try {
      requestBody = await bufferBody(c.req.raw.body, { max: maxRequest, mem: memRequest, log });
    } catch (error) {
      if (error instanceof BodyTooLargeError) return textResponse(413);
      throw error;
    }
    try {
      const res = await attempt(c, next, requestBody);
      let responseBody: BufferedBody;
      try {
        responseBody = await bufferBody(res.body, { max: maxResponse, mem: memResponse, log });
      } catch (error) {
        if (error instanceof BodyTooLargeError) {
          replaceResponse(c, textResponse(500));
          return;
        }
        throw error;
      }
      const headers = copyHeaders(res.headers);
      if (res.body !== null) headers.set("content-length", String(responseBody.size));
      replaceResponse(
        c,
        new Response(res.body === null ? null : responseBody.take(), {
          status: res.status,
          statusText: res.statusText,
          headers,
        }),
      );
    } finally {
      await requestBody.dispose();
    }
  };
}

/** The buffering plugin. */
export default definePlugin({
  name: "buffering",
  description: "Reads whole bodies before passing them on; size limits and retries",
  config: bufferingConfig,
  replaysDownstream: true,
  create: (config, ctx) =>
    buffering(config, {
      ...(ctx.downstream ? { downstream: ctx.downstream } : {}),
      log: ctx.log,
    }),
});
