/**
 * Sticky sessions by cookie (Traefik's `sticky.cookie`): the cookie names the
 * chosen server (or child service) by a hash of its URL (or name), so a
 * client keeps hitting the same one while it stays healthy.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { z } from "zod";
import type { stickyCookieSchema } from "../config/dynamic.ts";

/** Validated cookie options. */
export type StickyCookie = z.output<typeof stickyCookieSchema>;

/** FNV-1a 64-bit hash, hex: the cookie value for a server URL (as Traefik v3). */
export function stickyValue(key: string): string {
  let hash = 0xcbf29ce484222325n;
  for (let i = 0; i < key.length; i++) {
    hash ^= BigInt(key.charCodeAt(i));
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash.toString(16);
}

/** Traefik's default cookie name for a service: `_` + 6 hex chars of SHA-1(service). */
export function defaultCookieName(service: string): string {
  return "_" + createHash("sha1").update(service).digest("hex").slice(0, 6);
}

/** Reads one cookie from a Cookie header without parsing the others. */
export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** Serializes the Set-Cookie header for a sticky choice. */
export function setCookieHeader(name: string, value: string, cookie: StickyCookie): string {
  let out = `${name}=${value}; Path=${cookie.path}`;
  if (cookie.domain) out += `; Domain=${cookie.domain}`;
  if (cookie.maxAge > 0) out += `; Max-Age=${cookie.maxAge}`;
  else if (cookie.maxAge < 0) out += "; Max-Age=0";
  if (cookie.httpOnly) out += "; HttpOnly";
  if (cookie.secure) out += "; Secure";
  if (cookie.sameSite) {
    out += `; SameSite=${cookie.sameSite[0]!.toUpperCase()}${cookie.sameSite.slice(1)}`;
  }
  return out;
}
