/**
 * IP addresses and CIDR blocks with the semantics of Traefik's `pkg/ip`
 * `Checker`, which is built on Go's `net/netip`. The one IP module: the
 * `ClientIP` rule matcher, entrypoints' `forwardedHeaders.trustedIPs`, the
 * static configuration's validation and the IP-based middlewares all use it.
 *
 * Parsing is `netip.ParseAddr` / `netip.ParsePrefix` to the letter:
 * - nothing is trimmed and IPv6 brackets are not part of an address
 *   (`" 10.0.0.1"` and `"[::1]"` are errors; callers that read lists or
 *   `host:port` strip those first, as Traefik's do);
 * - IPv4: four decimal octets without leading zeros (`01.2.3.4` would be
 *   octal elsewhere);
 * - IPv6: groups of 1 to 4 hex digits, one `::` standing for at least one
 *   group, an IPv4 tail only as the last 32 bits, an optional non-empty zone
 *   (`fe80::1%eth0`);
 * - CIDR: an address without zone, then a prefix length in decimal without
 *   sign or leading zero (`/08` is an error), at most 32 or 128.
 *
 * Matching is Traefik's (`canonicalAddr`: `Unmap()`, then `WithZone("")`):
 * - zones are ignored and an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) is
 *   the IPv4 address, for clients and entries alike;
 * - a CIDR covers its whole network even with host bits set (`Masked()`);
 * - a CIDR is the range from its first to its last address, each one
 *   canonicalized. So an IPv6-written network inside `::ffff:0:0/96` covers
 *   IPv4 clients (`::ffff:0:0/96` all of them, `::ffff:10.0.0.0/104` those of
 *   10.0.0.0/8), `::/0` covers no IPv4 client, and a network that only ends
 *   in that block (`::/80`) covers nothing, in Traefik as here.
 *
 * @module
 */
import { z } from "zod";
import { withoutPort } from "./host_port.ts";

/**
 * A parsed address, canonical as Traefik compares them: no zone, and an
 * IPv4-mapped IPv6 address unmapped to IPv4.
 */
export interface IPAddress {
  /** Whether the address is IPv4. */
  readonly v4: boolean;
  /** The 32- or 128-bit value. */
  readonly value: bigint;
  /**
   * `value` for IPv4, `value + 2^32` for IPv6: one total order over both
   * families, every IPv4 address first (`netip.Addr.Compare`).
   */
  readonly key: bigint;
}

const V6_OFFSET = 1n << 32n;
const V4_MAPPED = 0xffffn;

function address(v4: boolean, value: bigint): IPAddress {
  if (!v4 && value >> 32n === V4_MAPPED) return address(true, value & 0xffffffffn);
  return { v4, value, key: v4 ? value : value + V6_OFFSET };
}

const OCTET = /^(?:0|[1-9][0-9]{0,2})$/;

/** netip's `parseIPv4`: four octets, no empty one, no leading zero, none above 255. */
function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!OCTET.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return BigInt(value);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** netip's `parseIPv6`, step by step; the zone is checked and dropped. */
function parseIPv6(input: string): bigint | undefined {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) {
    if (zone === s.length - 1) return undefined; // an empty zone
    s = s.slice(0, zone);
  }
  const ip = new Uint8Array(16);
  let ellipsis = -1; // byte position of "::"
  let p = 0;
  if (s.startsWith("::")) {
    ellipsis = 0;
    p = 2;
    if (p === s.length) return 0n;
  }
  let i = 0;
  while (i < 16) {
    let off = 0;
    let acc = 0;
    for (; p + off < s.length; off++) {
      const digit = hexDigit(s.charCodeAt(p + off));
      if (digit < 0) break;
      if (off > 3) return undefined; // more than 4 digits in a group
      acc = acc * 16 + digit;
    }
    if (off === 0) return undefined; // a group without digits
    if (s[p + off] === ".") {
      // An embedded IPv4 address replaces the last two groups.
      if ((ellipsis < 0 && i !== 12) || i + 4 > 16) return undefined;
      const v4 = parseIPv4(s.slice(p));
      if (v4 === undefined) return undefined;
      const n = Number(v4);
      ip[i] = n >>> 24;
      ip[i + 1] = (n >>> 16) & 0xff;
      ip[i + 2] = (n >>> 8) & 0xff;
      ip[i + 3] = n & 0xff;
      i += 4;
      p = s.length;
      break;
    }
    ip[i] = acc >> 8;
    ip[i + 1] = acc & 0xff;
    i += 2;
    p += off;
    if (p === s.length) break;
    if (s[p] !== ":" || p + 1 === s.length) return undefined; // want a colon, then more
    p++;
    if (s[p] === ":") {
      if (ellipsis >= 0) return undefined; // a second "::"
      ellipsis = i;
      p++;
      if (p === s.length) break;
    }
  }
  if (p !== s.length) return undefined; // trailing garbage
  if (i < 16) {
    if (ellipsis < 0) return undefined; // too short
    const n = 16 - i;
    ip.copyWithin(ellipsis + n, ellipsis, i);
    ip.fill(0, ellipsis, ellipsis + n);
  } else if (ellipsis >= 0) {
    return undefined; // "::" must stand for at least one group
  }
  let value = 0n;
  for (let b = 0; b < 16; b += 4) {
    value = (value << 32n) |
      BigInt(((ip[b]! << 24) >>> 0) + (ip[b + 1]! << 16) + (ip[b + 2]! << 8) + ip[b + 3]!);
  }
  return value;
}

/** `netip.ParseAddr`, family kept (no unmapping). */
function parseAddr(s: string): { v6: boolean; value: bigint } | undefined {
  // netip decides by the first '.', ':' or '%'.
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === ".") {
      const value = parseIPv4(s);
      return value === undefined ? undefined : { v6: false, value };
    }
    if (c === ":") {
      const value = parseIPv6(s);
      return value === undefined ? undefined : { v6: true, value };
    }
    if (c === "%") return undefined; // a zone without an address
  }
  return undefined;
}

/**
 * Parses an address like `netip.ParseAddr`, then canonicalizes it (zone
 * dropped, IPv4-mapped IPv6 unmapped).
 *
 * @param s The address text, exactly (nothing is trimmed).
 * @returns The address, or `undefined` if `s` is not one.
 */
export function parseIP(s: string): IPAddress | undefined {
  const addr = parseAddr(s);
  return addr && address(!addr.v6, addr.value);
}

/**
 * Extracts the client address from a peer address the way Traefik's
 * `RemoteAddrStrategy` does: a `host:port` or `[v6]:port` loses its port, a
 * bare IPv6 address is kept.
 *
 * @param raw The peer address, normally a bare IP.
 * @returns The address, or `null` if none can be parsed.
 */
export function parseClientIP(raw: string): IPAddress | null {
  return parseIP(withoutPort(raw)) ?? null;
}

/** Keeps the first `bits` bits of `ip` (of 32 or 128), like `netip.Addr.Prefix`. */
export function maskIP(ip: IPAddress, bits: number): IPAddress {
  const width = ip.v4 ? 32n : 128n;
  const kept = BigInt(Math.max(0, Math.min(bits, Number(width))));
  const hostMask = (1n << (width - kept)) - 1n;
  return address(ip.v4, ip.value & ~hostMask);
}

/**
 * Formats an address the way Go prints it: dotted IPv4; IPv6 in lower case
 * with the longest run (two groups or more, the first on a tie) of zero
 * groups as `::` (RFC 5952).
 */
export function formatIP(ip: IPAddress): string {
  if (ip.v4) {
    const n = Number(ip.value);
    return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
  }
  const groups: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) {
    groups.push(Number((ip.value >> shift) & 0xffffn));
  }
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

/** An inclusive range of {@linkcode IPAddress.key}s. */
interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

const PREFIX_BITS = /^(?:0|[1-9][0-9]*)$/;

/**
 * `netip.ParsePrefix`, then Traefik's range: the canonical first
 * (`Masked()`) and last addresses of the network.
 */
function parseRange(s: string): Range | undefined {
  const slash = s.lastIndexOf("/");
  if (slash < 0) return undefined;
  const addrText = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  // A zone is not allowed in a prefix (nor is any '%' in IPv4).
  if (addrText.includes("%") || !PREFIX_BITS.test(bitsText)) return undefined;
  const addr = parseAddr(addrText);
  if (!addr) return undefined;
  const width = addr.v6 ? 128n : 32n;
  const bits = Number(bitsText);
  if (bits > Number(width)) return undefined;
  const hostMask = (1n << (width - BigInt(bits))) - 1n;
  const first = addr.value & ~hostMask;
  return {
    start: address(!addr.v6, first).key,
    end: address(!addr.v6, first | hostMask).key,
  };
}

/** Whether `entry` is an IP address or a CIDR block (see the module notes). */
export function isIPOrCIDR(entry: string): boolean {
  return parseIP(entry) !== undefined || parseRange(entry) !== undefined;
}

/**
 * A set of addresses and networks, compiled once (Traefik's `ip.Checker`).
 */
export class IPChecker {
  readonly #exact = new Set<bigint>();
  readonly #ranges: Range[] = [];

  /**
   * Compiles the entries.
   *
   * @param entries Addresses (`10.0.0.1`, `::1`) and CIDRs (`10.0.0.0/8`, `fd00::/8`).
   * @throws {TypeError} Naming the first entry that is neither.
   */
  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const ip = parseIP(entry);
      if (ip) {
        this.#exact.add(ip.key);
        continue;
      }
      const range = parseRange(entry);
      if (!range) throw new TypeError(`"${entry}" is neither an IP address nor a CIDR block`);
      // A /32 or /128 is one address (`IsSingleIP()`).
      if (range.start === range.end) this.#exact.add(range.start);
      else this.#ranges.push(range);
    }
  }

  /**
   * Whether the address `ip` is in the set (`Checker.Contains`).
   *
   * @param ip The address text, exactly as {@linkcode parseIP} takes it.
   * @returns `false` for anything that is not an address.
   */
  contains(ip: string): boolean {
    if (this.#exact.size === 0 && this.#ranges.length === 0) return false;
    const parsed = parseIP(ip);
    return parsed !== undefined && this.containsIP(parsed);
  }

  /** {@linkcode IPChecker.contains} for a parsed address (`Checker.ContainsIP`). */
  containsIP(ip: IPAddress): boolean {
    if (this.#exact.has(ip.key)) return true;
    for (const r of this.#ranges) {
      if (r.start <= ip.key && ip.key <= r.end) return true;
    }
    return false;
  }
}

/** A zod string that must be an IP address or a CIDR block (error located at its index). */
export const ipOrCidrSchema: z.ZodType<string, string> = z.string().superRefine((value, ctx) => {
  if (!isIPOrCIDR(value)) {
    ctx.addIssue({
      code: "custom",
      message: `must be an IP address or a CIDR block (such as "10.0.0.0/8"), got ${
        JSON.stringify(value)
      }`,
    });
  }
}).describe("IP or CIDR");
