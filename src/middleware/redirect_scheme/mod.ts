/**
 * Redirects the client to another scheme and/or port (Traefik's
 * `redirectScheme`), typically HTTP to HTTPS.
 *
 * The request's own scheme is `https` on a TLS connection, else `http`; a
 * trusted `X-Forwarded-Proto` (`http`/`ws` or `https`/`wss`) from a proxy in
 * front wins. A request already on the target scheme and port is passed on.
 * Default ports (80 for http, 443 for https) are left out of the `Location`.
 * GET requests get 302 (301 if `permanent`), other methods 307 (308), so
 * the method and body survive the redirect.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     to-https:
 *       redirectScheme:
 *         scheme: https
 *         permanent: true
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { definePlugin, z } from "../../plugin/mod.ts";
import {
  forwardedHeadersTrusted,
  isTLS,
  redirectResponse,
  requestHost,
  requestURI,
} from "../_http.ts";

/** redirectScheme options (Traefik's names and defaults). */
export const redirectSchemeConfig = z.strictObject({
  /**
   * Target scheme, e.g. `https`. Required.
   * @default {none}
   */
  scheme: z.string().min(1, { message: "you must provide a target scheme, e.g. https" })
    .regex(/^[a-zA-Z][a-zA-Z0-9+.-]*$/, { message: "must be a URL scheme such as https" }),
  /**
   * Target port (a string in Traefik; numbers are accepted). Unset: no port,
   * i.e. the scheme's default.
   * @default {""}
   */
  port: z.preprocess(
    (value) => typeof value === "number" ? String(value) : value,
    z.string().refine(
      (port) => port === "" || (/^\d+$/.test(port) && +port >= 1 && +port <= 65535),
      {
        message: "must be a port number between 1 and 65535",
      },
    ),
  ).default(""),
  /**
   * Answer 301/308 instead of 302/307.
   * @default {false}
   */
  permanent: z.boolean().default(false),
});
/** Validated redirectScheme options. */
export type RedirectSchemeConfig = z.output<typeof redirectSchemeConfig>;

// Traefik's uriPattern: optional scheme, host (IPv6 in brackets), port, rest.
const URI = /^(https?:\/\/)?(\[[\w:.]+\]|[\w._-]+)?(:\d+)?(.*)$/;

/** Splits `host[:port]` (IPv6 in brackets), returning the port with its colon. */
function splitHostPort(hostport: string): [host: string, port: string] {
  const m = /^(\[[^\]]*\]|[^:]*):(\d*)$/.exec(hostport);
  return m ? [m[1]!, ":" + m[2]] : [hostport, ""];
}

/** The URL the client asked for, as Traefik reconstructs it. */
function clientRequestURL(c: Context): string {
  let scheme = isTLS(c) ? "https" : "http";
  if (forwardedHeadersTrusted(c)) {
    const proto = c.req.raw.headers.get("x-forwarded-proto")?.toLowerCase();
    // An upgrade request may carry ws(s) from a previous hop; this middleware
    // only answers HTTP(S), so map them back.
    if (proto === "http" || proto === "ws") scheme = "http";
    else if (proto === "https" || proto === "wss") scheme = "https";
  }
  const [host, hostPort] = splitHostPort(requestHost(c));
  const port =
    (scheme === "http" && hostPort === ":80") || (scheme === "https" && hostPort === ":443")
      ? ""
      : hostPort;
  return `${scheme}://${host}${port}${requestURI(c)}`;
}

/** Builds the redirectScheme middleware. */
export function redirectScheme(config: RedirectSchemeConfig): MiddlewareHandler {
  const { scheme, permanent } = config;
  const defaultPort = (scheme === "http" && config.port === "80") ||
    (scheme === "https" && config.port === "443");
  const port = config.port && !defaultPort ? ":" + config.port : "";
  return async function redirectScheme(c, next) {
    const oldURL = clientRequestURL(c);
    const m = URI.exec(oldURL);
    const newURL = m ? `${scheme}://${m[2] ?? ""}${port}${m[4] ?? ""}` : oldURL;
    if (newURL === oldURL) {
      await next();
      return;
    }
    return redirectResponse(c.req.method, newURL, permanent);
  };
}

/** The redirectScheme plugin. */
export default definePlugin({
  name: "redirectScheme",
  description: "Redirects to another scheme and/or port",
  config: redirectSchemeConfig,
  create: (config) => redirectScheme(config),
});
