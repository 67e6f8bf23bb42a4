/**
 * Request facts: building them from a `Request`, and the per-request values
 * matchers share (normalized host, routing path, parsed client IP), computed
 * at most once per request.
 *
 * @module
 */
import { withoutPort } from "../net/host_port.ts";
import { type IPAddress, parseClientIP } from "../net/ip.ts";
import type { RequestFacts } from "./types.ts";

/**
 * Builds the facts rules match on.
 *
 * The host comes from `new URL(request.url)` rather than the Host header,
 * which HTTP/2 requests do not have; it is lower-cased and loses its port and
 * IPv6 brackets.
 *
 * @param request The incoming request.
 * @param clientIP The socket peer IP.
 * @returns The facts.
 * @throws {TypeError} If `request.url` is not an absolute URL (never the case
 *   for requests `Deno.serve` hands out).
 */
export function requestFacts(request: Request, clientIP: string): RequestFacts {
  const url = new URL(request.url);
  return {
    host: normalizeHost(url.hostname),
    path: url.pathname,
    method: request.method,
    headers: request.headers,
    // Parsed only if a Query matcher asks: most rules never look at it.
    get query() {
      return url.searchParams;
    },
    clientIP,
  };
}

/**
 * Lower-cases a host and strips a port and IPv6 brackets. Cheap when the host
 * is already normal: it then returns its argument without allocating.
 *
 * @param host A host, possibly `Example.COM:8080` or `[::1]:443`.
 * @returns The normalized host (`example.com`, `::1`).
 */
export function normalizeHost(host: string): string {
  let clean = true;
  for (let i = 0; i < host.length; i++) {
    const c = host.charCodeAt(i);
    // A-Z, ':', '[' or any non-ASCII character needs the slow path.
    if ((c >= 0x41 && c <= 0x5a) || c === 0x3a || c === 0x5b || c >= 0x80) {
      clean = false;
      break;
    }
  }
  if (clean) return host;
  return withoutPort(host).toLowerCase();
}

// Traefik (pkg/muxer/http/mux.go, withRoutingPath) keeps these percent-encoded
// in the routing path, because decoding them would change the URL's meaning.
// The comparison is case-sensitive there, so `%2f` IS decoded: reproduced.
const RESERVED = new Set([
  "3A",
  "2F",
  "3F",
  "23",
  "5B",
  "5D",
  "40",
  "21",
  "24",
  "26",
  "27",
  "28",
  "29",
  "2A",
  "2B",
  "2C",
  "3B",
  "3D",
  "25",
]);

const utf8 = new TextDecoder("utf-8", { fatal: false });

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * The path Traefik routes on: the escaped path with every percent-encoded
 * byte decoded except the RFC 3986 reserved characters and `%`, so that
 * ``PathPrefix(`/foo bar`)`` matches `/foo%20bar` while `/foo%2Fbar` does not
 * match ``PathPrefix(`/foo/`)``.
 *
 * Traefik answers 400 to a malformed escape (`%zz`, a trailing `%`); a rule
 * cannot answer, so such a `%` is kept literally here.
 *
 * @param escaped The URL pathname as received.
 * @returns The routing path; `escaped` itself when it has no `%`.
 */
export function routingPath(escaped: string): string {
  if (escaped.indexOf("%") === -1) return escaped;
  let out = "";
  let bytes: number[] = [];
  let nonASCII = false;
  const flush = () => {
    if (bytes.length === 0) return;
    out += nonASCII ? utf8.decode(Uint8Array.from(bytes)) : String.fromCharCode(...bytes);
    bytes = [];
    nonASCII = false;
  };
  const n = escaped.length;
  for (let i = 0; i < n; i++) {
    if (escaped.charCodeAt(i) !== 0x25 || i + 2 >= n) {
      flush();
      out += escaped[i];
      continue;
    }
    const hex = escaped.slice(i + 1, i + 3);
    if (RESERVED.has(hex)) {
      flush();
      out += "%" + hex;
      i += 2;
      continue;
    }
    const hi = hexValue(escaped.charCodeAt(i + 1));
    const lo = hexValue(escaped.charCodeAt(i + 2));
    if (hi < 0 || lo < 0) {
      flush();
      out += "%";
      continue;
    }
    const byte = hi * 16 + lo;
    if (byte >= 0x80) nonASCII = true;
    bytes.push(byte);
    i += 2;
  }
  flush();
  return out;
}

const NO_REQUEST: RequestFacts = {
  host: "",
  path: "",
  method: "",
  headers: new Headers(),
  query: new URLSearchParams(),
  clientIP: "",
};

/**
 * Per-request values shared by all matchers of all rules tried for one
 * request. One instance is reused across requests (matching is synchronous),
 * so nothing is allocated unless a value is actually needed.
 */
export class MatchContext {
  /** The request being matched. */
  req: RequestFacts = NO_REQUEST;
  /** The normalized host. */
  host = "";
  #path: string | undefined;
  #ip: IPAddress | null | undefined;

  /**
   * Starts matching a new request.
   *
   * @param req The request.
   * @returns This context.
   */
  reset(req: RequestFacts): this {
    this.req = req;
    this.host = normalizeHost(req.host);
    this.#path = undefined;
    this.#ip = undefined;
    return this;
  }

  /** The routing path ({@linkcode routingPath}), decoded on first use. */
  get path(): string {
    return this.#path ??= routingPath(this.req.path);
  }

  /** The client address, parsed on first use; `null` if it is not an IP. */
  get clientIP(): IPAddress | null {
    if (this.#ip === undefined) this.#ip = parseClientIP(this.req.clientIP);
    return this.#ip;
  }
}
