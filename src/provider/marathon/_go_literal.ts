/**
 * Go string literals (`"..."` with backslash escapes, `` `raw` ``) as Go's
 * `strconv.Unquote` reads them. Shared by the constraint expression parser
 * and the default-rule template parser, which both take Go syntax.
 *
 * Private to `src/provider/marathon/`.
 *
 * @module
 */

const SIMPLE_ESCAPES: Record<string, number> = {
  a: 0x07,
  b: 0x08,
  f: 0x0c,
  n: 0x0a,
  r: 0x0d,
  t: 0x09,
  v: 0x0b,
  "\\": 0x5c,
};

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Reads the Go string literal starting at `start` (its opening quote).
 *
 * @returns The decoded value and the index just past the closing quote.
 * @throws {SyntaxError} If the literal is unterminated or has an invalid escape.
 */
export function readGoString(source: string, start: number): { value: string; end: number } {
  const quote = source[start];
  if (quote === "`") {
    const close = source.indexOf("`", start + 1);
    if (close < 0) throw new SyntaxError(`unterminated raw string starting at offset ${start}`);
    // Go drops carriage returns from raw strings.
    return { value: source.slice(start + 1, close).replaceAll("\r", ""), end: close + 1 };
  }
  if (quote !== '"' && quote !== "'") {
    throw new SyntaxError(`expected a string at offset ${start}`);
  }
  // Escapes such as \xff produce raw bytes, so the value is built as UTF-8
  // bytes and decoded once at the end (as Go strings are byte strings).
  const bytes: number[] = [];
  let i = start + 1;
  while (i < source.length) {
    const ch = source[i]!;
    if (ch === quote) {
      const value = decoder.decode(new Uint8Array(bytes));
      if (quote === "'" && [...value].length !== 1) {
        throw new SyntaxError(
          `invalid character literal at offset ${start} (must hold one character)`,
        );
      }
      return { value, end: i + 1 };
    }
    if (ch === "\n") throw new SyntaxError(`newline in string starting at offset ${start}`);
    if (ch !== "\\") {
      const cp = source.codePointAt(i)!;
      const text = String.fromCodePoint(cp);
      for (const b of encoder.encode(text)) bytes.push(b);
      i += text.length;
      continue;
    }
    const esc = source[i + 1];
    if (esc === undefined) break;
    if (esc in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[esc]!);
      i += 2;
    } else if (esc === quote) {
      // Go allows \" only in strings and \' only in character literals.
      bytes.push(quote.charCodeAt(0));
      i += 2;
    } else if (esc === "x") {
      bytes.push(hexDigits(source, i + 2, 2, start));
      i += 4;
    } else if (esc === "u" || esc === "U") {
      const n = esc === "u" ? 4 : 8;
      const cp = hexDigits(source, i + 2, n, start);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) {
        throw new SyntaxError(`invalid Unicode code point in escape at offset ${i}`);
      }
      for (const b of encoder.encode(String.fromCodePoint(cp))) bytes.push(b);
      i += 2 + n;
    } else if (esc >= "0" && esc <= "7") {
      const digits = source.slice(i + 1, i + 4);
      if (!/^[0-7]{3}$/.test(digits)) {
        throw new SyntaxError(`invalid octal escape at offset ${i} (needs three digits)`);
      }
      const value = parseInt(digits, 8);
      if (value > 255) throw new SyntaxError(`octal escape out of range at offset ${i}`);
      bytes.push(value);
      i += 4;
    } else {
      throw new SyntaxError(`unknown escape sequence \\${esc} at offset ${i}`);
    }
  }
  throw new SyntaxError(`unterminated string starting at offset ${start}`);
}

function hexDigits(source: string, at: number, n: number, start: number): number {
  const digits = source.slice(at, at + n);
  if (digits.length !== n || !/^[0-9a-fA-F]+$/.test(digits)) {
    throw new SyntaxError(`invalid hexadecimal escape in string starting at offset ${start}`);
  }
  return parseInt(digits, 16);
}

/** Go identifier start: a Unicode letter or `_`. */
export function isIdentStart(ch: string): boolean {
  return ch === "_" || /\p{L}/u.test(ch);
}

/** Go identifier part: a Unicode letter, digit or `_`. */
export function isIdentPart(ch: string): boolean {
  return ch === "_" || /[\p{L}\p{Nd}]/u.test(ch);
}
