/**
 * Delegates authentication to an external service (Traefik's `forwardAuth`).
 *
 * For every request, Pacer calls `address` (GET, or the request's method with
 * `preserveRequestMethod`) with the request's headers, minus hop-by-hop ones
 * and filtered by `authRequestHeaders` when set, plus:
 *
 * | header               | value                                          |
 * |----------------------|------------------------------------------------|
 * | `X-Forwarded-Method` | the request method                             |
 * | `X-Forwarded-Proto`  | `https` on a TLS entrypoint, else `http`        |
 * | `X-Forwarded-Host`   | the request Host                               |
 * | `X-Forwarded-Uri`    | path and query of the request                  |
 * | `X-Forwarded-For`    | the client (socket peer) IP                    |
 *
 * With `trustForwardHeader`, incoming values of these headers are kept
 * (`X-Forwarded-For` gets the peer appended); without it they are replaced.
 * Headers from a peer outside the entrypoint's `forwardedHeaders.trustedIPs`
 * (the `client` context variable set by the entrypoint) are never trusted:
 * its `X-Forwarded-*` and `X-Real-Ip` headers are not sent at all, as
 * Traefik's entrypoint would have dropped them before any middleware.
 *
 * A 2xx answer lets the request through, with `authResponseHeaders` (and
 * headers matching `authResponseHeadersRegex`) copied from the answer onto
 * the request, replacing the client's. Any other answer is returned to the
 * client as is: status, headers (hop-by-hop ones dropped) and body, with a
 * relative `Location` made absolute against `address` unless
 * `preserveLocationHeader`. Redirects are not followed. An unreachable auth
 * server (or no answer within 30 s) gives an empty `500`; an answer body over
 * `maxResponseBodySize` bytes (if ≥ 0) an empty `401`.
 *
 * `addAuthCookiesToResponse` lists cookies that the auth server sets: they are
 * added to the service's response, replacing the service's cookies of the same
 * names. `headerField` names an answer header holding the user name, which
 * becomes the `clientUsername` context variable (access logs).
 *
 * With `forwardBody`, the request body is read into memory (this breaks
 * streaming), sent to the auth server and then to the service; a body larger
 * than `maxBodySize` bytes (if ≥ 0) gets an empty `401`. Deno's `fetch` cannot
 * send a body with GET or HEAD, so when a body must be forwarded with one of
 * those methods, the auth request is sent as POST (`X-Forwarded-Method` still
 * names the original method).
 *
 * `tls.ca`, `tls.cert` and `tls.key` take a file path or inline PEM. Deno has
 * no per-client switch to skip certificate verification, so
 * `tls.insecureSkipVerify` is accepted but has no effect (a warning is
 * logged); trust the auth server's CA with `tls.ca` instead, or start Pacer
 * with `--unsafely-ignore-certificate-errors=<host>`. `tls.caOptional`
 * (deprecated in Traefik) is accepted and ignored.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     sso:
 *       forwardAuth:
 *         address: "https://auth.internal/verify"
 *         authResponseHeaders: ["X-Auth-User", "X-Auth-Groups"]
 *         tls:
 *           ca: /etc/pacer/auth-ca.pem
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import {
  copyHeaders,
  definePlugin,
  headerPairs,
  remoteIP,
  rewriteRequest,
  z,
} from "../../plugin/mod.ts";
import type { PacerEnv } from "../../plugin/mod.ts";
import { noteClientUsername } from "../../log/access_log.ts";
import type { Logger } from "../../log/logger.ts";
import { compileGoRegexp, goRegexpError } from "../../go/regexp.ts";
import { clientWatch } from "../../service/client_watch.ts";
import { derivedRequest } from "../../util/derived_request.ts";
import { readAtMost } from "../_http.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The authenticated user name, set by basicAuth and forwardAuth (`headerField`), for what follows. */
    clientUsername: string;
  }
}

const tlsSchema = z.strictObject({
  /** CA certificate (file path or PEM) trusted for the auth server, besides the system ones. */
  ca: z.string().min(1).optional(),
  /** Client certificate (file path or PEM), with `key`. */
  cert: z.string().min(1).optional(),
  /** Client private key (file path or PEM), with `cert`. */
  key: z.string().min(1).optional(),
  /**
   * Accepted for compatibility; Deno cannot skip verification per client
   * (see the module doc).
   * @default {false}
   */
  insecureSkipVerify: z.boolean().default(false),
  /** Deprecated in Traefik; accepted and ignored. */
  caOptional: z.boolean().optional(),
}).superRefine((tls, ctx) => {
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: "cert and key must be set together",
      path: [tls.cert === undefined ? "cert" : "key"],
    });
  }
});

/** forwardAuth options (Traefik v3 names and defaults). */
export const forwardAuthConfig = z.strictObject({
  /** URL of the authentication server. Required. */
  address: z.string().refine(
    (a) => URL.canParse(a) && /^https?:$/.test(new URL(a).protocol),
    { message: "must be an http:// or https:// URL, such as http://auth:8080/verify" },
  ),
  /** TLS settings for an https:// `address`. */
  tls: tlsSchema.optional(),
  /**
   * Trust the incoming `X-Forwarded-*` headers (forward them as they are).
   * @default {false}
   */
  trustForwardHeader: z.boolean().default(false),
  /**
   * Headers copied from the auth server's answer onto the request, replacing
   * the client's.
   * @default {[]}
   */
  authResponseHeaders: z.array(z.string().min(1)).default([]),
  /**
   * Regular expression (Go syntax; partial match, anchor with `^…$`): request
   * headers matching it are removed, and the auth answer's matching headers
   * copied. Matched against canonical names (`X-Auth-User`).
   * @default {""}
   */
  authResponseHeadersRegex: z.string().default("").superRefine((source, ctx) => {
    const problem = source === "" ? undefined : goRegexpError(source);
    if (problem) ctx.addIssue({ code: "custom", message: problem });
  }),
  /**
   * Request headers sent to the auth server; empty: all of them.
   * @default {[]}
   */
  authRequestHeaders: z.array(z.string().min(1)).default([]),
  /**
   * Cookies set by the auth server that are added to the response,
   * replacing the service's cookies of the same names.
   * @default {[]}
   */
  addAuthCookiesToResponse: z.array(z.string().min(1)).default([]),
  /**
   * Send the request body to the auth server (buffers it).
   * @default {false}
   */
  forwardBody: z.boolean().default(false),
  /**
   * Largest body forwarded, in bytes; larger ones get 401. -1: no limit.
   * @default {-1}
   */
  maxBodySize: z.number().int().min(-1).default(-1),
  /**
   * Largest auth server answer body read, in bytes; a larger one gets an
   * empty 401. -1: no limit.
   * @default {-1}
   */
  maxResponseBodySize: z.number().int().min(-1).default(-1),
  /** Answer header holding the authenticated user name (for access logs). */
  headerField: z.string().min(1).optional(),
  /**
   * Return the auth server's `Location` as is instead of resolving it
   * against `address`.
   * @default {false}
   */
  preserveLocationHeader: z.boolean().default(false),
  /**
   * Call the auth server with the request's method instead of GET.
   * @default {false}
   */
  preserveRequestMethod: z.boolean().default(false),
});
/** Validated forwardAuth options. */
export type ForwardAuthConfig = z.output<typeof forwardAuthConfig>;

/** Runtime dependencies of {@linkcode forwardAuth}. */
export interface ForwardAuthOptions {
  /** Client for the auth calls (TLS settings); the global one when unset. */
  readonly client?: Deno.HttpClient;
  /** When it aborts, `client` is closed once no request is being authenticated. */
  readonly signal?: AbortSignal;
  /** Time allowed for an auth call, answer body included. @default {30000} */
  readonly timeoutMs?: number;
  /** Where auth call failures are logged (debug). */
  readonly log?: Logger;
}

// Removed from the copy of the request (Traefik keeps Proxy-Authorization).
const HOP_BY_HOP = ["connection", "keep-alive", "te", "trailer", "transfer-encoding", "upgrade"];
const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Go's `http.CanonicalHeaderKey`: `x-auth-user` → `X-Auth-User`. */
function canonical(name: string): string {
  return name.toLowerCase().replace(
    /(^|-)([a-z])/g,
    (_m, dash: string, ch: string) => dash + ch.toUpperCase(),
  );
}

function cookieName(setCookie: string): string {
  const eq = setCookie.indexOf("=");
  return (eq < 0 ? "" : setCookie.slice(0, eq)).trim();
}

class BodyTooLarge extends Error {}

type Bytes = Uint8Array<ArrayBuffer>;

/** Reads a whole body of at most `max` bytes (`-1`: no limit). */
async function readBody(body: ReadableStream<Uint8Array>, max: number): Promise<Bytes> {
  const head = await readAtMost(body, max < 0 ? Infinity : max);
  if (head.complete) return head.bytes;
  await head.body.cancel();
  throw new BodyTooLarge();
}

function empty(status: number): Response {
  return new Response(null, { status });
}

/** The auth request's headers (Traefik's `writeHeader`). */
function authRequestHeaders(c: Context, config: ForwardAuthConfig, url: URL): Headers {
  const incoming = c.req.raw.headers;
  const out = copyHeaders(incoming);
  const listed = (incoming.get("connection") ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  for (const h of [...HOP_BY_HOP, ...listed, "host", "content-length"]) out.delete(h);
  if (config.authRequestHeaders.length > 0) {
    const keep = new Set(config.authRequestHeaders.map((h) => h.toLowerCase()));
    for (const [name] of headerPairs(out)) if (!keep.has(name)) out.delete(name);
  }
  // Traefik's entrypoint drops X-Forwarded-* from untrusted peers before any
  // middleware runs; Pacer's forwarder does it only at the end, so do it here.
  const client = (c.var as Record<string, unknown>).client as { trusted?: boolean } | undefined;
  const peerTrusted = client?.trusted ?? true;
  if (!peerTrusted) {
    for (const [name] of headerPairs(out)) {
      if (name.startsWith("x-forwarded-") || name === "x-real-ip") out.delete(name);
    }
  }
  const trust = config.trustForwardHeader && peerTrusted;
  const env = c.env as Partial<PacerEnv> | undefined;
  const pick = (name: string, own: string) => {
    const value = incoming.get(name);
    out.set(name, trust && value ? value : own);
  };
  const ip = remoteIP(c);
  if (ip !== "") {
    const prior = incoming.get("x-forwarded-for");
    out.set("x-forwarded-for", trust && prior ? `${prior}, ${ip}` : ip);
  }
  const tls = env?.tls ?? url.protocol === "https:";
  pick("x-forwarded-method", c.req.method);
  pick("x-forwarded-proto", tls ? "https" : "http");
  pick("x-forwarded-host", incoming.get("host") ?? url.host);
  pick("x-forwarded-uri", url.pathname + url.search);
  return out;
}

/**
 * Builds the forwardAuth middleware.
 * @throws {SyntaxError} If `authResponseHeadersRegex` does not compile (the schema reports it first).
 */
export function forwardAuth(
  config: ForwardAuthConfig,
  options: ForwardAuthOptions = {},
): MiddlewareHandler {
  const address = config.address;
  const regex = config.authResponseHeadersRegex === ""
    ? undefined
    : compileGoRegexp(config.authResponseHeadersRegex);
  const copied = config.authResponseHeaders.map((h) => h.toLowerCase());
  const authCookies = new Set(config.addAuthCookiesToResponse);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const log = options.log;
  const client = options.client;

  // Close the client with the generation, but not under a request that is
  // still being authenticated (it may not have called fetch yet).
  let running = 0;
  let closing = false;
  let closed = false;
  const closeIfIdle = () => {
    if (closing && running === 0 && !closed && client) {
      closed = true;
      client.close();
    }
  };
  const signal = options.signal;
  if (signal) {
    const stop = () => {
      closing = true;
      closeIfIdle();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
  }

  async function callAuth(
    c: Context,
    body: Bytes | undefined,
  ): Promise<{ res: Response; body: Bytes } | Response> {
    const url = new URL(c.req.url);
    const headers = authRequestHeaders(c, config, url);
    let method = config.preserveRequestMethod ? c.req.method : "GET";
    const sendBody = body !== undefined && body.byteLength > 0;
    if (sendBody && (method === "GET" || method === "HEAD")) method = "POST";
    const timeout = new AbortController();
    const timer = setTimeout(
      () => timeout.abort(new Error(`no answer within ${timeoutMs}ms`)),
      timeoutMs,
    );
    // The client watch, not c.req.raw.signal: subscribing to that costs every
    // request an extra operation in Deno.serve (src/service/client_watch.ts).
    let clientGone = false;
    const unwatch = clientWatch.watch(c.req.raw, () => {
      clientGone = true;
      timeout.abort(new Error("client went away"));
    });
    const init: RequestInit & { client?: Deno.HttpClient } = {
      method,
      headers: headerPairs(headers),
      redirect: "manual",
      signal: timeout.signal,
    };
    if (sendBody) init.body = body;
    if (client) init.client = client;
    try {
      const res = await fetch(address, init);
      // Read even a 2xx body (bounded), as Traefik does: it frees the connection.
      const answer = res.body
        ? await readBody(res.body, config.maxResponseBodySize)
        : new Uint8Array();
      return { res, body: answer };
    } catch (error) {
      if (error instanceof BodyTooLarge) return empty(401);
      log?.debug("forwardAuth: cannot call the auth server", { address, error });
      // Traefik's 499 when the client went away, 500 otherwise.
      return empty(clientGone ? 499 : 500);
    } finally {
      clearTimeout(timer);
      unwatch();
    }
  }

  function refusal(res: Response, body: Bytes): Response {
    const headers = new Headers();
    for (const [name, value] of headerPairs(res.headers)) {
      if (name === "set-cookie" || name === "content-length" || HOP_BY_HOP.includes(name)) continue;
      headers.append(name, value);
    }
    for (const cookie of res.headers.getSetCookie()) headers.append("set-cookie", cookie);
    const location = res.headers.get("location");
    if (location !== null && location !== "") {
      if (config.preserveLocationHeader) {
        headers.set("location", location);
      } else {
        // Go's Response.Location(): resolved against the auth request URL.
        if (!URL.canParse(location, address)) return empty(500);
        headers.set("location", new URL(location, address).href);
      }
    }
    return new Response(NULL_BODY.has(res.status) ? null : body, { status: res.status, headers });
  }

  /** Reads the body if it is forwarded, then asks the auth server. */
  async function check(c: Context): Promise<{ res: Response; body: Bytes } | Response> {
    let body: Bytes | undefined;
    if (config.forwardBody && c.req.raw.body) {
      try {
        body = await readBody(c.req.raw.body, config.maxBodySize);
      } catch (error) {
        if (error instanceof BodyTooLarge) return empty(401);
        log?.debug("forwardAuth: cannot read the request body", { error });
        return empty(500);
      }
      // The body was consumed: give the service a replayable copy.
      const old = c.req.raw;
      c.req.raw = derivedRequest(old, {
        body: old.method === "GET" || old.method === "HEAD" ? null : body,
      });
    }
    return await callAuth(c, body);
  }

  return async function forwardAuth(c, next) {
    running++;
    let answer: Awaited<ReturnType<typeof check>>;
    try {
      answer = await check(c);
    } finally {
      running--;
      closeIfIdle();
    }
    if (answer instanceof Response) return answer;
    const { res } = answer;

    if (config.headerField !== undefined) {
      const user = res.headers.get(config.headerField);
      const name = user ? user.split(",")[0]!.trim() : "";
      if (name) {
        c.set("clientUsername", name);
        noteClientUsername(c, name);
      }
    }

    if (res.status < 200 || res.status >= 300) return refusal(res, answer.body);

    if (copied.length > 0 || regex) {
      const headers = copyHeaders(c.req.raw.headers);
      for (const name of copied) {
        headers.delete(name);
        if (name === "set-cookie") {
          for (const v of res.headers.getSetCookie()) headers.append(name, v);
        } else {
          const value = res.headers.get(name);
          if (value !== null) headers.set(name, value);
        }
      }
      if (regex) {
        for (const [name] of headerPairs(headers)) {
          if (regex.test(canonical(name))) headers.delete(name);
        }
        for (const [name, value] of headerPairs(res.headers)) {
          if (regex.test(canonical(name))) headers.append(name, value);
        }
      }
      rewriteRequest(c, { headers });
    }

    const cookies = authCookies.size > 0 ? res.headers.getSetCookie() : [];
    await next();
    if (cookies.length === 0 || c.res.status === 101) return;
    const headers = copyHeaders(c.res.headers);
    headers.delete("set-cookie");
    for (const cookie of c.res.headers.getSetCookie()) {
      if (!authCookies.has(cookieName(cookie))) headers.append("set-cookie", cookie);
    }
    for (const cookie of cookies) {
      if (authCookies.has(cookieName(cookie))) headers.append("set-cookie", cookie);
    }
    const out = new Response(c.res.body, {
      status: c.res.status,
      statusText: c.res.statusText,
      headers,
    });
    // Reset first: assigning over c.res makes Hono merge the old headers back.
    c.res = undefined;
    c.res = out;
  };
}

/** Reads a Traefik "file or content" value: inline PEM, or a file path. */
async function fileOrContent(
  value: string,
  field: string,
  readTextFile: (path: string) => Promise<string>,
): Promise<string> {
  if (value.includes("-----BEGIN")) return value;
  try {
    return await readTextFile(value);
  } catch (error) {
    throw new Error(
      `Cannot create forwardAuth middleware as 'tls.${field}' cannot be read: ${value}: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/**
 * Creates the HTTP client for `tls` settings (CA, client certificate).
 * @throws {Error} If a file cannot be read (the message names the option and file).
 */
export async function createAuthClient(
  tls: NonNullable<ForwardAuthConfig["tls"]>,
  options: { log?: Logger; readTextFile?: (path: string) => Promise<string> } = {},
): Promise<Deno.HttpClient> {
  const read = options.readTextFile ?? Deno.readTextFile;
  const clientOptions: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {};
  if (tls.ca !== undefined) clientOptions.caCerts = [await fileOrContent(tls.ca, "ca", read)];
  if (tls.cert !== undefined && tls.key !== undefined) {
    clientOptions.cert = await fileOrContent(tls.cert, "cert", read);
    clientOptions.key = await fileOrContent(tls.key, "key", read);
  }
  if (tls.insecureSkipVerify) {
    options.log?.warn(
      "forwardAuth tls.insecureSkipVerify has no effect in Pacer (Deno verifies certificates); set tls.ca, or start Pacer with --unsafely-ignore-certificate-errors=<host>",
    );
  }
  try {
    return Deno.createHttpClient(clientOptions);
  } catch (error) {
    throw new Error(
      `Cannot create forwardAuth middleware as its 'tls' settings are invalid: ${
        (error as Error).message
      }`,
      { cause: error },
    );
  }
}

/** The forwardAuth plugin: loads TLS files when built; the client lives with the generation. */
export default definePlugin({
  name: "forwardAuth",
  description: "Delegates authentication to an external service",
  config: forwardAuthConfig,
  async create(config, ctx) {
    const client = config.tls ? await createAuthClient(config.tls, { log: ctx.log }) : undefined;
    return forwardAuth(config, { ...(client ? { client } : {}), signal: ctx.signal, log: ctx.log });
  },
});
