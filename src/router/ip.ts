/**
 * IP addresses and CIDR ranges for the `ClientIP` matcher, with the semantics
 * of Traefik's `pkg/ip` checker (Go `net/netip`): strict dotted-quad IPv4 (no
 * leading zeros), IPv6 with `::` and an embedded IPv4 tail, IPv6 zones
 * accepted and ignored on addresses, IPv4-mapped IPv6 addresses (`::ffff:a.b.c.d`)
 * treated as the IPv4 address.
 *
 * @module
 */

/**
 * A parsed address. `key` orders addresses as `netip.Addr.Compare` does: every
 * IPv4 address sorts before every IPv6 address.
 */
export interface IPAddress {
  readonly v4: boolean;
  /** The 32- or 128-bit value. */
  readonly value: bigint;
  /** `value` for IPv4, `value + 2^32` for IPv6: one total order. */
  readonly key: bigint;
}

const V6_OFFSET = 1n << 32n;

function address(v4: boolean, value: bigint): IPAddress {
  // Unmap IPv4-mapped IPv6 addresses, as Traefik's canonicalAddr does.
  if (!v4 && value >> 32n === 0xffffn) return address(true, value & 0xffffffffn);
  return { v4, value, key: v4 ? value : value + V6_OFFSET };
}

function parseIPv4(s: string): bigint | undefined {
  const parts = s.split(".");
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const part of parts) {
    // netip rejects empty octets, leading zeros and anything but digits.
    if (!/^(?:0|[1-9][0-9]{0,2})$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function parseIPv6(input: string): bigint | undefined {
  let s = input;
  const zone = s.indexOf("%");
  if (zone >= 0) {
    if (zone === s.length - 1) return undefined; // an empty zone is an error in netip
    s = s.slice(0, zone);
  }
  const groups: number[] = [];
  let ellipsis = -1;
  let i = 0;
  if (s.startsWith("::")) {
    ellipsis = 0;
    i = 2;
  }
  while (i < s.length) {
    let j = i;
    let group = 0;
    while (j < s.length && j - i <= 4 && /[0-9A-Fa-f]/.test(s[j]!)) {
      group = group * 16 + parseInt(s[j]!, 16);
      j++;
    }
    if (j === i || j - i > 4) return undefined;
    if (s[j] === ".") {
      // An embedded IPv4 address must be the last 32 bits.
      if ((ellipsis < 0 && groups.length !== 6) || groups.length > 6) return undefined;
      const v4 = parseIPv4(s.slice(i));
      if (v4 === undefined) return undefined;
      groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      i = s.length;
      break;
    }
    groups.push(group);
    i = j;
    if (i === s.length) break;
    if (s[i] !== ":") return undefined;
    i++;
    if (s[i] === ":") {
      if (ellipsis >= 0) return undefined; // at most one "::"
      ellipsis = groups.length;
      i++;
    } else if (i === s.length) {
      return undefined; // a single trailing colon
    }
  }
  if (ellipsis < 0 ? groups.length !== 8 : groups.length > 7) return undefined;
  const full = ellipsis < 0 ? groups : [
    ...groups.slice(0, ellipsis),
    ...new Array<number>(8 - groups.length).fill(0),
    ...groups.slice(ellipsis),
  ];
  let value = 0n;
  for (const g of full) value = (value << 16n) | BigInt(g);
  return value;
}

/**
 * Parses an IP address like `netip.ParseAddr`, then unmaps IPv4-mapped
 * addresses and drops the IPv6 zone.
 *
 * @param s The address text.
 * @returns The address, or `undefined` if `s` is not an address.
 */
export function parseIP(s: string): IPAddress | undefined {
  if (s.includes(":")) {
    const v6 = parseIPv6(s);
    return v6 === undefined ? undefined : address(false, v6);
  }
  if (s.includes("%")) return undefined;
  const v4 = parseIPv4(s);
  return v4 === undefined ? undefined : address(true, v4);
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
  let s = raw;
  if (s.startsWith("[")) {
    const end = s.indexOf("]");
    if (end > 0) s = s.slice(1, end);
  } else {
    const colon = s.indexOf(":");
    if (colon >= 0 && s.indexOf(":", colon + 1) < 0) s = s.slice(0, colon);
  }
  return parseIP(s) ?? null;
}

interface Range {
  readonly start: bigint;
  readonly end: bigint;
}

/**
 * A set of IPs and CIDR ranges (Traefik's `ip.Checker`).
 */
export class IPChecker {
  readonly #exact: ReadonlySet<bigint>;
  readonly #ranges: readonly Range[];

  private constructor(exact: Set<bigint>, ranges: Range[]) {
    this.#exact = exact;
    this.#ranges = ranges;
  }

  /**
   * Builds a checker from IPs and CIDRs.
   *
   * @param entries IPs (`10.0.0.1`, `::1`) and CIDRs (`10.0.0.0/8`, `fd00::/8`).
   * @returns The checker.
   * @throws {RangeError} Naming the first entry that is neither an IP nor a CIDR.
   */
  static parse(entries: readonly string[]): IPChecker {
    const exact = new Set<bigint>();
    const ranges: Range[] = [];
    for (const entry of entries) {
      const ip = parseIP(entry);
      if (ip !== undefined) {
        exact.add(ip.key);
        continue;
      }
      const range = parsePrefix(entry);
      if (range === undefined) {
        throw new RangeError(`"${entry}" is neither an IP address nor a CIDR range`);
      }
      if (range.start === range.end) exact.add(range.start);
      else ranges.push(range);
    }
    return new IPChecker(exact, ranges);
  }

  /**
   * Tells whether an address is in the set.
   *
   * @param ip A parsed address.
   * @returns `true` if it equals one of the IPs or falls in one of the ranges.
   */
  contains(ip: IPAddress): boolean {
    if (this.#exact.has(ip.key)) return true;
    for (const r of this.#ranges) {
      if (r.start <= ip.key && ip.key <= r.end) return true;
    }
    return false;
  }
}

/** Parses a CIDR like `netip.ParsePrefix` into an inclusive range of keys. */
function parsePrefix(s: string): Range | undefined {
  const slash = s.lastIndexOf("/");
  if (slash < 0) return undefined;
  const addrText = s.slice(0, slash);
  const bitsText = s.slice(slash + 1);
  // netip.ParsePrefix: no zone, bits in decimal without sign or leading zero.
  if (addrText.includes("%") || !/^(?:0|[1-9][0-9]*)$/.test(bitsText)) return undefined;
  const v6 = addrText.includes(":");
  const raw = v6 ? parseIPv6(addrText) : parseIPv4(addrText);
  if (raw === undefined) return undefined;
  const width = v6 ? 128n : 32n;
  const bits = BigInt(bitsText);
  if (bits > width) return undefined;
  const hostMask = (1n << (width - bits)) - 1n;
  const start = address(!v6, raw & ~hostMask);
  const end = address(!v6, (raw & ~hostMask) | hostMask);
  return { start: start.key, end: end.key };
}
