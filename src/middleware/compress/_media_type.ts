/**
 * Media types as Go's `mime.ParseMediaType` reads them, and the matching
 * rule of Traefik's compress middleware (a listed type without parameters
 * matches any parameters; with parameters, they must be identical).
 *
 * @module
 */

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A parsed media type: lower-case `type/subtype` and parameters. */
export interface MediaType {
  readonly type: string;
  readonly params: ReadonlyMap<string, string>;
}

/**
 * Parses `text/html; charset=utf-8`.
 * @throws {SyntaxError} If the value is not a media type.
 */
export function parseMediaType(value: string): MediaType {
  const semicolon = value.indexOf(";");
  const type = (semicolon < 0 ? value : value.slice(0, semicolon)).trim().toLowerCase();
  const slash = type.indexOf("/");
  if (!TOKEN.test(slash < 0 ? type : type.slice(0, slash))) {
    throw new SyntaxError(`'${value}' is not a media type (expected e.g. text/html)`);
  }
  if (slash >= 0 && !TOKEN.test(type.slice(slash + 1))) {
    throw new SyntaxError(`'${value}' has an invalid subtype`);
  }
  const params = new Map<string, string>();
  let rest = semicolon < 0 ? "" : value.slice(semicolon + 1);
  while (rest.trim() !== "") {
    const m = /^\s*([^\s=;]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^\s;]*)\s*(?:;|$)/.exec(rest);
    if (!m || !TOKEN.test(m[1]!)) {
      throw new SyntaxError(`'${value}' has an invalid parameter`);
    }
    const key = m[1]!.toLowerCase();
    let val = m[2]!;
    if (val.startsWith('"')) val = val.slice(1, -1).replace(/\\(.)/g, "$1");
    else if (!TOKEN.test(val)) throw new SyntaxError(`'${value}' has an invalid parameter value`);
    if (params.has(key)) throw new SyntaxError(`'${value}' has a duplicate parameter '${key}'`);
    params.set(key, val);
    rest = rest.slice(m[0].length);
  }
  return { type, params };
}

/** Parses, or returns `undefined` when the value is not a media type. */
export function tryParseMediaType(value: string): MediaType | undefined {
  try {
    return parseMediaType(value);
  } catch {
    return undefined;
  }
}

/** Whether the configured `pattern` matches the response's `actual` type. */
export function mediaTypeMatches(pattern: MediaType, actual: MediaType): boolean {
  if (pattern.type !== actual.type) return false;
  if (pattern.params.size === 0) return true;
  if (pattern.params.size !== actual.params.size) return false;
  for (const [key, value] of pattern.params) {
    if (actual.params.get(key) !== value) return false;
  }
  return true;
}
