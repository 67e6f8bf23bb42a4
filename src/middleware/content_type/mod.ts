/**
 * Sets a response's `Content-Type` from its first bytes when the upstream
 * sent none (Traefik's `contentType` middleware). Like Traefik v3, Pacer
 * leaves a missing `Content-Type` missing by default; this middleware turns
 * detection on for the routers that use it.
 *
 * Detection is Go's `http.DetectContentType` (`_sniff.ts`), run when Go's
 * server would run it for Traefik: only for a response with a body
 * (not `HEAD`, 1xx, 204 or 304, not empty), without any `Content-Type`
 * header (an empty one counts as set) and without a `Content-Encoding`.
 * It looks at up to 512 bytes: what the upstream has sent until it pauses,
 * as Go looks at what was written before the first flush. The body then
 * streams on unchanged. A body that breaks off before then gets
 * `502 Bad Gateway`, as any upstream failure before the headers.
 *
 * Detection happens as the response passes this middleware: a middleware
 * listed after it (closer to the service) that sets `Content-Type` wins;
 * one listed before it sees the detected type.
 *
 * `autoDetect` is Traefik's deprecated option: `false` makes the middleware
 * do nothing (as in Traefik v3), `true` is the same as leaving it out; either
 * way Pacer warns, as Traefik does.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     autodetect:
 *       contentType: {}
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, z } from "../../plugin/mod.ts";
import { type BodyHead, concatChunks, readAtMost, replaceResponse } from "../_http.ts";
import { failureResponse } from "../../service/forward.ts";
import { copyHeaders } from "../../util/headers.ts";
import { detectContentType, SNIFF_LENGTH } from "./_sniff.ts";

/** contentType options (Traefik's). */
export const contentTypeConfig = z.strictObject({
  /**
   * Deprecated (Traefik v3): `false` disables detection, `true` changes
   * nothing. Leave it out.
   */
  autoDetect: z.boolean().optional(),
});
/** Validated contentType options. */
export type ContentTypeConfig = z.output<typeof contentTypeConfig>;

/** Statuses whose responses carry no body (Go's `bodyAllowedForStatus`). */
function bodyAllowed(status: number): boolean {
  return status >= 200 && status !== 204 && status !== 304;
}

/**
 * The response with `Content-Type` detected from its first bytes, or
 * `response` itself when detection does not apply.
 */
async function withDetectedContentType(response: Response): Promise<Response> {
  const body = response.body;
  if (
    body === null || !bodyAllowed(response.status) || response.headers.has("content-type") ||
    (response.headers.get("content-encoding") ?? "") !== ""
  ) {
    return response;
  }
  let head: BodyHead;
  try {
    head = await readAtMost(body, SNIFF_LENGTH - 1, { stopOnPause: true, waitForFirstChunk: true });
  } catch (error) {
    // The upstream broke off before the headers could go out: as any
    // upstream failure before headers (so retry may try again).
    return failureResponse(502, "Bad Gateway", { kind: "reset", error });
  }
  // Go sniffs only when something was written.
  if (head.complete && head.bytes.byteLength === 0) return new Response(null, response);
  const first = head.complete ? head.bytes : concatChunks(head.read, head.size);
  const headers = copyHeaders(response.headers);
  headers.set("content-type", detectContentType(first));
  return new Response(head.complete ? head.bytes : head.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  });
}

/** Builds the middleware. */
export function contentType(config: ContentTypeConfig): MiddlewareHandler {
  if (config.autoDetect === false) return (_c, next) => next();
  return async function contentType(c, next) {
    await next();
    const detected = await withDetectedContentType(c.res);
    if (detected !== c.res) replaceResponse(c, detected);
  };
}

/** The contentType plugin. */
export default definePlugin({
  name: "contentType",
  description: "Sets Content-Type from the response body when the upstream sent none",
  config: contentTypeConfig,
  create(config, ctx) {
    if (config.autoDetect !== undefined) {
      ctx.log.warn(
        "contentType's autoDetect option is deprecated: the middleware only turns detection on; remove the option",
        { middleware: ctx.middleware },
      );
    }
    return contentType(config);
  },
});
