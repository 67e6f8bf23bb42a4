/**
 * Accepts or refuses requests by client IP (Traefik's `ipAllowList`).
 *
 * The client IP is the socket peer, or an address of `X-Forwarded-For`
 * chosen by `ipStrategy` (see `../_ip/mod.ts`). A client outside every
 * `sourceRange` entry gets `rejectStatusCode` (403 by default) with the
 * status text as body (`Forbidden`). Addresses and CIDRs are compiled once,
 * when the middleware is built.
 *
 * Traefik v2's `ipWhiteList` (the same minus `rejectStatusCode`) lives in
 * `../ip_white_list/mod.ts`.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     lan-only:
 *       ipAllowList:
 *         sourceRange: ["127.0.0.1/32", "192.168.1.7", "fd00::/8"]
 *         ipStrategy:
 *           depth: 1
 *         rejectStatusCode: 404
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { STATUS_CODES } from "node:http";
import { definePlugin, z } from "../../plugin/mod.ts";
import { IPChecker, ipOrCidrSchema } from "../../net/ip.ts";
import { ipStrategy, ipStrategySchema } from "../_ip/mod.ts";

/** ipWhiteList's options: `sourceRange` and `ipStrategy`. */
export const ipWhiteListConfig = z.strictObject({
  /** Allowed addresses and CIDR blocks (IPv4 and IPv6). Required, not empty. */
  sourceRange: z.array(ipOrCidrSchema).min(1, {
    message: "sourceRange is empty: list the allowed IPs or CIDRs",
  }),
  /** How the client IP is found. Unset: the socket peer. */
  ipStrategy: ipStrategySchema.optional(),
});

/** ipAllowList options (Traefik v3.3+ names and defaults). */
export const ipAllowListConfig = ipWhiteListConfig.extend({
  /**
   * Status answered to refused clients (0 means the default).
   * @default {403}
   */
  rejectStatusCode: z.number().int().refine(
    (code) => code === 0 || STATUS_CODES[code] !== undefined,
    {
      message: "must be an HTTP status code such as 403 or 404",
    },
  ).default(403).transform((code) => code === 0 ? 403 : code),
});
/** Validated ipAllowList options. */
export type IPAllowListConfig = z.output<typeof ipAllowListConfig>;
/** Validated ipWhiteList options. */
export type IPWhiteListConfig = z.output<typeof ipWhiteListConfig>;

/**
 * Builds the allow-list middleware.
 * @throws {TypeError} If an address or CIDR does not parse (the schema reports it first).
 */
export function ipAllowList(config: IPAllowListConfig | IPWhiteListConfig): MiddlewareHandler {
  const allowed = new IPChecker(config.sourceRange);
  const clientIP = ipStrategy(config.ipStrategy);
  const status = "rejectStatusCode" in config ? config.rejectStatusCode : 403;
  const text = STATUS_CODES[status] ?? "";
  return async function ipAllowList(c, next) {
    if (!allowed.contains(clientIP(c))) {
      return new Response(text, {
        status,
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }
    await next();
  };
}

/** The ipAllowList plugin. */
export default definePlugin({
  name: "ipAllowList",
  description: "Accepts or refuses requests by client IP",
  config: ipAllowListConfig,
  create: (config) => ipAllowList(config),
});
