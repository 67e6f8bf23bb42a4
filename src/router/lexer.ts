/**
 * Tokenizer for Traefik rules.
 *
 * Traefik parses rules with `go/parser.ParseExpr` (through vulcand/predicate),
 * so a rule is a Go expression: identifiers, backquoted (raw) or double-quoted
 * (interpreted) string literals with Go's escapes, `(`, `)`, `,`, `&&`, `||`,
 * `!`, Go comments, and Go's automatic semicolon insertion at line ends. This
 * lexer reproduces the parts of Go's scanner that decide whether a rule is
 * accepted; every other Go token becomes an `other` token the parser rejects
 * with a located message.
 *
 * @module
 */
import { RuleSyntaxError } from "./errors.ts";

/** Kinds of tokens. */
export type TokenKind =
  | "ident"
  | "string"
  | "lparen"
  | "rparen"
  | "comma"
  | "and"
  | "or"
  | "not"
  /** A line break where Go's scanner inserts a semicolon: it ends the expression. */
  | "newline"
  | "number"
  /** A Go rune literal such as `'a'`: predicate rejects it as an argument. */
  | "char"
  | "other"
  | "eof";

/** One token of a rule. */
export interface Token {
  readonly kind: TokenKind;
  /** The source text of the token. */
  readonly text: string;
  /** For `string` tokens, the unquoted value. */
  readonly value: string;
  /** 1-based column (code points) of the token's first character. */
  readonly column: number;
}

const utf8Decoder = new TextDecoder("utf-8", { fatal: false });
const utf8Encoder = new TextEncoder();

function isLetter(ch: string): boolean {
  return ch === "_" || /^\p{L}$/u.test(ch);
}

function isDigit(ch: string): boolean {
  return /^\p{Nd}$/u.test(ch);
}

function isHex(ch: string | undefined): boolean {
  return ch !== undefined && /^[0-9A-Fa-f]$/.test(ch);
}

/**
 * Splits a rule into tokens, unquoting string literals.
 *
 * @param rule The rule as written.
 * @returns The tokens, ending with one `eof` token.
 * @throws {RuleSyntaxError} On an unterminated string or comment, or an invalid
 *   escape in a double-quoted string.
 */
export function tokenize(rule: string): Token[] {
  // Work on code points so that columns count characters, not UTF-16 units.
  const chars = Array.from(rule);
  const tokens: Token[] = [];
  let i = 0;
  // Go inserts a semicolon at a line break that follows an identifier, a
  // literal or a closing parenthesis (the Go spec, "Semicolons").
  let insertSemi = false;

  const fail = (reason: string, at: number): never => {
    throw new RuleSyntaxError(reason, { rule, column: at + 1 });
  };
  const push = (kind: TokenKind, start: number, value = ""): void => {
    tokens.push({ kind, text: chars.slice(start, i).join(""), value, column: start + 1 });
    insertSemi = kind === "ident" || kind === "string" || kind === "number" ||
      kind === "char" || kind === "rparen";
  };

  while (i < chars.length) {
    const ch = chars[i]!;
    const start = i;
    if (ch === "\n") {
      if (insertSemi) {
        i++;
        push("newline", start);
        insertSemi = false;
        continue;
      }
      i++;
      continue;
    }
    if (ch === " " || ch === "\t" || ch === "\r") {
      i++;
      continue;
    }
    if (ch === "/" && chars[i + 1] === "/") {
      // A line comment runs to the line break, which is then scanned as usual.
      while (i < chars.length && chars[i] !== "\n") i++;
      continue;
    }
    if (ch === "/" && chars[i + 1] === "*") {
      i += 2;
      let sawNewline = false;
      while (i < chars.length && !(chars[i] === "*" && chars[i + 1] === "/")) {
        if (chars[i] === "\n") sawNewline = true;
        i++;
      }
      if (i >= chars.length) fail("comment not terminated: expected '*/'", start);
      i += 2;
      // A general comment containing a line break acts like a line break.
      if (sawNewline && insertSemi) {
        push("newline", start);
        insertSemi = false;
      }
      continue;
    }
    if (isLetter(ch)) {
      while (i < chars.length && (isLetter(chars[i]!) || isDigit(chars[i]!))) i++;
      push("ident", start);
      continue;
    }
    if (isDigit(ch) || (ch === "." && isDigit(chars[i + 1] ?? ""))) {
      // Any Go number literal: only its extent matters, it is rejected later.
      while (i < chars.length && /^[0-9A-Za-z_.]$/.test(chars[i]!)) i++;
      push("number", start);
      continue;
    }
    if (ch === "`") {
      i++;
      let value = "";
      while (i < chars.length && chars[i] !== "`") {
        // Go drops carriage returns from raw string literals.
        if (chars[i] !== "\r") value += chars[i];
        i++;
      }
      if (i >= chars.length) fail("raw string not terminated: expected '`'", start);
      i++;
      push("string", start, value);
      continue;
    }
    if (ch === '"') {
      i++;
      const value = readInterpreted(chars, i, rule, start);
      i = value.end;
      push("string", start, value.value);
      continue;
    }
    if (ch === "'") {
      i++;
      while (i < chars.length && chars[i] !== "'" && chars[i] !== "\n") {
        if (chars[i] === "\\") i++;
        i++;
      }
      if (chars[i] === "'") i++;
      push("char", start);
      continue;
    }
    i++;
    switch (ch) {
      case "(":
        push("lparen", start);
        break;
      case ")":
        push("rparen", start);
        break;
      case ",":
        push("comma", start);
        break;
      case "&":
        if (chars[i] === "&") {
          i++;
          push("and", start);
        } else push("other", start);
        break;
      case "|":
        if (chars[i] === "|") {
          i++;
          push("or", start);
        } else push("other", start);
        break;
      case "!":
        // `!=` is one Go token (not-equal), which predicate does not support.
        if (chars[i] === "=") {
          i++;
          push("other", start);
        } else push("not", start);
        break;
      default:
        push("other", start);
    }
  }
  tokens.push({ kind: "eof", text: "", value: "", column: chars.length + 1 });
  return tokens;
}

interface Unquoted {
  readonly value: string;
  /** Index just past the closing quote. */
  readonly end: number;
}

/** Reads a Go interpreted string literal body, starting after the opening quote. */
function readInterpreted(chars: string[], from: number, rule: string, start: number): Unquoted {
  const fail = (reason: string, at: number): never => {
    throw new RuleSyntaxError(reason, { rule, column: at + 1 });
  };
  // Go strings are byte strings: \x and octal escapes insert raw bytes, so the
  // value is assembled as UTF-8 and decoded at the end.
  const bytes: number[] = [];
  const addText = (text: string) => {
    for (const b of utf8Encoder.encode(text)) bytes.push(b);
  };
  let i = from;
  for (;;) {
    const ch = chars[i];
    if (ch === undefined || ch === "\n") {
      fail("string not terminated: expected '\"'", start);
    }
    if (ch === '"') break;
    if (ch !== "\\") {
      addText(ch!);
      i++;
      continue;
    }
    const escapeAt = i;
    const e = chars[i + 1];
    i += 2;
    switch (e) {
      case "a":
        bytes.push(0x07);
        break;
      case "b":
        bytes.push(0x08);
        break;
      case "f":
        bytes.push(0x0c);
        break;
      case "n":
        bytes.push(0x0a);
        break;
      case "r":
        bytes.push(0x0d);
        break;
      case "t":
        bytes.push(0x09);
        break;
      case "v":
        bytes.push(0x0b);
        break;
      case "\\":
        bytes.push(0x5c);
        break;
      case '"':
        bytes.push(0x22);
        break;
      case "x": {
        const hex = chars.slice(i, i + 2);
        if (hex.length !== 2 || !hex.every(isHex)) {
          fail("invalid escape in string: expected \\x and two hex digits", escapeAt);
        }
        bytes.push(parseInt(hex.join(""), 16));
        i += 2;
        break;
      }
      case "u":
      case "U": {
        const n = e === "u" ? 4 : 8;
        const hex = chars.slice(i, i + n);
        if (hex.length !== n || !hex.every(isHex)) {
          fail(`invalid escape in string: expected \\${e} and ${n} hex digits`, escapeAt);
        }
        const cp = parseInt(hex.join(""), 16);
        if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
          fail("invalid escape in string: not a valid Unicode code point", escapeAt);
        }
        addText(String.fromCodePoint(cp));
        i += n;
        break;
      }
      default: {
        if (e !== undefined && e >= "0" && e <= "7") {
          const oct = chars.slice(i - 1, i + 2);
          if (oct.length !== 3 || !oct.every((c) => c >= "0" && c <= "7")) {
            fail("invalid escape in string: expected three octal digits", escapeAt);
          }
          const value = parseInt(oct.join(""), 8);
          if (value > 255) fail("invalid escape in string: octal value above \\377", escapeAt);
          bytes.push(value);
          i += 2;
          break;
        }
        fail(
          'unknown escape in string: expected one of \\a \\b \\f \\n \\r \\t \\v \\\\ \\" \\x \\u \\U or octal',
          escapeAt,
        );
      }
    }
  }
  return { value: utf8Decoder.decode(new Uint8Array(bytes)), end: i + 1 };
}
