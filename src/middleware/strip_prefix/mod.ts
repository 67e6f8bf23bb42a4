/**
 * Removes a path prefix before forwarding (Traefik's `stripPrefix`) and
 * records it in `X-Forwarded-Prefix`, so the service can build its URLs.
 *
 * Prefixes are tried in the configured order and the first one the path
 * starts with is stripped (as Traefik does: list longer prefixes first when
 * one prefix starts another). Matching is done on the decoded path; the
 * escaped form the client sent is kept for the rest (`/api/a%2Fb` stripped
 * of `/api` is forwarded as `/a%2Fb`).
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     strip-api:
 *       stripPrefix:
 *         prefixes: ["/api", "/v1"]
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, headerPairs, rewriteRequest, z } from "../../plugin/mod.ts";
import {
  decodePath,
  encodedPrefixLength,
  ensureLeadingSlash,
  toByteString,
  utf8Length,
} from "../_http.ts";

/** The header carrying the stripped prefix. */
export const FORWARDED_PREFIX_HEADER = "X-Forwarded-Prefix";

/** stripPrefix options (Traefik's names). */
export const stripPrefixConfig = z.strictObject({
  /**
   * Prefixes to strip, tried in order; the first match wins. Required.
   * @default {none}
   */
  prefixes: z.array(z.string().min(1, { message: "a prefix cannot be empty" })).min(1, {
    message: "prefixes is empty: list the prefixes to strip, e.g. [/api]",
  }),
  /**
   * Traefik v2 option (deprecated in v3): an empty stripped path becomes `/`.
   * Accepted for compatibility; a URL path is never empty, so the request
   * forwarded is the same either way.
   * @default {true}
   */
  forceSlash: z.boolean().default(true),
});
/** Validated stripPrefix options. */
export type StripPrefixConfig = z.output<typeof stripPrefixConfig>;

/** Builds the stripPrefix middleware. */
export function stripPrefix(config: StripPrefixConfig): MiddlewareHandler {
  const prefixes = config.prefixes.map((prefix) => ({
    prefix,
    bytes: utf8Length(prefix),
    header: toByteString(prefix.trim()),
  }));
  const { forceSlash } = config;
  const strip = (rest: string) =>
    forceSlash ? "/" + (rest.startsWith("/") ? rest.slice(1) : rest) : ensureLeadingSlash(rest);
  return async function stripPrefix(c, next) {
    const url = new URL(c.req.raw.url);
    const raw = url.pathname;
    const path = decodePath(raw);
    for (const { prefix, bytes, header } of prefixes) {
      if (!path.startsWith(prefix)) continue;
      url.pathname = strip(raw.slice(encodedPrefixLength(raw, bytes)));
      const headers: [string, string][] = [
        ...headerPairs(c.req.raw.headers),
        [FORWARDED_PREFIX_HEADER, header],
      ];
      rewriteRequest(c, { url, headers });
      break;
    }
    await next();
  };
}

/** The stripPrefix plugin. */
export default definePlugin({
  name: "stripPrefix",
  description: "Removes a path prefix and sets X-Forwarded-Prefix",
  config: stripPrefixConfig,
  create: (config) => stripPrefix(config),
});
