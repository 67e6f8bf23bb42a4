/**
 * Rewrites the request path with a regular expression before forwarding
 * (Traefik's `replacePathRegex`), recording the original in
 * `X-Replaced-Path`.
 *
 * `regex` (Go syntax, as in Traefik) is matched against the escaped path;
 * when it matches, every match is replaced by `replacement`, where `$1`,
 * `${1}` and `${name}` insert capture groups and `$$` a dollar sign. A
 * replacement that produces a malformed escape (`%zz`) answers 500.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     who-am-i:
 *       replacePathRegex:
 *         regex: ^/whoami/(.*)
 *         replacement: /who-am-i/$1
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, headerPairs, rewriteRequest, z } from "../../plugin/mod.ts";
import { compileGoRegexp, goRegexpError, parseGoTemplate } from "../../go/regexp.ts";
import { pathUnescapeError, textResponse } from "../_http.ts";
import { REPLACED_PATH_HEADER } from "../replace_path/mod.ts";

/** replacePathRegex options (Traefik's names; both trimmed of spaces). */
export const replacePathRegexConfig = z.strictObject({
  /**
   * Go regular expression matched against the escaped path. Required.
   * @default {none}
   */
  regex: z.string().superRefine((value, ctx) => {
    const error = goRegexpError(value.trim());
    if (error) ctx.addIssue({ code: "custom", message: error });
  }),
  /**
   * The new path; `$1`, `${1}`, `${name}` insert groups. Required.
   * @default {none}
   */
  replacement: z.string(),
});
/** Validated replacePathRegex options. */
export type ReplacePathRegexConfig = z.output<typeof replacePathRegexConfig>;

/** Builds the replacePathRegex middleware. */
export function replacePathRegex(config: ReplacePathRegexConfig): MiddlewareHandler {
  const regexp = compileGoRegexp(config.regex.trim());
  const template = parseGoTemplate(config.replacement.trim());
  return async function replacePathRegex(c, next) {
    const url = new URL(c.req.raw.url);
    const current = url.pathname;
    if (regexp.test(current)) {
      const replaced = regexp.replaceAll(current, template);
      const error = pathUnescapeError(replaced);
      if (error) return textResponse(500, error);
      const headers: [string, string][] = [
        ...headerPairs(c.req.raw.headers),
        [REPLACED_PATH_HEADER, current],
      ];
      url.pathname = replaced;
      rewriteRequest(c, { url, headers });
    }
    await next();
  };
}

/** The replacePathRegex plugin. */
export default definePlugin({
  name: "replacePathRegex",
  description: "Rewrites the request path with a regular expression",
  config: replacePathRegexConfig,
  create: (config) => replacePathRegex(config),
});
