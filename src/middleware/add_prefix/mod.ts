/**
 * Adds a prefix to the request path before forwarding (Traefik's
 * `addPrefix`): `/b` with prefix `/a` reaches the service as `/a/b`.
 * Percent-escapes of the path are kept as sent (Traefik updates `RawPath`
 * too), and a prefix without a leading slash gets one.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     add-foo:
 *       addPrefix:
 *         prefix: /foo
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, rewriteRequest, z } from "../../plugin/mod.ts";
import { ensureLeadingSlash } from "../_http.ts";

/** addPrefix options (Traefik's names). */
export const addPrefixConfig = z.strictObject({
  /**
   * Added in front of the path; should start with `/`. Required, not empty.
   * @default {none}
   */
  prefix: z.string().min(1, { message: "prefix cannot be empty" }),
});
/** Validated addPrefix options. */
export type AddPrefixConfig = z.output<typeof addPrefixConfig>;

/** Builds the addPrefix middleware. */
export function addPrefix(config: AddPrefixConfig): MiddlewareHandler {
  const { prefix } = config;
  return async function addPrefix(c, next) {
    const url = new URL(c.req.raw.url);
    url.pathname = ensureLeadingSlash(prefix + url.pathname);
    rewriteRequest(c, { url });
    await next();
  };
}

/** The addPrefix plugin. */
export default definePlugin({
  name: "addPrefix",
  description: "Adds a prefix to the request path",
  config: addPrefixConfig,
  create: (config) => addPrefix(config),
});
