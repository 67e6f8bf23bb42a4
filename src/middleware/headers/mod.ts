/**
 * Manages request and response headers (Traefik's `headers`): custom
 * headers, CORS, and security headers (Traefik's port of `unrolled/secure`).
 *
 * Per request, in Traefik's order:
 * 1. A CORS preflight (`OPTIONS` with `Origin` and
 *    `Access-Control-Request-Method`) is answered here with 200 and the
 *    `Access-Control-*` headers, when any CORS option is set.
 * 2. `customRequestHeaders` are set on the request; an empty value removes
 *    the header; `Host` changes the Host sent to the service.
 * 3. With `allowedHosts` (and not `isDevelopment`), a request for another
 *    host (the first `hostsProxyHeaders` header present, else `Host`) is
 *    refused with 500 `Bad Host`, as Traefik does.
 * 4. On the response: security headers are set first, then
 *    `customResponseHeaders` (empty value = remove, so they can override
 *    both), then the CORS response headers and `Vary: Origin`.
 *
 * `Strict-Transport-Security` and `Public-Key-Pins` are only sent over
 * HTTPS (TLS, or an `sslProxyHeaders` match); `forceSTSHeader` sends STS
 * over HTTP too. Traefik v2's `sslRedirect`, `sslTemporaryRedirect`,
 * `sslHost` and `sslForceHost` were removed in v3 and are refused with a
 * pointer to `redirectScheme`/`redirectRegex`; v2's `featurePolicy` still
 * sets `Feature-Policy` (deprecated: use `permissionsPolicy`).
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     secured:
 *       headers:
 *         customResponseHeaders:
 *           X-Powered-By: ""          # removed
 *         accessControlAllowMethods: [GET, OPTIONS, PUT]
 *         accessControlAllowOriginList: [https://app.example.com]
 *         accessControlMaxAge: 100
 *         addVaryHeader: true
 *         stsSeconds: 31536000
 *         frameDeny: true
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { copyHeaders, definePlugin, type Logger, rewriteRequest, z } from "../../plugin/mod.ts";
import { compileGoRegexp, goRegexpError } from "../../go/regexp.ts";
import {
  BAD_HEADER_VALUE,
  editableHeaders,
  HEADER_NAME,
  isTLS,
  requestHost,
  textResponse,
  toByteString,
} from "../_http.ts";

const headerValue = z.string().refine((value) => !BAD_HEADER_VALUE.test(value), {
  message: "a header value cannot contain NUL, CR or LF",
});
const headerName = z.string().regex(HEADER_NAME, { message: "not a valid header name" });
const headerMap = z.record(z.string(), headerValue).superRefine((map, ctx) => {
  for (const name of Object.keys(map)) {
    if (!HEADER_NAME.test(name)) {
      ctx.addIssue({
        code: "custom",
        path: [name],
        message: `'${name}' is not a valid header name`,
      });
    }
  }
});
const goRegExp = z.string().superRefine((value, ctx) => {
  const error = goRegexpError(value);
  if (error) ctx.addIssue({ code: "custom", message: error });
});
const flag = z.boolean().default(false);
const text = headerValue.default("");

const REMOVED_V2_OPTIONS = {
  sslRedirect: "redirect with a redirectScheme middleware (scheme: https) instead",
  sslTemporaryRedirect: "redirect with a redirectScheme middleware (scheme: https) instead",
  sslForceHost: "redirect with a redirectRegex middleware instead",
  sslHost: "redirect with a redirectRegex middleware instead",
} as const;

/** headers options (Traefik's names and defaults). */
export const headersConfig = z.strictObject({
  /** Set on the request; an empty value removes the header. @default {{}} */
  customRequestHeaders: headerMap.default({}),
  /** Set on the response; an empty value removes the header. @default {{}} */
  customResponseHeaders: headerMap.default({}),
  /** Send `Access-Control-Allow-Credentials: true`. @default {false} */
  accessControlAllowCredentials: flag,
  /** `Access-Control-Allow-Headers` of preflight answers. @default {[]} */
  accessControlAllowHeaders: z.array(headerValue).default([]),
  /** `Access-Control-Allow-Methods` of preflight answers. @default {[]} */
  accessControlAllowMethods: z.array(headerValue).default([]),
  /** Allowed origins, exact, or `*` for any. @default {[]} */
  accessControlAllowOriginList: z.array(headerValue).default([]),
  /** Allowed origins as Go regular expressions. @default {[]} */
  accessControlAllowOriginListRegex: z.array(goRegExp).default([]),
  /** `Access-Control-Expose-Headers` of responses. @default {[]} */
  accessControlExposeHeaders: z.array(headerValue).default([]),
  /** `Access-Control-Max-Age` (seconds) of preflight answers. @default {0} */
  accessControlMaxAge: z.number().int().min(0).default(0),
  /** Add `Origin` to the response's `Vary`. @default {false} */
  addVaryHeader: flag,
  /** Hosts the request may be for; others get 500 `Bad Host`. @default {[]} */
  allowedHosts: z.array(z.string()).default([]),
  /** Headers that may carry the proxied host, checked before `Host`. @default {[]} */
  hostsProxyHeaders: z.array(headerName).default([]),
  /** Header values that mark a request as HTTPS (e.g. `X-Forwarded-Proto: https`). @default {{}} */
  sslProxyHeaders: headerMap.default({}),
  /** `max-age` of `Strict-Transport-Security`; 0 = no header. @default {0} */
  stsSeconds: z.number().int().min(0).default(0),
  /** Append `includeSubDomains` to STS. @default {false} */
  stsIncludeSubdomains: flag,
  /** Append `preload` to STS. @default {false} */
  stsPreload: flag,
  /** Send STS over plain HTTP too. @default {false} */
  forceSTSHeader: flag,
  /** `X-Frame-Options: DENY`. @default {false} */
  frameDeny: flag,
  /** `X-Frame-Options` value (overrides `frameDeny`). @default {""} */
  customFrameOptionsValue: text,
  /** `X-Content-Type-Options: nosniff`. @default {false} */
  contentTypeNosniff: flag,
  /** `X-XSS-Protection: 1; mode=block`. @default {false} */
  browserXssFilter: flag,
  /** `X-XSS-Protection` value (overrides `browserXssFilter`). @default {""} */
  customBrowserXSSValue: text,
  /** `Content-Security-Policy` value. @default {""} */
  contentSecurityPolicy: text,
  /** `Content-Security-Policy-Report-Only` value. @default {""} */
  contentSecurityPolicyReportOnly: text,
  /** `Public-Key-Pins` value (HPKP; HTTPS only). @default {""} */
  publicKey: text,
  /** `Referrer-Policy` value. @default {""} */
  referrerPolicy: text,
  /** `Permissions-Policy` value. @default {""} */
  permissionsPolicy: text,
  /** Deprecated (Traefik v2): `Feature-Policy` value; use `permissionsPolicy`. @default {""} */
  featurePolicy: text,
  /** Skip `allowedHosts`, STS and HPKP (local development). @default {false} */
  isDevelopment: flag,
  /** Removed in Traefik v3; only `false` is accepted. */
  sslRedirect: z.boolean().optional(),
  /** Removed in Traefik v3; only `false` is accepted. */
  sslTemporaryRedirect: z.boolean().optional(),
  /** Removed in Traefik v3; only `false` is accepted. */
  sslForceHost: z.boolean().optional(),
  /** Removed in Traefik v3; only `""` is accepted. */
  sslHost: z.string().optional(),
}).superRefine((config, ctx) => {
  for (const [key, advice] of Object.entries(REMOVED_V2_OPTIONS)) {
    if (config[key as keyof typeof REMOVED_V2_OPTIONS]) {
      ctx.addIssue({
        code: "custom",
        path: [key],
        message: `${key} was removed in Traefik v3 and is not supported: ${advice}`,
      });
    }
  }
  if (!hasCustomHeaders(config) && !hasCorsHeaders(config) && !hasSecureHeaders(config)) {
    ctx.addIssue({
      code: "custom",
      message:
        "headers configuration not valid: set at least one custom header, CORS or security option",
    });
  }
});
/** Validated headers options. */
export type HeadersConfig = z.output<typeof headersConfig>;

function hasCustomHeaders(c: HeadersConfig): boolean {
  return Object.keys(c.customRequestHeaders).length > 0 ||
    Object.keys(c.customResponseHeaders).length > 0;
}

function hasCorsHeaders(c: HeadersConfig): boolean {
  return c.accessControlAllowCredentials || c.accessControlAllowHeaders.length > 0 ||
    c.accessControlAllowMethods.length > 0 || c.accessControlAllowOriginList.length > 0 ||
    c.accessControlAllowOriginListRegex.length > 0 || c.accessControlExposeHeaders.length > 0 ||
    c.accessControlMaxAge !== 0 || c.addVaryHeader;
}

function hasSecureHeaders(c: HeadersConfig): boolean {
  return c.allowedHosts.length > 0 || c.hostsProxyHeaders.length > 0 ||
    Object.keys(c.sslProxyHeaders).length > 0 || c.stsSeconds !== 0 ||
    c.stsIncludeSubdomains || c.stsPreload || c.forceSTSHeader || c.frameDeny ||
    c.customFrameOptionsValue !== "" || c.contentTypeNosniff || c.browserXssFilter ||
    c.customBrowserXSSValue !== "" || c.contentSecurityPolicy !== "" ||
    c.contentSecurityPolicyReportOnly !== "" || c.publicKey !== "" || c.referrerPolicy !== "" ||
    c.permissionsPolicy !== "" || c.featurePolicy !== "" || c.isDevelopment;
}

/** Header edits: a value to set, or `null` to remove. */
type Edits = readonly (readonly [name: string, value: string | null])[];

function edits(map: Record<string, string>): Edits {
  return Object.entries(map).map((
    [name, value],
  ) => [name, value === "" ? null : toByteString(value)] as const);
}

/** Options of {@linkcode headers} besides the configuration. */
export interface HeadersOptions {
  /** Where deprecation warnings go. */
  readonly log?: Logger;
}

/** Builds the headers middleware. */
export function headers(config: HeadersConfig, options: HeadersOptions = {}): MiddlewareHandler {
  if (config.featurePolicy) {
    options.log?.warn("featurePolicy is deprecated, use permissionsPolicy instead");
  }
  const requestEdits = edits(config.customRequestHeaders);
  const responseEdits = edits(config.customResponseHeaders);

  // CORS, precomputed.
  const cors = hasCorsHeaders(config);
  const originList = config.accessControlAllowOriginList;
  const originRegexes = config.accessControlAllowOriginListRegex.map((r) => compileGoRegexp(r));
  const credentials = config.accessControlAllowCredentials;
  const allowHeaders = toByteString(config.accessControlAllowHeaders.join(","));
  const allowMethods = toByteString(config.accessControlAllowMethods.join(","));
  const exposeHeaders = toByteString(config.accessControlExposeHeaders.join(","));
  const maxAge = String(config.accessControlMaxAge);
  const addVary = config.addVaryHeader;
  const originAllowed = (origin: string): string | undefined => {
    for (const item of originList) {
      if (item === "*" || item === origin) return item;
    }
    for (const regex of originRegexes) {
      if (regex.test(origin)) return origin;
    }
    return undefined;
  };

  // Security headers, precomputed.
  const dev = config.isDevelopment;
  const allowedHosts = config.allowedHosts.length > 0 && !dev
    ? new Set(config.allowedHosts.map((h) => h.toLowerCase()))
    : undefined;
  const hostsProxyHeaders = config.hostsProxyHeaders;
  const sslProxyHeaders = Object.entries(config.sslProxyHeaders);
  const sts = config.stsSeconds !== 0 && !dev
    ? `max-age=${config.stsSeconds}${config.stsIncludeSubdomains ? "; includeSubDomains" : ""}${
      config.stsPreload ? "; preload" : ""
    }`
    : undefined;
  const forceSTS = config.forceSTSHeader;
  const publicKey = config.publicKey && !dev ? config.publicKey : undefined;
  const fixed: [string, string][] = [];
  const push = (name: string, value: string) => fixed.push([name, toByteString(value)]);
  const frame = config.customFrameOptionsValue || (config.frameDeny ? "DENY" : "");
  if (frame) push("X-Frame-Options", frame);
  if (config.contentTypeNosniff) push("X-Content-Type-Options", "nosniff");
  const xss = config.customBrowserXSSValue || (config.browserXssFilter ? "1; mode=block" : "");
  if (xss) push("X-XSS-Protection", xss);
  if (config.contentSecurityPolicy) {
    push("Content-Security-Policy", config.contentSecurityPolicy);
  }
  if (config.contentSecurityPolicyReportOnly) {
    push("Content-Security-Policy-Report-Only", config.contentSecurityPolicyReportOnly);
  }
  if (config.referrerPolicy) push("Referrer-Policy", config.referrerPolicy);
  if (config.featurePolicy) push("Feature-Policy", config.featurePolicy);
  if (config.permissionsPolicy) push("Permissions-Policy", config.permissionsPolicy);
  const needSSL = (sts !== undefined && !forceSTS) || publicKey !== undefined;

  const isSSL = (c: Context): boolean => {
    if (isTLS(c)) return true;
    const h = c.req.raw.headers;
    return sslProxyHeaders.some(([name, value]) => h.get(name) === value);
  };

  const preflight = (origin: string): Response => {
    const h = new Headers();
    if (credentials) h.set("Access-Control-Allow-Credentials", "true");
    if (allowHeaders) h.set("Access-Control-Allow-Headers", allowHeaders);
    if (allowMethods) h.set("Access-Control-Allow-Methods", allowMethods);
    const allowed = originAllowed(origin);
    if (allowed !== undefined) h.set("Access-Control-Allow-Origin", allowed);
    h.set("Access-Control-Max-Age", maxAge);
    h.set("Content-Length", "0");
    return new Response(null, { status: 200, headers: h });
  };

  return async function headers(c, next) {
    if (cors && c.req.method === "OPTIONS") {
      const origin = c.req.raw.headers.get("origin");
      if (origin && c.req.raw.headers.get("access-control-request-method")) {
        return preflight(origin);
      }
    }
    if (requestEdits.length > 0) {
      const h = copyHeaders(c.req.raw.headers);
      for (const [name, value] of requestEdits) {
        if (value === null) h.delete(name);
        else h.set(name, value);
      }
      rewriteRequest(c, { headers: h });
    }
    if (allowedHosts) {
      let host: string | undefined;
      for (const name of hostsProxyHeaders) {
        host = c.req.raw.headers.get(name) || undefined;
        if (host) break;
      }
      host ??= requestHost(c);
      if (!allowedHosts.has(host.toLowerCase())) return textResponse(500, "Bad Host");
    }
    const ssl = needSSL && isSSL(c);
    const origin = cors ? c.req.raw.headers.get("origin") ?? "" : "";

    await next();

    const out = editableHeaders(c);
    if (sts !== undefined && (forceSTS || ssl)) out.set("Strict-Transport-Security", sts);
    for (const [name, value] of fixed) out.set(name, value);
    if (publicKey !== undefined && ssl) out.set("Public-Key-Pins", publicKey);
    for (const [name, value] of responseEdits) {
      if (value === null) out.delete(name);
      else out.set(name, value);
    }
    if (!cors) return;
    const allowed = originAllowed(origin);
    if (allowed !== undefined) out.set("Access-Control-Allow-Origin", allowed);
    if (credentials) out.set("Access-Control-Allow-Credentials", "true");
    if (exposeHeaders) out.set("Access-Control-Expose-Headers", exposeHeaders);
    if (addVary) {
      const vary = out.get("Vary") ?? "";
      if (vary !== "Origin") out.set("Vary", vary ? `${vary},Origin` : "Origin");
    }
  };
}

/** The headers plugin. */
export default definePlugin({
  name: "headers",
  description: "Sets custom, CORS and security headers",
  config: headersConfig,
  create: (config, ctx) => headers(config, { log: ctx.log }),
});
