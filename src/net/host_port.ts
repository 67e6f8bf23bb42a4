/**
 * Splitting a port off an address as written in a URL authority or a peer
 * address (`host:port`, `[v6]:port`).
 *
 * @module
 */

/**
 * `address` without its port: `host:port` → `host`, `[v6]:port` and `[v6]` →
 * `v6`. A bare IPv6 address (two colons or more) is kept whole, as is
 * anything without a port.
 *
 * @param address A host or IP, with or without a port.
 * @returns The host part.
 */
export function withoutPort(address: string): string {
  if (address.startsWith("[")) {
    const end = address.indexOf("]");
    return end > 0 ? address.slice(1, end) : address;
  }
  const colon = address.indexOf(":");
  if (colon >= 0 && address.indexOf(":", colon + 1) < 0) return address.slice(0, colon);
  return address;
}
