/**
 * IP addresses and CIDR blocks: parsing (Go's rules: no leading zeros,
 * IPv4-mapped IPv6 read as IPv4) and matching compiled once (Traefik's
 * `pkg/ip` `Checker`). Used by entrypoints (`forwardedHeaders.trustedIPs`),
 * the static configuration's validation and the IP-based middlewares.
 *
 * - an IPv4 address (or an IPv4-mapped IPv6 one, `::ffff:a.b.c.d`) matches
 *   only IPv4 entries; an IPv6 address matches only IPv6 entries.
 *
 * @module
 */
import { z } from "zod";

/** A parsed address: IPv4 as an unsigned 32-bit number, IPv6 as 16 bytes. */
export type ParsedIP =
  | { readonly kind: 4; readonly value: number }
  | { readonly kind: 6; readonly bytes: Uint8Array };

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(text: string): number | undefined {
  const m = V4.exec(text);
  if (!m) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    // Go's parsers reject leading zeros (ambiguous octal), so do we.
    if (part.length > 1 && part[0] === "0") return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function parseV6(text: string): Uint8Array | undefined {
  if (text.length < 2 || text.length > 45) return undefined;
  const bytes = new Uint8Array(16);
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const head = halves[0] === "" ? [] : halves[0]!.split(":");
  const tail = halves.length === 2 ? (halves[1] === "" ? [] : halves[1]!.split(":")) : [];
  const groups: number[] = [];
  const all = halves.length === 2 ? [...head, "::", ...tail] : head;
  for (let i = 0; i < all.length; i++) {
    const g = all[i]!;
    if (g === "::") {
      groups.push(-1);
      continue;
    }
    if (i === all.length - 1 && g.includes(".")) {
      const v4 = parseV4(g);
      if (v4 === undefined) return undefined;
      groups.push(v4 >>> 16, v4 & 0xffff);
      continue;
    }
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    groups.push(parseInt(g, 16));
  }
  const gap = groups.indexOf(-1);
  const count = groups.length - (gap >= 0 ? 1 : 0);
  if (gap < 0 ? count !== 8 : count > 7) return undefined;
  let at = 0;
  for (const g of groups) {
    if (g === -1) {
      at += (8 - count) * 2;
      continue;
    }
    bytes[at++] = g >> 8;
    bytes[at++] = g & 0xff;
  }
  return bytes;
}

function isV4Mapped(bytes: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return false;
  return bytes[10] === 0xff && bytes[11] === 0xff;
}

/**
 * Parses an IPv4 or IPv6 address. A zone (`fe80::1%eth0`) and IPv6 brackets
 * are dropped; an IPv4-mapped IPv6 address becomes IPv4 (Go's `To4()`).
 * @returns `undefined` if `text` is not an address.
 */
export function parseIP(text: string): ParsedIP | undefined {
  let t = text;
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1);
  const v4 = parseV4(t);
  if (v4 !== undefined) return { kind: 4, value: v4 };
  const zone = t.indexOf("%");
  if (zone > 0) t = t.slice(0, zone);
  const bytes = parseV6(t);
  if (!bytes) return undefined;
  if (isV4Mapped(bytes)) {
    return {
      kind: 4,
      value: ((bytes[12]! << 24) >>> 0) + (bytes[13]! << 16) + (bytes[14]! << 8) + bytes[15]!,
    };
  }
  return { kind: 6, bytes };
}

/** Formats IPv6 bytes the way Go prints them (RFC 5952: lower case, longest zero run as `::`). */
export function formatIPv6(bytes: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i]! << 8) | bytes[i + 1]!);
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(":");
  return `${hex.slice(0, bestAt).join(":")}::${hex.slice(bestAt + bestLen).join(":")}`;
}

interface V4Net {
  readonly base: number;
  readonly mask: number;
}
interface V6Net {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

function v4Mask(prefix: number): number {
  return prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
}

/** Keeps the first `prefix` bits of an IPv6 address. */
export function maskV6(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] = bytes[i]! & ((0xff << (8 - bits)) & 0xff);
  }
  return out;
}

function v6InNet(bytes: Uint8Array, net: V6Net): boolean {
  const full = net.prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== net.bytes[i]) return false;
  const rest = net.prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (bytes[full]! & mask) === net.bytes[full];
}

/**
 * Parses one `sourceRange` / `excludedIPs` entry: an address or a CIDR.
 * @returns `undefined` if the entry is neither.
 */
function parseEntry(entry: string): { v4: V4Net } | { v6: V6Net } | undefined {
  const text = entry.trim();
  const slash = text.indexOf("/");
  if (slash < 0) {
    const ip = parseIP(text);
    if (!ip) return undefined;
    return ip.kind === 4
      ? { v4: { base: ip.value, mask: 0xffffffff } }
      : { v6: { bytes: ip.bytes, prefix: 128 } };
  }
  const addr = text.slice(0, slash);
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || addr.includes("%")) return undefined;
  const prefix = Number(bits);
  const v4 = parseV4(addr);
  if (v4 !== undefined) {
    if (prefix > 32) return undefined;
    const mask = v4Mask(prefix);
    return { v4: { base: (v4 & mask) >>> 0, mask } };
  }
  const v6 = parseV6(addr);
  if (!v6 || prefix > 128) return undefined;
  // Go's ParseCIDR keeps an IPv6-written network 16 bytes long, so it never
  // matches an IPv4 client, even for ::ffff:0:0/96. Same here.
  return { v6: { bytes: maskV6(v6, prefix), prefix } };
}

/** Whether `entry` is an IP address or a CIDR block. */
export function isIPOrCIDR(entry: string): boolean {
  return parseEntry(entry) !== undefined;
}

/**
 * A set of addresses and networks, compiled once (Traefik's `ip.Checker`).
 */
export class IPMatcher {
  readonly #v4: V4Net[] = [];
  readonly #v6: V6Net[] = [];

  /**
   * Compiles the entries.
   *
   * @param entries Addresses (`192.168.1.7`, `::1`) and CIDRs (`10.0.0.0/8`).
   * @throws {TypeError} If an entry is neither.
   */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const parsed = parseEntry(entry);
      if (!parsed) throw new TypeError(`not an IP address or CIDR: "${entry}"`);
      if ("v4" in parsed) this.#v4.push(parsed.v4);
      else this.#v6.push(parsed.v6);
    }
  }

  /** Whether the address `ip` is in the set; `false` for anything that is not an address. */
  contains(ip: string): boolean {
    const parsed = parseIP(ip.trim());
    return parsed ? this.containsParsed(parsed) : false;
  }

  /** {@linkcode IPMatcher.contains} for an already parsed address. */
  containsParsed(ip: ParsedIP): boolean {
    if (ip.kind === 4) {
      for (const net of this.#v4) if (((ip.value & net.mask) >>> 0) === net.base) return true;
      return false;
    }
    for (const net of this.#v6) if (v6InNet(ip.bytes, net)) return true;
    return false;
  }
}

/** A zod string that must be an IP address or a CIDR (error located at its index). */
export const ipOrCidrSchema: z.ZodType<string, string> = z.string().superRefine((value, ctx) => {
  if (!isIPOrCIDR(value)) {
    ctx.addIssue({
      code: "custom",
      message: `must be an IP address or a CIDR block (such as 10.0.0.0/8): got "${value}"`,
    });
  }
});

/**
 * Compiles entries into a predicate (for hot paths that only need "is it in").
 * @throws {TypeError} If an entry is neither an address nor a CIDR.
 */
export function createIpMatcher(entries: readonly string[]): (ip: string) => boolean {
  if (entries.length === 0) return () => false;
  const matcher = new IPMatcher(entries);
  return (ip) => matcher.contains(ip);
}
