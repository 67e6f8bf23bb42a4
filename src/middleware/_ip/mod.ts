/**
 * Client IP helpers shared by the access- and traffic-control middlewares
 * (ipAllowList, rateLimit, inFlightReq): IP and CIDR matching compiled once
 * per configuration, Traefik's `ipStrategy` (which address of
 * `X-Forwarded-For` is the client) and `sourceCriterion` (what groups
 * requests as one source).
 *
 * Address parsing and CIDR matching live in `src/net/ip.ts`. Semantics follow
 * Traefik's `pkg/ip` (`RemoteAddrStrategy`, `DepthStrategy`, `PoolStrategy`)
 * and `GetSourceExtractor`:
 * - `depth > 0` takes the `depth`-th address of `X-Forwarded-For` counted from
 *   the right ("" when there are fewer), and wins over `excludedIPs`;
 * - `excludedIPs` scans `X-Forwarded-For` from the right and takes the first
 *   address not in the list ("" when none);
 * - otherwise the socket peer ({@linkcode remoteIP}) is the client;
 * - `ipv6Subnet` (depth and peer strategies only) replaces an IPv6 client by
 *   the first address of its `/ipv6Subnet` network, so a whole subnet counts
 *   as one client.
 *
 * Private to `src/middleware/`: not part of the plugin API.
 *
 * @module
 */
import type { Context } from "hono";
import { z } from "zod";
import { remoteIP } from "../../server/env.ts";
import { formatIP, IPChecker, ipOrCidrSchema, maskIP, parseIP } from "../../net/ip.ts";

/**
 * `ipStrategy`: how the client address is found. `true`, `""` or an empty
 * value stand for `{}` (Traefik's `allowEmpty` label form
 * `...ipstrategy=true`): use the socket peer.
 */
export const ipStrategySchema = z.preprocess(
  (value) => (value === true || value === "true" || value === "" || value === null ? {} : value),
  z.strictObject({
    /**
     * Take the address at this position of `X-Forwarded-For`, counted from
     * the right (1 = the last one). 0 disables it. Wins over `excludedIPs`.
     * @default {0}
     */
    depth: z.number().int().min(0).default(0),
    /**
     * Scan `X-Forwarded-For` from the right and take the first address that
     * is not in this list (addresses or CIDRs). Ignored when `depth > 0`.
     * @default {[]}
     */
    excludedIPs: z.array(ipOrCidrSchema).default([]),
    /**
     * Treat all IPv6 addresses of one `/ipv6Subnet` network as one client
     * (peer and `depth` strategies). Unset: each address is its own client.
     */
    ipv6Subnet: z.number().int().min(1).max(128).optional(),
  }),
);
/** A validated `ipStrategy`. */
export type IPStrategyConfig = z.output<typeof ipStrategySchema>;

/** Finds the client address of a request ("" when it cannot be known). */
export type IPExtractor = (c: Context) => string;

function subnetOf(ip: string, prefix: number | undefined): string {
  if (prefix === undefined) return ip;
  const parsed = parseIP(ip);
  if (!parsed || parsed.v4) return ip;
  return formatIP(maskIP(parsed, prefix));
}

function forwardedFor(c: Context): string[] {
  return (c.req.header("x-forwarded-for") ?? "").split(",");
}

/**
 * Compiles an `ipStrategy` into an extractor (Traefik's `IPStrategy.Get()`).
 * Without a strategy, the client is the socket peer.
 * @throws {TypeError} If an `excludedIPs` entry is not an address or CIDR.
 */
export function ipStrategy(config?: IPStrategyConfig): IPExtractor {
  const subnet = config?.ipv6Subnet;
  if (config && config.depth > 0) {
    const depth = config.depth;
    return function depthStrategy(c) {
      const xff = forwardedFor(c);
      if (xff.length < depth) return "";
      return subnetOf(xff[xff.length - depth]!.trim(), subnet);
    };
  }
  if (config && config.excludedIPs.length > 0) {
    const excluded = new IPChecker(config.excludedIPs);
    return function excludedIPsStrategy(c) {
      const xff = forwardedFor(c);
      for (let i = xff.length - 1; i >= 0; i--) {
        const candidate = xff[i]!.trim();
        if (!excluded.contains(candidate)) return candidate;
      }
      return "";
    };
  }
  if (subnet !== undefined) {
    return (c) => subnetOf(remoteIP(c), subnet);
  }
  return remoteIP;
}

/**
 * `sourceCriterion`: what groups requests as coming from one source. At most
 * one of the three may be set (Traefik's errors otherwise).
 */
export const sourceCriterionSchema = z.strictObject({
  /** Group by client address, found with this strategy. */
  ipStrategy: ipStrategySchema.optional(),
  /** Group by the value of this request header (a missing header is one group). */
  requestHeaderName: z.string().optional(),
  /** Group by the request's Host. @default {false} */
  requestHost: z.boolean().optional(),
}).superRefine((s, ctx) => {
  const ip = s.ipStrategy !== undefined;
  const header = (s.requestHeaderName ?? "") !== "";
  const host = s.requestHost === true;
  const fail = (message: string) => ctx.addIssue({ code: "custom", message });
  if (ip && header) fail("iPStrategy and RequestHeaderName are mutually exclusive");
  else if (ip && host) fail("iPStrategy and RequestHost are mutually exclusive");
  else if (header && host) fail("requestHost and RequestHeaderName are mutually exclusive");
});
/** A validated `sourceCriterion`. */
export type SourceCriterionConfig = z.output<typeof sourceCriterionSchema>;

/** The request's Host, port included when the client sent one (Go's `req.Host`). */
export function requestHost(c: Context): string {
  // HTTP/2 requests carry no Host header (TOOLCHAIN.md gotcha 5).
  return c.req.header("host") ?? new URL(c.req.url).host;
}

/**
 * Compiles a `sourceCriterion` into a source key extractor (Traefik's
 * `GetSourceExtractor`). With no criterion set, `fallback` decides:
 * rateLimit groups by client IP, inFlightReq by request host.
 */
export function sourceExtractor(
  criterion: SourceCriterionConfig | undefined,
  fallback: "ip" | "host",
): IPExtractor {
  if (criterion?.ipStrategy) return ipStrategy(criterion.ipStrategy);
  const header = criterion?.requestHeaderName ?? "";
  if (header !== "") return (c) => c.req.header(header) ?? "";
  if (criterion?.requestHost === true || fallback === "host") return requestHost;
  return remoteIP;
}
