/**
 * Route templates of Traefik v2 rules, as gorilla/mux (Traefik's fork,
 * containous/mux) builds them: `/articles/{id:[0-9]+}`, `{sub}.example.com`,
 * `page={n}`.
 *
 * A template is literal text with `{name}` or `{name:pattern}` variables.
 * The literal parts are quoted, each variable becomes a group with its
 * pattern (default: up to the next `/` for paths, `.` for hosts, anything for
 * query values), and the whole is anchored: `^...$`, or only `^...` for a
 * path prefix. Host templates match case-insensitively.
 *
 * @module
 */
import { compileGoRegexp, type GoRegexp, quoteMeta } from "../go/regexp.ts";

/** What a template matches. */
export type TemplateKind = "host" | "path" | "prefix" | "query";

/** A compiled template. */
export interface Template {
  readonly regexp: GoRegexp;
  /** The template itself when it has no variable (a plain literal). */
  readonly literal: string | undefined;
  /** The literal text before the first variable (the whole template if none). */
  readonly leadingLiteral: string;
  /** Variable names, in order. */
  readonly variables: readonly string[];
}

const DEFAULT_PATTERN: Record<TemplateKind, string> = {
  host: "[^.]+",
  path: "[^/]+",
  prefix: "[^/]+",
  query: ".*",
};

/** Finds first-level brace pairs, as mux's `braceIndices`. */
function braceIndices(tpl: string): number[] {
  let level = 0;
  let start = 0;
  const idxs: number[] = [];
  for (let i = 0; i < tpl.length; i++) {
    const c = tpl[i];
    if (c === "{") {
      if (++level === 1) start = i;
    } else if (c === "}") {
      if (--level === 0) idxs.push(start, i + 1);
      else if (level < 0) throw new SyntaxError(`unbalanced braces in "${tpl}"`);
    }
  }
  if (level !== 0) throw new SyntaxError(`unbalanced braces in "${tpl}"`);
  return idxs;
}

/**
 * Compiles a template as mux's `newRouteRegexp` (strict slash off, as in
 * Traefik).
 *
 * @param tpl The template.
 * @param kind What it matches.
 * @returns The compiled template.
 * @throws {SyntaxError} On unbalanced braces, an empty variable name or
 *   pattern, a path not starting with `/`, or an invalid Go regexp.
 */
export function compileTemplate(tpl: string, kind: TemplateKind): Template {
  if ((kind === "path" || kind === "prefix") && tpl.length > 0 && tpl[0] !== "/") {
    throw new SyntaxError(`path must start with a slash, got "${tpl}"`);
  }
  const idxs = braceIndices(tpl);
  let pattern = kind === "host" ? "(?i)^" : "^";
  const variables: string[] = [];
  let end = 0;
  for (let i = 0; i < idxs.length; i += 2) {
    const raw = tpl.slice(end, idxs[i]);
    end = idxs[i + 1]!;
    const inner = tpl.slice(idxs[i]! + 1, end - 1);
    const colon = inner.indexOf(":");
    const name = colon < 0 ? inner : inner.slice(0, colon);
    const patt = colon < 0 ? DEFAULT_PATTERN[kind] : inner.slice(colon + 1);
    if (name === "" || patt === "") {
      throw new SyntaxError(`missing name or pattern in "${tpl.slice(idxs[i], end)}"`);
    }
    // mux compiles each variable pattern on its own (`^patt$`), which rejects
    // patterns that would only be valid spliced into the whole expression.
    compileGoRegexp(`^${patt}$`);
    pattern += `${quoteMeta(raw)}(?P<v${i / 2}>${patt})`;
    variables.push(name);
  }
  pattern += quoteMeta(tpl.slice(end));
  if (kind === "query" && tpl.slice(tpl.indexOf("=") + 1) === "") {
    // `key=` matches any value of the key.
    pattern += DEFAULT_PATTERN.query;
  }
  if (kind !== "prefix") pattern += "$";
  return {
    regexp: compileGoRegexp(pattern),
    literal: idxs.length === 0 ? tpl : undefined,
    leadingLiteral: idxs.length === 0 ? tpl : tpl.slice(0, idxs[0]),
    variables,
  };
}
