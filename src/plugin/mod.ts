/**
 * Everything a plugin author needs: {@linkcode definePlugin}, the `z` schema
 * builder, {@linkcode duration}, and helpers to rewrite the request.
 *
 * A plugin is a module whose default export is `definePlugin({...})`. Pacer
 * loads it from the static configuration (`plugins.<name>.module`) and
 * configuration uses it as `plugin: { <name>: { ...options } }`, or from a
 * Marathon label `traefik.http.middlewares.<instance>.plugin.<name>.<option>=…`.
 *
 * @example
 * ```ts
 * // plugins/add_header/mod.ts
 * import { definePlugin, z } from "../../src/plugin/mod.ts";
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
 *       c.res.headers.set(name, value);
 *     };
 *   },
 * });
 * ```
 *
 * @module
 */
import type { Context } from "hono";

export { z } from "zod";
export type { Context, MiddlewareHandler, Next } from "hono";
export { HTTPException } from "hono/http-exception";
export { definePlugin } from "./plugin.ts";
export type { Downstream, PluginContext, PluginDefinition, ServiceCall } from "./plugin.ts";
export { duration, parseDuration } from "../config/duration.ts";
export type { Logger } from "../log/logger.ts";
export { pacerEnv, remoteIP } from "../server/env.ts";
export type { PacerEnv } from "../server/env.ts";

/**
 * Replaces the request that later middlewares and the service see (path
 * rewrites, header changes). The body is carried over, not copied.
 *
 * @example
 * ```ts
 * const url = new URL(c.req.url);
 * url.pathname = url.pathname.replace(/^\/api/, "") || "/";
 * rewriteRequest(c, { url });
 * ```
 */
export function rewriteRequest(
  c: Context,
  change: { url?: string | URL; headers?: Headers; method?: string },
): Request {
  const old = c.req.raw;
  const url = change.url === undefined ? old.url : String(change.url);
  const init: RequestInit & { duplex?: "half" } = { duplex: "half" };
  if (change.headers) init.headers = change.headers;
  if (change.method) init.method = change.method;
  const next = new Request(url, new Request(old, init));
  c.req.raw = next;
  c.req.path = new URL(url).pathname;
  return next;
}
