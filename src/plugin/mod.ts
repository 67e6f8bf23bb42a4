/**
 * Everything a plugin author needs: {@linkcode definePlugin}, the `z` schema
 * builder, {@linkcode duration} and {@linkcode regexp} options, and helpers
 * to rewrite the request ({@linkcode rewriteRequest}) and edit the response
 * ({@linkcode editableHeaders}). The guide is `docs/writing-a-plugin.md`.
 *
 * A plugin is a module whose default export is `definePlugin({...})`. Pacer
 * loads it from the static configuration (`plugins.<name>.module`) and
 * configuration uses it as `plugin: { <name>: { ...options } }`, or from a
 * Marathon label `traefik.http.middlewares.<instance>.plugin.<name>.<option>=…`.
 *
 * @example
 * ```ts
 * // plugins/add_header/mod.ts
 * import { definePlugin, editableHeaders, z } from "../../src/plugin/mod.ts";
 *
 * export default definePlugin({
 *   name: "addHeader",
 *   version: "1.0.0",
 *   config: z.object({
 *     name: z.string().min(1),
 *     value: z.string().default(""),
 *   }),
 *   create({ name, value }, ctx) {
 *     ctx.log.debug("ready", { header: name });
 *     return async function addHeader(c, next) {
 *       await next();
 *       editableHeaders(c).set(name, value);
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { editableResponse, hasEditableHeaders } from "../util/editable_response.ts";
import { derivedRequest } from "../util/derived_request.ts";
import { headerPairs } from "../util/headers.ts";

export { z };
export type { Context, MiddlewareHandler, Next } from "hono";
export { HTTPException } from "hono/http-exception";
export { definePlugin } from "./plugin.ts";
export type { Downstream, PluginContext, PluginDefinition, ServiceCall } from "./plugin.ts";
export { duration, parseDuration } from "../config/duration.ts";
export type { Logger } from "../log/logger.ts";
export { pacerEnv, remoteIP } from "../server/env.ts";
export { copyHeaders, headerPairs } from "../util/headers.ts";
export type { PacerEnv } from "../server/env.ts";

/**
 * Replaces the request that later middlewares and the service see (path
 * rewrites, header changes). The body is carried over, not copied.
 *
 * `headers` replaces all request headers: a `Headers` object (edit a
 * {@linkcode copyHeaders} copy), or name/value pairs, which skip one
 * validation pass. To add a header, `[...headerPairs(c.req.raw.headers),
 * [name, value]]` is the cheapest form.
 *
 * @example
 * ```ts
 * const stripApi: MiddlewareHandler = async function stripApi(c, next) {
 *   const url = new URL(c.req.url);
 *   url.pathname = url.pathname.replace(/^\/api/, "") || "/";
 *   rewriteRequest(c, { url });
 *   await next();
 * };
 * ```
 */
export function rewriteRequest(
  c: Context,
  change: { url?: string | URL; headers?: Headers | readonly [string, string][]; method?: string },
): Request {
  const url = change.url === undefined ? c.req.raw.url : String(change.url);
  // As pairs: a Headers object as init is iterated quadratically (src/util/headers.ts).
  const headers = change.headers instanceof Headers ? headerPairs(change.headers) : change.headers;
  // Its signal follows the old request's (src/util/derived_request.ts).
  const next = derivedRequest(c.req.raw, { url, method: change.method, headers });
  c.req.raw = next;
  c.req.path = change.url instanceof URL ? change.url.pathname : new URL(url).pathname;
  return next;
}

/**
 * The headers of the current response (`c.res`), made editable first when
 * they are not: a `Response` from `fetch()` or `Response.redirect()` has
 * immutable headers, and setting one would throw (a 500 for the client).
 * Call it after `await next()`.
 *
 * @example
 * ```ts
 * const poweredBy: MiddlewareHandler = async function poweredBy(c, next) {
 *   await next();
 *   editableHeaders(c).set("X-Powered-By", "Pacer");
 * };
 * ```
 */
export function editableHeaders(c: Context): Headers {
  const res = c.res;
  if (hasEditableHeaders(res)) return res.headers;
  const copy = editableResponse(res);
  // Reset first: assigning over c.res makes Hono merge the old headers back.
  c.res = undefined;
  c.res = copy;
  return copy.headers;
}

/**
 * A string option holding a JavaScript regular expression. Invalid patterns
 * are reported as configuration errors (`'plugin.x.pattern': is not a valid
 * regular expression: ...`), not thrown: compile the pattern in `create`,
 * where it is known to be valid. The option stays a string, so
 * `/api/rawdata` shows it as written.
 *
 * @param flags Flags the pattern will be compiled with, checked with it.
 * @example
 * ```ts
 * const config = z.object({ match: regexp().default("^/api/") });
 * // in create(config): const re = new RegExp(config.match);
 * ```
 */
export function regexp(flags = ""): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    try {
      new RegExp(value, flags);
    } catch (error) {
      ctx.addIssue({
        code: "custom",
        message: `is not a valid regular expression: ${(error as Error).message}`,
      });
    }
  });
}
