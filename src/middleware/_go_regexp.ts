/**
 * Go regular expressions (RE2 syntax, what Traefik's options take) on top of
 * JavaScript's `RegExp`, and Go's `Regexp.ReplaceAllString` template
 * expansion (`$1`, `${1}`, `${name}`, `$$`).
 *
 * The translation covers what Traefik configurations use: leading flag groups
 * (`(?i)`, `(?s)`, `(?m)`), `(?P<name>...)`, `\A`, `\z`, `\Q...\E`, POSIX
 * classes (`[[:alpha:]]`), `\pL` / `\p{Greek}` and escaped punctuation.
 * Constructs RE2 rejects (backreferences, lookaround) are rejected here too,
 * so a configuration accepted by Pacer stays valid for Traefik.
 *
 * Private to `src/middleware/`.
 *
 * @module
 */

const POSIX_CLASSES: Record<string, string> = {
  alnum: "0-9A-Za-z",
  alpha: "A-Za-z",
  ascii: "\\x00-\\x7f",
  blank: "\\t ",
  cntrl: "\\x00-\\x1f\\x7f",
  digit: "0-9",
  graph: "!-~",
  lower: "a-z",
  print: " -~",
  punct: "!-\\/:-@\\[-`{-~",
  space: "\\t\\n\\v\\f\\r ",
  upper: "A-Z",
  word: "0-9A-Za-z_",
  xdigit: "0-9A-Fa-f",
};

// Escapes that keep their meaning in JavaScript (classes, anchors, controls).
const KEPT_LETTER_ESCAPES = new Set([
  "d",
  "D",
  "w",
  "W",
  "s",
  "S",
  "b",
  "B",
  "f",
  "n",
  "r",
  "t",
  "v",
]);

const GENERAL_CATEGORY = /^(?:[CLMNPSZ][a-z]?|Any)$/;

function hex(char: string): string {
  return "\\x" + char.charCodeAt(0).toString(16).padStart(2, "0");
}

function escapeLiteral(char: string): string {
  return /[0-9A-Za-z_]/.test(char) ? char : char.charCodeAt(0) < 0x80 ? hex(char) : char;
}

function unicodeProperty(name: string, negated: boolean): string {
  const body = GENERAL_CATEGORY.test(name) ? (name === "Any" ? "Any" : name) : `Script=${name}`;
  return `\\${negated ? "P" : "p"}{${body}}`;
}

/** A Go pattern translated to a JavaScript source and flags. */
export interface TranslatedRegExp {
  readonly source: string;
  readonly flags: string;
}

/**
 * Translates a Go (RE2) pattern to JavaScript.
 * @throws {SyntaxError} For constructs RE2 or this translation does not support.
 */
export function translateGoRegExp(pattern: string): TranslatedRegExp {
  let flags = "";
  let i = 0;
  for (;;) {
    const lead = /^\(\?([a-zA-Z]+)\)/.exec(pattern.slice(i));
    if (!lead) break;
    for (const f of lead[1]!) {
      if (!"ims".includes(f)) {
        throw new SyntaxError(`flag '${f}' is not supported (supported: i, m, s)`);
      }
      if (!flags.includes(f)) flags += f;
    }
    i += lead[0].length;
  }
  let out = "";
  let unicode = false;
  let inClass = false;
  let classStart = -1;
  // Per open group: how many `(?flags:` wrappers a mid-pattern `(?flags)` opened
  // in it, closed with the group (Go's flags last until the group ends).
  const wraps: number[] = [0];
  while (i < pattern.length) {
    const ch = pattern[i]!;
    if (ch === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new SyntaxError("trailing backslash at end of expression");
      if (next === "p" || next === "P") {
        let name: string;
        let end: number;
        if (pattern[i + 2] === "{") {
          end = pattern.indexOf("}", i + 3);
          if (end < 0) throw new SyntaxError("missing '}' after \\p{");
          name = pattern.slice(i + 3, end);
          end += 1;
        } else {
          name = pattern[i + 2] ?? "";
          end = i + 3;
        }
        let negated = next === "P";
        if (name.startsWith("^")) {
          negated = !negated;
          name = name.slice(1);
        }
        if (!/^[A-Za-z_]+$/.test(name)) throw new SyntaxError(`invalid character class \\${next}`);
        out += unicodeProperty(name, negated);
        unicode = true;
        i = end;
        continue;
      }
      if (!inClass && next === "A") {
        out += "(?<![\\s\\S])";
        i += 2;
        continue;
      }
      if (!inClass && next === "z") {
        out += "(?![\\s\\S])";
        i += 2;
        continue;
      }
      if (next === "Q") {
        const end = pattern.indexOf("\\E", i + 2);
        const literal = pattern.slice(i + 2, end < 0 ? undefined : end);
        for (const c of literal) out += escapeLiteral(c);
        i = end < 0 ? pattern.length : end + 2;
        continue;
      }
      if (next === "x") {
        if (pattern[i + 2] === "{") {
          const end = pattern.indexOf("}", i + 3);
          if (end < 0) throw new SyntaxError("missing '}' after \\x{");
          out += `\\u{${pattern.slice(i + 3, end)}}`;
          unicode = true;
          i = end + 1;
        } else {
          out += pattern.slice(i, i + 4);
          i += 4;
        }
        continue;
      }
      if (/[1-9]/.test(next)) {
        throw new SyntaxError(
          `backreferences (\\${next}) are not supported by Go regular expressions`,
        );
      }
      if (next === "a") out += "\\x07";
      else if (next === "0") out += "\\x00";
      else if (/[A-Za-z]/.test(next)) {
        if (!KEPT_LETTER_ESCAPES.has(next)) {
          throw new SyntaxError(`invalid escape sequence \\${next}`);
        }
        out += "\\" + next;
      } else out += escapeLiteral(next);
      i += 2;
      continue;
    }
    if (inClass) {
      if (ch === "[" && pattern[i + 1] === ":") {
        const end = pattern.indexOf(":]", i + 2);
        if (end > 0) {
          let name = pattern.slice(i + 2, end);
          const negated = name.startsWith("^");
          if (negated) name = name.slice(1);
          const range = POSIX_CLASSES[name];
          if (range === undefined) throw new SyntaxError(`invalid character class [:${name}:]`);
          if (negated) {
            throw new SyntaxError(`negated POSIX class [:^${name}:] is not supported`);
          }
          out += range;
          i = end + 2;
          continue;
        }
      }
      if (ch === "]" && i !== classStart) {
        inClass = false;
        out += "]";
      } else if (ch === "]" || ch === "[") {
        // Go takes `]` right after `[` (or `[^`) literally, and `[` inside a class.
        out += "\\" + ch;
      } else out += ch;
      i++;
      continue;
    }
    if (ch === "[") {
      inClass = true;
      out += "[";
      i++;
      if (pattern[i] === "^") {
        out += "^";
        i++;
      }
      classStart = i;
      continue;
    }
    if (ch === "(" && pattern[i + 1] === "?") {
      const rest = pattern.slice(i + 2);
      if (rest.startsWith("P<")) {
        out += "(?<";
        wraps.push(0);
        i += 4;
        continue;
      }
      if (/^(?:=|!|<=|<!)/.test(rest)) {
        throw new SyntaxError("lookaround assertions are not supported by Go regular expressions");
      }
      const modifiers = /^([a-zA-Z]*)(?:-([a-zA-Z]*))?([:)])/.exec(rest);
      if (modifiers && (modifiers[1] || modifiers[2])) {
        for (const f of (modifiers[1] ?? "") + (modifiers[2] ?? "")) {
          if (!"ims".includes(f)) {
            throw new SyntaxError(`flag '${f}' is not supported (supported: i, m, s)`);
          }
        }
        if (modifiers[3] === ")") {
          out += `(?${modifiers[1] ?? ""}${modifiers[2] ? "-" + modifiers[2] : ""}:`;
          wraps[wraps.length - 1] = (wraps[wraps.length - 1] ?? 0) + 1;
          i += 2 + modifiers[0].length;
          continue;
        }
      }
    }
    if (ch === "(") wraps.push(0);
    else if (ch === ")") {
      if (wraps.length === 1) throw new SyntaxError("unexpected )");
      out += ")".repeat(wraps.pop()!);
    } else if (ch === "|" && wraps[wraps.length - 1]! > 0) {
      throw new SyntaxError(
        "an alternation (|) after a flag group like (?i) is not supported; use (?i:...)",
      );
    }
    out += ch;
    i++;
  }
  if (inClass) throw new SyntaxError("missing closing ]");
  if (wraps.length > 1) throw new SyntaxError("missing closing )");
  out += ")".repeat(wraps[0]!);
  return { source: out, flags: flags + (unicode ? "u" : "") };
}

/**
 * Compiles a Go (RE2) pattern.
 *
 * @param pattern The Go pattern, e.g. `^(?i)/api/(?P<rest>.*)`.
 * @param global Compile with the `g` flag (for replace-all).
 * @throws {SyntaxError} With a message naming the pattern and the problem.
 */
export function compileGoRegExp(pattern: string, global = false): RegExp {
  try {
    const { source, flags } = translateGoRegExp(pattern);
    return new RegExp(source, global ? flags + "g" : flags);
  } catch (error) {
    const reason = (error as Error).message.replace(
      /^Invalid regular expression: \/.*\/[a-z]*: /,
      "",
    );
    throw new SyntaxError(`invalid regular expression "${pattern}": ${reason}`, { cause: error });
  }
}

/** Returns why `pattern` is not a valid Go regular expression, or `undefined`. */
export function goRegExpError(pattern: string): string | undefined {
  try {
    compileGoRegExp(pattern);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

type TemplatePart = string | { readonly group: number } | { readonly name: string };

/** A parsed Go replacement template (`$1`, `${1}`, `${name}`, `$$`). */
export type GoTemplate = readonly TemplatePart[];

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

function expand(template: GoTemplate, match: RegExpExecArray): string {
  let out = "";
  for (const part of template) {
    if (typeof part === "string") out += part;
    else if ("group" in part) out += match[part.group] ?? "";
    else out += match.groups?.[part.name] ?? "";
  }
  return out;
}

/**
 * Go's `Regexp.ReplaceAllString`: replaces every match of `regexp` (compiled
 * with the `g` flag) in `input`, expanding `template` for each.
 */
export function replaceAllGo(regexp: RegExp, input: string, template: GoTemplate): string {
  regexp.lastIndex = 0;
  let out = "";
  let last = 0;
  for (let m = regexp.exec(input); m !== null; m = regexp.exec(input)) {
    out += input.slice(last, m.index) + expand(template, m);
    last = m.index + m[0].length;
    if (m[0].length === 0) regexp.lastIndex++;
  }
  regexp.lastIndex = 0;
  return out + input.slice(last);
}
