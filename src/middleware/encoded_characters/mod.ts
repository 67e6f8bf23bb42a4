/**
 * Refuses requests whose path carries reserved escapes that backends may
 * decode differently from Pacer (Traefik's `encodedCharacters` middleware):
 * `%2F`, `%5C`, `%00`, `%3B`, `%25`, `%3F` and `%23`, in either case, each
 * refused unless its option allows it. A refused request gets
 * `400 Bad Request` and never reaches the service.
 *
 * The same check exists per entrypoint (`http.encodedCharacters` in the
 * static configuration), where everything is allowed by default; this
 * middleware tightens it for the routers that use it, and refuses
 * everything by default.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     strict-path:
 *       encodedCharacters:
 *         allowEncodedSlash: true   # this API uses %2F in identifiers
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin } from "../../plugin/mod.ts";
import {
  deniedEscapes,
  type EncodedCharactersOptions,
  encodedCharactersSchema,
  pathEscapeProblem,
} from "../../server/encoded_characters.ts";
import { type Logger, silentLogger } from "../../log/logger.ts";

/** encodedCharacters options (Traefik's names): each `false` (refused) by default. */
export const encodedCharactersConfig = encodedCharactersSchema(false);

/** Builds the middleware. */
export function encodedCharacters(
  config: EncodedCharactersOptions,
  log: Logger = silentLogger,
): MiddlewareHandler {
  const denied = deniedEscapes(config);
  // Everything allowed: nothing to check (the entrypoint already refused malformed escapes).
  if (denied.size === 0) return (_c, next) => next();
  return async function encodedCharacters(c, next) {
    const problem = pathEscapeProblem(c.req.raw.url, denied);
    if (problem) {
      log.debug("Request refused: escape not allowed in the path", {
        escape: problem.escape,
        path: c.req.path,
      });
      return new Response("Bad Request", {
        status: 400,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    await next();
  };
}

export default definePlugin({
  name: "encodedCharacters",
  description: "Refuses request paths carrying reserved escapes such as %2F or %00 (400)",
  config: encodedCharactersConfig,
  create: (config, ctx) => encodedCharacters(config, ctx.log),
});
