/**
 * Escapes a request path may not carry: Traefik's `encodedCharacters`, both
 * the entrypoint option (`http.encodedCharacters`, everything allowed by
 * default, as Traefik since v3.6.7) and the middleware of the same name
 * (everything refused by default).
 *
 * `%2F`, `%5C`, `%00`, `%3B`, `%25`, `%3F` and `%23` mean one thing to a
 * proxy that routes on the escaped path and another to a backend that
 * decodes first: `/public%2F..%2Fadmin` is one segment to the router and
 * `/admin` to some servers. Refusing them closes that split view for
 * backends that are not strict about RFC 3986.
 *
 * Independently of the options, a path with a malformed escape (`%zz`, a
 * `%` without two hex digits) is refused, as Go's HTTP server (and so
 * Traefik) refuses it before any handler runs.
 *
 * @module
 */
import { z } from "zod";
import { pathOf } from "./chain.ts";

/** Which reserved escapes a path may carry. */
export interface EncodedCharactersOptions {
  /** `%2F`: `/`. */
  readonly allowEncodedSlash: boolean;
  /** `%5C`: `\`. */
  readonly allowEncodedBackSlash: boolean;
  /** `%00`: NUL. */
  readonly allowEncodedNullCharacter: boolean;
  /** `%3B`: `;`. */
  readonly allowEncodedSemicolon: boolean;
  /** `%25`: `%` itself (double encoding). */
  readonly allowEncodedPercent: boolean;
  /** `%3F`: `?`. */
  readonly allowEncodedQuestionMark: boolean;
  /** `%23`: `#`. */
  readonly allowEncodedHash: boolean;
}

/** The escape (upper-case hex) each option governs, in the order Traefik lists them. */
const GOVERNED: Readonly<Record<keyof EncodedCharactersOptions, string>> = {
  allowEncodedSlash: "2F",
  allowEncodedBackSlash: "5C",
  allowEncodedNullCharacter: "00",
  allowEncodedSemicolon: "3B",
  allowEncodedPercent: "25",
  allowEncodedQuestionMark: "3F",
  allowEncodedHash: "23",
};

const OPTION_NAMES = Object.keys(GOVERNED) as (keyof EncodedCharactersOptions)[];

/**
 * The options' schema: seven booleans, each defaulting to `allowByDefault`
 * (`true` for the entrypoint option, `false` for the middleware, as Traefik).
 */
export function encodedCharactersSchema(
  allowByDefault: boolean,
): z.ZodType<
  EncodedCharactersOptions,
  { [K in keyof EncodedCharactersOptions]?: boolean | undefined }
> {
  const flag = () => z.boolean().default(allowByDefault);
  return z.strictObject({
    allowEncodedSlash: flag(),
    allowEncodedBackSlash: flag(),
    allowEncodedNullCharacter: flag(),
    allowEncodedSemicolon: flag(),
    allowEncodedPercent: flag(),
    allowEncodedQuestionMark: flag(),
    allowEncodedHash: flag(),
  });
}

/**
 * The escapes `options` refuse, as upper-case hex without the `%` (`"2F"`).
 * Empty when everything is allowed.
 */
export function deniedEscapes(options: EncodedCharactersOptions): ReadonlySet<string> {
  const denied = new Set<string>();
  for (const name of OPTION_NAMES) if (!options[name]) denied.add(GOVERNED[name]);
  return denied;
}

/** Why a path is refused. */
export interface PathEscapeProblem {
  /** `malformed`: not `%` and two hex digits; `denied`: an escape the options refuse. */
  readonly kind: "malformed" | "denied";
  /** The escape as it appears in the path (`%2f`, or `%z` for a malformed one). */
  readonly escape: string;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

/**
 * The first escape in the path of `url` that is malformed or in `denied`;
 * `undefined` when the path is acceptable. The query is not looked at.
 * Costs one `includes` for a URL without `%`.
 *
 * @param url An absolute request URL (`http://host/path?query`).
 * @param denied From {@linkcode deniedEscapes}.
 */
export function pathEscapeProblem(
  url: string,
  denied: ReadonlySet<string>,
): PathEscapeProblem | undefined {
  if (!url.includes("%")) return undefined;
  const path = pathOf(url);
  const end = path.length;
  for (let i = path.indexOf("%"); i >= 0; i = path.indexOf("%", i + 3)) {
    if (i + 2 >= end || !isHex(path.charCodeAt(i + 1)) || !isHex(path.charCodeAt(i + 2))) {
      return { kind: "malformed", escape: path.slice(i, i + 3) };
    }
    if (denied.size > 0 && denied.has(path.slice(i + 1, i + 3).toUpperCase())) {
      return { kind: "denied", escape: path.slice(i, i + 3) };
    }
  }
  return undefined;
}
