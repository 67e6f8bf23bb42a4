/**
 * Replaces the request path before forwarding (Traefik's `replacePath`) and
 * records the original, still escaped, in `X-Replaced-Path`.
 *
 * The replacement is an escaped path: `/foo%2Fbar` is forwarded as is, and
 * is seen as `/foo/bar` by path matchers downstream. The query is kept.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     to-foo:
 *       replacePath:
 *         path: /foo
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, headerPairs, rewriteRequest, z } from "../../plugin/mod.ts";
import { pathUnescapeError } from "../_http.ts";

/** The header carrying the path before replacement. */
export const REPLACED_PATH_HEADER = "X-Replaced-Path";

/** replacePath options (Traefik's names). */
export const replacePathConfig = z.strictObject({
  /**
   * The new path (escaped form, e.g. `/foo%2Fbar`). Required.
   * @default {none}
   */
  path: z.string().min(1, { message: "path cannot be empty" }).superRefine((path, ctx) => {
    const error = pathUnescapeError(path);
    if (error) ctx.addIssue({ code: "custom", message: error });
  }),
});
/** Validated replacePath options. */
export type ReplacePathConfig = z.output<typeof replacePathConfig>;

/** Builds the replacePath middleware. */
export function replacePath(config: ReplacePathConfig): MiddlewareHandler {
  const { path } = config;
  return async function replacePath(c, next) {
    const url = new URL(c.req.raw.url);
    const headers: [string, string][] = [
      ...headerPairs(c.req.raw.headers),
      [REPLACED_PATH_HEADER, url.pathname],
    ];
    url.pathname = path;
    rewriteRequest(c, { url, headers });
    await next();
  };
}

/** The replacePath plugin. */
export default definePlugin({
  name: "replacePath",
  description: "Replaces the request path and sets X-Replaced-Path",
  config: replacePathConfig,
  create: (config) => replacePath(config),
});
