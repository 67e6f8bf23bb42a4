/**
 * Helpers shared by the request/response transforming middlewares: Go-style
 * path decoding, request facts (host, TLS), response replacement that works
 * around Hono's header merging; reading a body up to a limit is re-exported
 * from `src/util/body_head.ts`.
 *
 * Private to `src/middleware/`.
 *
 * @module
 */
import type { Context } from "hono";
import { STATUS_CODES } from "node:http";
import type { PacerEnv } from "../server/env.ts";

/** RFC 9110 token: what a header name may contain. */
export const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** What a header value must not contain (`Headers.set` throws on these). */
export const BAD_HEADER_VALUE = /[\0\r\n]/;

/** Go's `http.StatusText` for the statuses the middlewares produce. */
const GO_STATUS_TEXT: Record<number, string> = {
  413: "Request Entity Too Large",
};

/** The reason phrase Go would write for `status`. */
export function statusText(status: number): string {
  return GO_STATUS_TEXT[status] ?? STATUS_CODES[status] ?? "";
}

/** A short `text/plain` response, like Go's `http.Error`. */
export function textResponse(status: number, body = statusText(status)): Response {
  return new Response(body, {
    status,
    headers: { "content-type": "text/plain; charset=utf-8" },
  });
}

/** Prepends `/` unless `path` is empty or already starts with it. */
export function ensureLeadingSlash(path: string): string {
  return path === "" || path.startsWith("/") ? path : "/" + path;
}

const encoder = new TextEncoder();
const lenientDecoder = new TextDecoder();

/** Length of `text` in UTF-8 bytes (what Go's `len` counts). */
export function utf8Length(text: string): number {
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  return ascii ? text.length : encoder.encode(text).length;
}

/**
 * Go's `URL.Path` for an escaped path (`URL.pathname`): percent-escapes
 * decoded, `%2F` included. Malformed escapes are kept as they are.
 */
export function decodePath(raw: string): string {
  if (!raw.includes("%")) return raw;
  try {
    return decodeURIComponent(raw);
  } catch {
    const bytes: number[] = [];
    for (let i = 0; i < raw.length; i++) {
      const c = raw.charCodeAt(i);
      if (c === 0x25 && /^[0-9a-fA-F]{2}$/.test(raw.slice(i + 1, i + 3))) {
        bytes.push(parseInt(raw.slice(i + 1, i + 3), 16));
        i += 2;
      } else {
        for (const b of encoder.encode(raw[i]!)) bytes.push(b);
      }
    }
    return lenientDecoder.decode(new Uint8Array(bytes));
  }
}

/**
 * How many characters of the escaped path `raw` encode the first
 * `decodedBytes` bytes of its decoded form: 3 per `%XX`, 1 otherwise
 * (an escaped path is ASCII). Traefik's `encodedPrefixLen`.
 */
export function encodedPrefixLength(raw: string, decodedBytes: number): number {
  let decoded = 0;
  let i = 0;
  while (i < raw.length && decoded < decodedBytes) {
    i += raw.charCodeAt(i) === 0x25 && i + 2 < raw.length ? 3 : 1;
    decoded++;
  }
  return i;
}

/** Go's `url.PathUnescape` error for `raw`, or `undefined` when it unescapes. */
export function pathUnescapeError(raw: string): string | undefined {
  const bad = /%(?![0-9a-fA-F]{2})(.{0,2})/s.exec(raw);
  return bad ? `invalid URL escape "%${bad[1]}"` : undefined;
}

/** The request's host (with port), as the client sent it. */
export function requestHost(c: Context): string {
  const header = c.req.raw.headers.get("host");
  if (header) return header;
  const url = c.req.raw.url;
  const start = url.indexOf("//") + 2;
  const end = url.indexOf("/", start);
  return url.slice(start, end < 0 ? undefined : end);
}

/** Whether the client connection is TLS (Go's `req.TLS != nil`). */
export function isTLS(c: Context): boolean {
  const env = c.env as Partial<PacerEnv> | undefined;
  return env?.tls ?? c.req.raw.url.startsWith("https:");
}

/**
 * Whether `X-Forwarded-*` headers of this request come from a trusted peer.
 * Uses the client facts the entrypoint sets (`c.var.client`); in-process
 * calls without them are trusted.
 */
export function forwardedHeadersTrusted(c: Context): boolean {
  // `c.get` with a key the map may not declare (set by src/service/context.ts users).
  const client = (c.get as (key: string) => unknown)("client") as { trusted?: boolean } | undefined;
  return client?.trusted ?? true;
}

/** The path and query of the request (Go's `RequestURI`). */
export function requestURI(c: Context): string {
  const url = c.req.raw.url;
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const hash = url.indexOf("#", start);
  return hash < 0 ? url.slice(start) : url.slice(start, hash);
}

/**
 * Replaces `c.res` with `res` as is. Assigning `c.res` directly would copy
 * the old response's headers onto the new one (Hono's `set res`), bringing
 * back a stale `Content-Length` or a header a middleware meant to drop.
 */
export function replaceResponse(c: Context, res: Response): void {
  c.res = undefined;
  c.res = res;
}

/**
 * The headers of `c.res`, made editable first when they are not: the plugin
 * API's helper, which built-ins use too.
 */
export { editableHeaders } from "../plugin/mod.ts";

/**
 * Traefik's redirect answer: 302/301 for GET, 307/308 for other methods
 * (so the method and body are kept), the status text as body, and
 * `location` as given (not normalized).
 */
export function redirectResponse(method: string, location: string, permanent: boolean): Response {
  const status = method === "GET" ? (permanent ? 301 : 302) : (permanent ? 308 : 307);
  return new Response(statusText(status), {
    status,
    headers: { location, "content-type": "text/plain; charset=utf-8" },
  });
}

/**
 * `value` as a header value: non-ASCII text is sent as its UTF-8 bytes (as
 * Go does), since `Headers` only takes byte strings.
 */
export function toByteString(value: string): string {
  // deno-lint-ignore no-control-regex
  if (/^[\x00-\x7f]*$/.test(value)) return value;
  let out = "";
  for (const byte of encoder.encode(value)) out += String.fromCharCode(byte);
  return out;
}

export { type BodyHead, concatChunks, readAtMost } from "../util/body_head.ts";
