/**
 * htpasswd hash checks, as Traefik does them (go-http-auth `CheckSecret`):
 * bcrypt (`$2a$`, `$2b$`, `$2x$`, `$2y$`), SHA-1 (`{SHA}` + base64), and
 * MD5-crypt (`$apr1$` from `htpasswd -m`, and `$1$`). Anything else never
 * matches: plain-text passwords are not accepted.
 *
 * @module
 */
import { createHash, timingSafeEqual } from "node:crypto";
import bcrypt from "bcryptjs";

/** Hash families, for choosing costs (only bcrypt is slow enough to cache). */
export type HashKind = "bcrypt" | "sha1" | "md5crypt" | "unknown";

/** Tells which algorithm a stored hash uses. */
export function hashKind(hash: string): HashKind {
  if (/^\$2[abxy]\$/.test(hash)) return "bcrypt";
  if (hash.startsWith("{SHA}")) return "sha1";
  if (hash.startsWith("$apr1$") || hash.startsWith("$1$")) return "md5crypt";
  return "unknown";
}

const ITOA64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const encoder = new TextEncoder();

function md5(...parts: Uint8Array[]): Uint8Array {
  const h = createHash("md5");
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

function to64(value: number, chars: number): string {
  let out = "";
  let v = value;
  for (let i = 0; i < chars; i++) {
    out += ITOA64[v & 0x3f];
    v >>>= 6;
  }
  return out;
}

/**
 * MD5-crypt (Poul-Henning Kamp's algorithm; Apache's `$apr1$` differs only by
 * its magic string).
 *
 * @param password The candidate password.
 * @param salt Up to 8 salt characters.
 * @param magic `$apr1$` or `$1$`.
 * @returns The full hash, `magic + salt + "$" + 22 characters`.
 */
export function md5Crypt(password: string, salt: string, magic: string): string {
  const pw = encoder.encode(password);
  const s = encoder.encode(salt.slice(0, 8));
  const m = encoder.encode(magic);

  let final = md5(pw, s, pw);
  const ctx: Uint8Array[] = [pw, m, s];
  for (let left = pw.length; left > 0; left -= 16) ctx.push(final.subarray(0, Math.min(16, left)));
  for (let i = pw.length; i > 0; i >>>= 1) {
    ctx.push(i & 1 ? new Uint8Array(1) : pw.subarray(0, 1));
  }
  final = md5(...ctx);

  // 1000 rounds, meant to slow brute force down.
  for (let i = 0; i < 1000; i++) {
    const round: Uint8Array[] = [];
    round.push(i & 1 ? pw : final);
    if (i % 3) round.push(s);
    if (i % 7) round.push(pw);
    round.push(i & 1 ? final : pw);
    final = md5(...round);
  }

  const f = final;
  const b = (i: number) => f[i]!;
  const out = to64((b(0) << 16) | (b(6) << 8) | b(12), 4) +
    to64((b(1) << 16) | (b(7) << 8) | b(13), 4) +
    to64((b(2) << 16) | (b(8) << 8) | b(14), 4) +
    to64((b(3) << 16) | (b(9) << 8) | b(15), 4) +
    to64((b(4) << 16) | (b(10) << 8) | b(5), 4) +
    to64(b(11), 2);
  return `${magic}${salt.slice(0, 8)}$${out}`;
}

function sameString(a: string, b: string): boolean {
  const x = encoder.encode(a);
  const y = encoder.encode(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function checkMd5Crypt(password: string, hash: string): boolean {
  const magic = hash.startsWith("$apr1$") ? "$apr1$" : "$1$";
  const rest = hash.slice(magic.length);
  const dollar = rest.indexOf("$");
  if (dollar < 0) return false;
  return sameString(md5Crypt(password, rest.slice(0, dollar), magic), hash);
}

function checkSha1(password: string, hash: string): boolean {
  const digest = createHash("sha1").update(password).digest("base64");
  return sameString(`{SHA}${digest}`, hash);
}

/**
 * Checks a password against an htpasswd hash.
 *
 * bcrypt runs asynchronously in slices (bcryptjs), so a slow hash does not
 * stall other requests. `$2x$`/`$2y$` are checked as `$2b$`, as Go's bcrypt does.
 */
export function checkPassword(password: string, hash: string): Promise<boolean> | boolean {
  switch (hashKind(hash)) {
    case "bcrypt":
      return bcrypt.compare(password, hash.replace(/^\$2[xy]\$/, "$2b$")).catch(() => false);
    case "sha1":
      return checkSha1(password, hash);
    case "md5crypt":
      return checkMd5Crypt(password, hash);
    default:
      return false;
  }
}
