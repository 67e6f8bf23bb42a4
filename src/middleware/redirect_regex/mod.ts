/**
 * Redirects the client to a URL computed with a regular expression
 * (Traefik's `redirectRegex`).
 *
 * `regex` (Go syntax, as in Traefik) is matched against the full request URL
 * (`scheme://host[:port]/path?query`, the host as sent in `Host`; the scheme
 * is `https` on a TLS connection). When it matches, every match is replaced
 * by `replacement`, where `$1`, `${1}` and `${name}` insert capture groups.
 * A URL that does not change is passed on instead of redirected (no loop).
 * GET requests get 302 (301 if `permanent`), other methods 307 (308).
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     to-www:
 *       redirectRegex:
 *         regex: ^https?://example\.com/(.*)
 *         replacement: https://www.example.com/${1}
 *         permanent: true
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, z } from "../../plugin/mod.ts";
import { compileGoRegexp, goRegexpError, parseGoTemplate } from "../../go/regexp.ts";
import { isTLS, redirectResponse, requestHost, requestURI, textResponse } from "../_http.ts";

/** redirectRegex options (Traefik's names and defaults). */
export const redirectRegexConfig = z.strictObject({
  /**
   * Go regular expression matched against the request URL. Required.
   * @default {none}
   */
  regex: z.string().min(1, { message: "regex cannot be empty" }).superRefine((value, ctx) => {
    const error = goRegexpError(value);
    if (error) ctx.addIssue({ code: "custom", message: error });
  }),
  /**
   * The redirect URL; `$1`, `${1}`, `${name}` insert groups. Required.
   * @default {none}
   */
  replacement: z.string().min(1, { message: "replacement cannot be empty" }),
  /**
   * Answer 301/308 instead of 302/307.
   * @default {false}
   */
  permanent: z.boolean().default(false),
});
/** Validated redirectRegex options. */
export type RedirectRegexConfig = z.output<typeof redirectRegexConfig>;

/** Builds the redirectRegex middleware. */
export function redirectRegex(config: RedirectRegexConfig): MiddlewareHandler {
  const regexp = compileGoRegexp(config.regex);
  const template = parseGoTemplate(config.replacement);
  const { permanent } = config;
  return async function redirectRegex(c, next) {
    const oldURL = `${isTLS(c) ? "https" : "http"}://${requestHost(c)}${requestURI(c)}`;
    if (regexp.test(oldURL)) {
      const newURL = regexp.replaceAll(oldURL, template);
      if (newURL !== oldURL) {
        // Traefik answers 502 when the rewritten URL does not parse.
        if (!URL.canParse(newURL, oldURL)) return textResponse(502);
        return redirectResponse(c.req.method, newURL, permanent);
      }
    }
    await next();
  };
}

/** The redirectRegex plugin. */
export default definePlugin({
  name: "redirectRegex",
  description: "Redirects to a URL computed with a regular expression",
  config: redirectRegexConfig,
  create: (config) => redirectRegex(config),
});
