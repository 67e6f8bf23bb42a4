/**
 * Content sniffing as Go's `http.DetectContentType` does it (Traefik's
 * `contentType` middleware relies on Go's server to run it): the WHATWG MIME
 * Sniffing Standard's table, in Go's order, over at most the first 512
 * bytes. Always returns a type; `application/octet-stream` when nothing
 * more specific fits.
 *
 * @module
 */

/** Bytes considered, as in Go. */
export const SNIFF_LENGTH = 512;

/** One row of the table: whether `data` matches, given where its whitespace ends. */
type Signature = (data: Uint8Array, firstNonWhitespace: number) => string | undefined;

/** The bytes of a binary string (each character one byte). */
function bytes(pattern: string): Uint8Array {
  return Uint8Array.from(pattern, (ch) => ch.charCodeAt(0));
}

/** `data` starts with `pattern`. */
function exact(pattern: string, type: string): Signature {
  const pat = bytes(pattern);
  return (data) => {
    if (data.length < pat.length) return undefined;
    for (let i = 0; i < pat.length; i++) if (data[i] !== pat[i]) return undefined;
    return type;
  };
}

/** `data` (after leading whitespace when `skipWhitespace`) masked by `mask` starts with `pattern`. */
function masked(pattern: string, mask: string, type: string, skipWhitespace = false): Signature {
  const pat = bytes(pattern);
  const msk = bytes(mask);
  return (data, firstNonWhitespace) => {
    const start = skipWhitespace ? firstNonWhitespace : 0;
    if (data.length - start < pat.length) return undefined;
    for (let i = 0; i < pat.length; i++) {
      if ((data[start + i]! & msk[i]!) !== pat[i]) return undefined;
    }
    return type;
  };
}

/**
 * An HTML tag after leading whitespace, letters in any case, followed by a
 * tag-terminating byte (space or `>`).
 */
function html(tag: string): Signature {
  const pat = bytes(tag);
  return (data, firstNonWhitespace) => {
    const start = firstNonWhitespace;
    if (data.length - start < pat.length + 1) return undefined;
    for (let i = 0; i < pat.length; i++) {
      let b = data[start + i]!;
      if (pat[i]! >= 0x41 && pat[i]! <= 0x5a) b &= 0xdf; // upper-case a letter
      if (b !== pat[i]) return undefined;
    }
    const terminator = data[start + pat.length];
    return terminator === 0x20 || terminator === 0x3e ? "text/html; charset=utf-8" : undefined;
  };
}

/** The WHATWG signature for MP4: an `ftyp` box naming an `mp4` brand. */
const mp4: Signature = (data) => {
  if (data.length < 12) return undefined;
  const boxSize = new DataView(data.buffer, data.byteOffset, 4).getUint32(0);
  if (data.length < boxSize || boxSize % 4 !== 0) return undefined;
  if (data[4] !== 0x66 || data[5] !== 0x74 || data[6] !== 0x79 || data[7] !== 0x70) {
    return undefined; // "ftyp"
  }
  for (let at = 8; at < boxSize; at += 4) {
    if (at === 12) continue; // the major brand's version number
    if (data[at] === 0x6d && data[at + 1] === 0x70 && data[at + 2] === 0x34) return "video/mp4";
  }
  return undefined;
};

/** Text unless a binary byte (a control character other than whitespace and ESC) occurs. */
const text: Signature = (data, firstNonWhitespace) => {
  for (let i = firstNonWhitespace; i < data.length; i++) {
    const b = data[i]!;
    if (b <= 0x08 || b === 0x0b || (b >= 0x0e && b <= 0x1a) || (b >= 0x1c && b <= 0x1f)) {
      return undefined;
    }
  }
  return "text/plain; charset=utf-8";
};

const FF = "\xff";
const FF4_00_4 = FF.repeat(4) + "\0".repeat(4);

/** The table, in the order Go checks it (first match wins). */
const SIGNATURES: readonly Signature[] = [
  ...[
    "<!DOCTYPE HTML",
    "<HTML",
    "<HEAD",
    "<SCRIPT",
    "<IFRAME",
    "<H1",
    "<DIV",
    "<FONT",
    "<TABLE",
    "<A",
    "<STYLE",
    "<TITLE",
    "<B",
    "<BODY",
    "<BR",
    "<P",
    "<!--",
  ].map(html),
  masked("<?xml", FF.repeat(5), "text/xml; charset=utf-8", true),
  exact("%PDF-", "application/pdf"),
  exact("%!PS-Adobe-", "application/postscript"),
  // Byte order marks.
  masked("\xfe\xff\0\0", "\xff\xff\0\0", "text/plain; charset=utf-16be"),
  masked("\xff\xfe\0\0", "\xff\xff\0\0", "text/plain; charset=utf-16le"),
  masked("\xef\xbb\xbf\0", "\xff\xff\xff\0", "text/plain; charset=utf-8"),
  // Images.
  exact("\0\0\x01\0", "image/x-icon"),
  exact("\0\0\x02\0", "image/x-icon"),
  exact("BM", "image/bmp"),
  exact("GIF87a", "image/gif"),
  exact("GIF89a", "image/gif"),
  masked("RIFF\0\0\0\0WEBPVP", FF4_00_4 + FF.repeat(6), "image/webp"),
  exact("\x89PNG\r\n\x1a\n", "image/png"),
  exact("\xff\xd8\xff", "image/jpeg"),
  // Audio and video, in the standard's order.
  masked("FORM\0\0\0\0AIFF", FF4_00_4 + FF.repeat(4), "audio/aiff"),
  exact("ID3", "audio/mpeg"),
  exact("OggS\0", "application/ogg"),
  exact("MThd\0\0\0\x06", "audio/midi"),
  masked("RIFF\0\0\0\0AVI ", FF4_00_4 + FF.repeat(4), "video/avi"),
  masked("RIFF\0\0\0\0WAVE", FF4_00_4 + FF.repeat(4), "audio/wave"),
  mp4,
  exact("\x1a\x45\xdf\xa3", "video/webm"),
  // Fonts.
  masked("\0".repeat(34) + "LP", "\0".repeat(34) + FF + FF, "application/vnd.ms-fontobject"),
  exact("\0\x01\0\0", "font/ttf"),
  exact("OTTO", "font/otf"),
  exact("ttcf", "font/collection"),
  exact("wOFF", "font/woff"),
  exact("wOF2", "font/woff2"),
  // Archives (RAR as RAR Labs defines its signatures, as Go does).
  exact("\x1f\x8b\x08", "application/x-gzip"),
  exact("PK\x03\x04", "application/zip"),
  exact("Rar!\x1a\x07\0", "application/x-rar-compressed"),
  exact("Rar!\x1a\x07\x01\0", "application/x-rar-compressed"),
  exact("\0asm", "application/wasm"),
  text, // last: anything without binary bytes
];

/** Whitespace as the standard defines it: TAB, LF, FF, CR, SPACE. */
function isWhitespace(b: number): boolean {
  return b === 0x09 || b === 0x0a || b === 0x0c || b === 0x0d || b === 0x20;
}

/**
 * The media type of content starting with `data` (only its first
 * {@linkcode SNIFF_LENGTH} bytes are looked at).
 */
export function detectContentType(data: Uint8Array): string {
  const head = data.length > SNIFF_LENGTH ? data.subarray(0, SNIFF_LENGTH) : data;
  let firstNonWhitespace = 0;
  while (firstNonWhitespace < head.length && isWhitespace(head[firstNonWhitespace]!)) {
    firstNonWhitespace++;
  }
  for (const signature of SIGNATURES) {
    const type = signature(head, firstNonWhitespace);
    if (type !== undefined) return type;
  }
  return "application/octet-stream";
}
