/**
 * Go regular expressions, as Traefik compiles them (`regexp.Compile`), for
 * every place Pacer reads one: router rules (`HostRegexp`, `PathRegexp`,
 * ...), middlewares (`stripPrefixRegex`, `replacePathRegex`,
 * `redirectRegex`, CORS origin lists, forwardAuth header filters) and
 * Marathon constraints (`LabelRegex`).
 *
 * Backed by re2js, a JavaScript port of Go's `regexp`: it accepts and
 * rejects exactly the patterns Go does, with Go's error messages, and
 * matches in **linear time**. V8's backtracking `RegExp` would need a syntax
 * translation and can be made to spend seconds per request on a crafted path
 * or host by a pattern such as `(a+)+$`; Traefik is immune, so Pacer must be.
 *
 * @module
 */
import { RE2JS } from "re2js";

/** One match: its span and groups (by number or name). */
export interface GoMatch {
  /** Start offset in the input. */
  readonly index: number;
  /** End offset (exclusive). */
  readonly end: number;
  /** The whole match. */
  readonly text: string;
  /** A group's text; `undefined` when it did not take part. */
  group(key: number | string): string | undefined;
}

type TemplatePart = string | { readonly group: number } | { readonly name: string };

/** A parsed Go replacement template (`$1`, `${1}`, `${name}`, `$$`). */
export type GoTemplate = readonly TemplatePart[];

/** A compiled Go regexp. */
export class GoRegexp {
  /** The pattern as written. */
  readonly source: string;
  readonly #re: RE2JS;

  constructor(source: string, re: RE2JS) {
    this.source = source;
    this.#re = re;
  }

  /** Go's `MatchString`: an unanchored search. */
  test(input: string): boolean {
    return this.#re.test(input);
  }

  /** The leftmost match, or `null`. */
  exec(input: string): GoMatch | null {
    const m = this.#re.matcher(input);
    return m.find() ? snapshot(m) : null;
  }

  /** Go's `ReplaceAllString`: replaces every match, expanding `template` for each. */
  replaceAll(input: string, template: GoTemplate): string {
    const m = this.#re.matcher(input);
    let out = "";
    let last = 0;
    while (m.find()) {
      const match = snapshot(m);
      out += input.slice(last, match.index) + expand(template, match);
      last = match.end;
    }
    return out + input.slice(last);
  }
}

// deno-lint-ignore no-explicit-any
function snapshot(m: any): GoMatch {
  const index: number = m.start();
  const end: number = m.end();
  const groups: (string | undefined)[] = [];
  for (let i = 0; i <= m.groupCount(); i++) groups.push(m.group(i) ?? undefined);
  const named: Record<string, string | undefined> = {};
  for (const name of Object.keys(m.namedGroupsObject?.() ?? {})) {
    named[name] = m.group(name) ?? undefined;
  }
  return {
    index,
    end,
    text: groups[0] ?? "",
    group: (key) => typeof key === "number" ? groups[key] : named[key],
  };
}

/**
 * Compiles a Go regexp.
 * @param pattern Go (RE2) syntax.
 * @throws {SyntaxError} With Go's message, e.g. ``missing closing ): `(a` ``.
 */
export function compileGoRegexp(pattern: string): GoRegexp {
  try {
    return new GoRegexp(pattern, RE2JS.compile(pattern));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new SyntaxError(message.replace(/^error parsing regexp: /, ""), { cause: error });
  }
}

/** Why `pattern` is not a valid Go regexp, or `undefined` (for schema refinements). */
export function goRegexpError(pattern: string): string | undefined {
  try {
    compileGoRegexp(pattern);
    return undefined;
  } catch (error) {
    return `invalid regular expression "${pattern}": ${(error as Error).message}`;
  }
}

/**
 * Go's `regexp.QuoteMeta`: escapes every regexp metacharacter.
 * @returns A pattern matching exactly `s`.
 */
export function quoteMeta(s: string): string {
  return s.replace(/[\\.+*?()|[\]{}^$]/g, "\\$&");
}

/** Parses a replacement template the way Go's `Regexp.Expand` reads it. */
export function parseGoTemplate(template: string): GoTemplate {
  const parts: TemplatePart[] = [];
  let literal = "";
  let i = 0;
  while (i < template.length) {
    const dollar = template.indexOf("$", i);
    if (dollar < 0) {
      literal += template.slice(i);
      break;
    }
    literal += template.slice(i, dollar);
    i = dollar + 1;
    if (template[i] === "$") {
      literal += "$";
      i++;
      continue;
    }
    let name: string | undefined;
    if (template[i] === "{") {
      const end = template.indexOf("}", i + 1);
      const candidate = end < 0 ? "" : template.slice(i + 1, end);
      if (/^\w+$/.test(candidate)) {
        name = candidate;
        i = end + 1;
      }
    } else {
      // Go takes the longest name: `$1x` is `${1x}`, not `${1}x`.
      const m = /^\w+/.exec(template.slice(i));
      if (m) {
        name = m[0];
        i += name.length;
      }
    }
    if (name === undefined) {
      literal += "$";
      continue;
    }
    if (literal) parts.push(literal);
    literal = "";
    parts.push(/^\d+$/.test(name) ? { group: Number(name) } : { name });
  }
  if (literal) parts.push(literal);
  return parts;
}

function expand(template: GoTemplate, match: GoMatch): string {
  let out = "";
  for (const part of template) {
    if (typeof part === "string") out += part;
    else if ("group" in part) out += match.group(part.group) ?? "";
    else out += match.group(part.name) ?? "";
  }
  return out;
}
