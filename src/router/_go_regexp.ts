/**
 * Go regular expressions, as Traefik compiles them (`regexp.Compile`).
 *
 * re2js is a JavaScript port of Go's `regexp` (via RE2/J): it accepts and
 * rejects exactly the patterns Go does, with Go's error messages, and it
 * matches in linear time. V8's backtracking `RegExp` would need a syntax
 * translation and can be made to take seconds per request by a pattern like
 * `(a+)+$` on a crafted host; Traefik is immune to that and so must we be.
 *
 * Private to `src/router/`.
 *
 * @module
 */
import { RE2JS } from "re2js";

/** A compiled Go regexp: `test` is Go's `MatchString` (unanchored search). */
export interface GoRegexp {
  test(input: string): boolean;
}

/**
 * Compiles a Go regexp.
 *
 * @param pattern Go (RE2) syntax.
 * @returns The compiled pattern.
 * @throws {SyntaxError} With Go's message, e.g. ``missing closing ): `(a` ``.
 */
export function compileGoRegexp(pattern: string): GoRegexp {
  try {
    return RE2JS.compile(pattern);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(message.replace(/^error parsing regexp: /, ""), { cause: error });
  }
}

/**
 * Go's `regexp.QuoteMeta`: escapes every regexp metacharacter.
 *
 * @param s Literal text.
 * @returns A pattern matching exactly `s`.
 */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}
