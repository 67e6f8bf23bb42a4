/**
 * Removes a path prefix matched by a regular expression before forwarding
 * (Traefik's `stripPrefixRegex`), recording it in `X-Forwarded-Prefix`.
 *
 * Expressions use Go's syntax (RE2, as in Traefik) and are tried in order on
 * the decoded path; the first whose match starts the path wins. The escaped
 * form the client sent is kept for the rest of the path.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     strip-tenant:
 *       stripPrefixRegex:
 *         regex: ["/tenants/[a-z0-9]+/"]
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, headerPairs, rewriteRequest, z } from "../../plugin/mod.ts";
import { compileGoRegexp, goRegexpError } from "../../go/regexp.ts";
import {
  decodePath,
  encodedPrefixLength,
  ensureLeadingSlash,
  toByteString,
  utf8Length,
} from "../_http.ts";
import { FORWARDED_PREFIX_HEADER } from "../strip_prefix/mod.ts";

/** A Go regular expression (surrounding spaces ignored, as Traefik does). */
const goRegExp = z.string().superRefine((value, ctx) => {
  const error = goRegexpError(value.trim());
  if (error) ctx.addIssue({ code: "custom", message: error });
});

/** stripPrefixRegex options (Traefik's names). */
export const stripPrefixRegexConfig = z.strictObject({
  /**
   * Expressions matching the prefix to strip, tried in order. Required.
   * @default {none}
   */
  regex: z.array(goRegExp).min(1, {
    message: "regex is empty: list the expressions matching the prefix, e.g. [/api/v[0-9]+]",
  }),
});
/** Validated stripPrefixRegex options. */
export type StripPrefixRegexConfig = z.output<typeof stripPrefixRegexConfig>;

/** Builds the stripPrefixRegex middleware. */
export function stripPrefixRegex(config: StripPrefixRegexConfig): MiddlewareHandler {
  const expressions = config.regex.map((source) => compileGoRegexp(source.trim()));
  return async function stripPrefixRegex(c, next) {
    const url = new URL(c.req.raw.url);
    const raw = url.pathname;
    const path = decodePath(raw);
    for (const expression of expressions) {
      const match = expression.exec(path);
      const prefix = match?.text;
      if (!prefix || !path.startsWith(prefix)) continue;
      url.pathname = ensureLeadingSlash(raw.slice(encodedPrefixLength(raw, utf8Length(prefix))));
      const headers: [string, string][] = [
        ...headerPairs(c.req.raw.headers),
        [FORWARDED_PREFIX_HEADER, toByteString(prefix)],
      ];
      rewriteRequest(c, { url, headers });
      break;
    }
    await next();
  };
}

/** The stripPrefixRegex plugin. */
export default definePlugin({
  name: "stripPrefixRegex",
  description: "Removes a path prefix matched by a regular expression",
  config: stripPrefixRegexConfig,
  create: (config) => stripPrefixRegex(config),
});
