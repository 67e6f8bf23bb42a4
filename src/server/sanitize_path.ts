/**
 * The entrypoint's `http.sanitizePath` (Traefik v3, on by default): before
 * routing, the request path is normalized and cleaned, so the router and the
 * upstream see the same path, and `//admin` or `/public/../admin` cannot
 * slip past a router written for `/admin` into a catch-all one.
 *
 * As Traefik does:
 * - percent-encoded unreserved characters (`A-Z a-z 0-9 - . _ ~`) are
 *   decoded and other escapes get upper-case hex (RFC 3986 §6.2.2.1-2), so
 *   `%2e%2e` is `..` and `%61dmin` is `admin`; escapes of reserved
 *   characters (`%2F`) stay escaped;
 * - `.` and `..` segments and duplicate slashes are removed as Go's
 *   `URL.JoinPath()` does (`path.Clean`, keeping a trailing slash; `..`
 *   never climbs above `/`).
 *
 * The query is left as it came.
 *
 * @module
 */

const UNRESERVED = /[A-Za-z0-9\-._~]/;

/** Decodes escaped unreserved characters and upper-cases the hex of the other escapes. */
function normalizeEscapes(path: string): string {
  return path.replace(/%([0-9A-Fa-f]{2})/g, (_escape, hex: string) => {
    const char = String.fromCharCode(parseInt(hex, 16));
    return UNRESERVED.test(char) ? char : `%${hex.toUpperCase()}`;
  });
}

/**
 * Go's `path.Clean` of a path that starts with `/`, plus `URL.JoinPath()`'s
 * rule that a trailing slash is kept.
 */
function cleanPath(path: string): string {
  const out: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") out.pop();
    else out.push(segment);
  }
  const cleaned = "/" + out.join("/");
  return path.endsWith("/") && cleaned !== "/" ? cleaned + "/" : cleaned;
}

/** Whether a path may change when sanitized: the fast check every request takes. */
function mayNeedSanitizing(path: string): boolean {
  return path.includes("%") || path.includes("//") || path.includes("/.");
}

/**
 * The sanitized form of a path (without query), Traefik's way.
 * @param path A request path, starting with `/`.
 */
export function sanitizePath(path: string): string {
  if (!mayNeedSanitizing(path)) return path;
  return cleanPath(normalizeEscapes(path));
}

/**
 * The URL of a request whose path must be sanitized, or `undefined` when it
 * is already clean (nearly always: then nothing is allocated).
 * @param url An absolute request URL, as `Deno.serve` gives it (`http://host/path?query`).
 */
export function sanitizedUrl(url: string): string | undefined {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return undefined;
  // The query, if any, is scanned too: a false positive only costs the exact check below.
  if (!url.includes("%", start) && !url.includes("//", start) && !url.includes("/.", start)) {
    return undefined;
  }
  let end = url.indexOf("?", start);
  if (end < 0) end = url.indexOf("#", start);
  if (end < 0) end = url.length;
  const path = url.slice(start, end);
  const clean = sanitizePath(path);
  return clean === path ? undefined : url.slice(0, start) + clean + url.slice(end);
}
