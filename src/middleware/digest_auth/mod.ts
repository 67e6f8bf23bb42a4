/**
 * Restricts access to known users with HTTP Digest authentication (Traefik's
 * `digestAuth`, RFC 2617 with `algorithm=MD5` and `qop=auth`, checked as
 * go-http-auth does it).
 *
 * Users are htdigest lines `name:realm:hash`, where `hash` is
 * `MD5("name:realm:password")` in hex (`htdigest`), inline (`users`) and/or in
 * a file (`usersFile`, read when the middleware is built; inline users win
 * over file users of the same name and realm). Only users of the configured
 * `realm` can log in, so one file may serve several realms.
 *
 * A request without valid credentials gets `401` with the body
 * `401 Unauthorized` and a fresh challenge:
 * `WWW-Authenticate: Digest realm="<realm>", nonce="<random>", opaque="<random>", algorithm="MD5", qop="auth"`.
 * The client answers with `response = MD5(HA1:nonce:nc:cnonce:auth:MD5(method:uri))`.
 * A request passes when that response is right for the user's stored hash,
 * `uri` names the request's own path and query, the nonce was issued by this
 * middleware less than five minutes ago, and its count `nc` is higher than
 * any seen before with that nonce (replay protection). When only the nonce is
 * at fault (unknown, expired, or an out-of-order count), the challenge says
 * `stale=true` so that clients retry without asking the user again; a
 * repeated count gets a plain challenge.
 *
 * Once authenticated, the user name goes to `headerField` (if set) and to the
 * context variable `clientUsername`, and the `Authorization` header is dropped
 * if `removeHeader` is set. The access log names the user a client sent,
 * authenticated or not (as Traefik does).
 *
 * Issued nonces are kept in memory, at most 1000 per router (the least
 * recently used goes first), as go-http-auth keeps about as many.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     auth:
 *       digestAuth:
 *         users:
 *           - "test:traefik:a2688e031edb4be6a3797f3882655c05"
 *         headerField: X-WebAuth-User
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { createHash, timingSafeEqual } from "node:crypto";
import { definePlugin, z } from "../../plugin/mod.ts";
import { noteClientUsername } from "../../log/access_log.ts";
import { passAuthenticatedUser, readUsersFile as readLines } from "../_auth.ts";
import type { Logger } from "../../log/logger.ts";
import { pathAndQuery } from "../../service/forward.ts";

const DEFAULT_REALM = "traefik";
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function isUserLine(line: string): boolean {
  return line.split(":").length === 3;
}

/** A realm is quoted in the challenge (a header value) and a field of each user line. */
function isRealm(realm: string): boolean {
  for (const ch of realm) {
    const code = ch.charCodeAt(0);
    if (code < 0x20 || code > 0x7e || ch === '"' || ch === ":" || ch === "\\") return false;
  }
  return true;
}

/** digestAuth options (Traefik's names and defaults). */
export const digestAuthConfig = z.strictObject({
  /**
   * Users as `name:realm:hash` htdigest lines (`htdigest -c file realm name`).
   * @default {[]}
   */
  users: z.array(
    z.string().refine(isUserLine, {
      message: 'must be "name:realm:hash" (an htdigest line, e.g. from htdigest)',
    }),
  ).default([]),
  /**
   * Path of an htdigest file, read when the middleware is built; blank lines
   * and `#` comments are skipped. Merged with `users` (inline users win).
   */
  usersFile: z.string().min(1).optional(),
  /**
   * Realm sent in `WWW-Authenticate`; only users of this realm can log in (an
   * empty value means the default).
   * @default {"traefik"}
   */
  realm: z.string()
    .refine(isRealm, { message: "must be printable ASCII without '\"', ':' or '\\'" })
    .default(DEFAULT_REALM)
    .transform((r) => r === "" ? DEFAULT_REALM : r),
  /**
   * Remove the `Authorization` header before forwarding the request.
   * @default {false}
   */
  removeHeader: z.boolean().default(false),
  /** Request header that receives the authenticated user name. */
  headerField: z.string().regex(TOKEN, { message: "must be a header name" }).optional(),
});
/** Validated digestAuth options. */
export type DigestAuthConfig = z.output<typeof digestAuthConfig>;

/** Test seams and pre-read data for {@linkcode digestAuth}. */
export interface DigestAuthOptions {
  /** Lines of `usersFile` (see {@linkcode readDigestUsersFile}); required when `usersFile` is set. */
  readonly fileUsers?: readonly string[];
  /** Clock for nonce lifetimes, in milliseconds. @default {performance.now} */
  readonly now?: () => number;
  /** Source of nonces and of the opaque value (called once, first). @default {16 base64 characters from 12 random bytes} */
  readonly randomKey?: () => string;
  /** How long an issued nonce may be used, in milliseconds. @default {300_000} */
  readonly nonceLifetimeMs?: number;
  /** Issued nonces tracked at once; beyond, the least recently used is forgotten. @default {1000} */
  readonly maxNonces?: number;
  /** Where warnings about unusable users and debug lines about refusals go. */
  readonly log?: Logger;
}

/**
 * Reads an htdigest file: one `name:realm:hash` per line, blank lines and
 * `#` comments skipped.
 * @throws {Error} If the file cannot be read or a line is not
 *   `name:realm:hash` (the message names the file and line, never the hash).
 */
export function readDigestUsersFile(
  path: string,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<string[]> {
  return readLines(
    path,
    { middleware: "digestAuth", shape: "name:realm:hash", isLine: isUserLine },
    readTextFile,
  );
}

/** go-http-auth's `RandomKey()`: 12 random bytes in base64. */
function randomKey(): string {
  return btoa(String.fromCharCode(...crypto.getRandomValues(new Uint8Array(12))));
}

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

const encoder = new TextEncoder();

function sameDigest(expected: string, given: string): boolean {
  const a = encoder.encode(expected);
  const b = encoder.encode(given);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The parameters of a `Digest` Authorization header, names lower-cased, or
 * `undefined` if it is not one. Lists split on commas outside quoted strings
 * and quoted values are unquoted with `\` escapes, as go-http-auth's
 * `ParsePairs` does; the scheme is matched in any case (RFC 7235).
 */
function parseDigestParams(raw: string | undefined): Map<string, string> | undefined {
  if (raw === undefined) return undefined;
  // Header values arrive one character per byte; clients send UTF-8 (user
  // names, request targets), which is what the digest was computed over.
  const header = /[\u0080-\uffff]/.test(raw)
    ? new TextDecoder().decode(Uint8Array.from(raw, (ch) => ch.charCodeAt(0) & 0xff))
    : raw;
  const space = header.indexOf(" ");
  if (space < 0 || header.slice(0, space).toLowerCase() !== "digest") return undefined;
  const items: string[] = [];
  let item = "";
  let quoted = false;
  let escaped = false;
  for (const ch of header.slice(space + 1)) {
    if (escaped) {
      item += ch;
      escaped = false;
    } else if (quoted) {
      if (ch === "\\") escaped = true;
      else {
        if (ch === '"') quoted = false;
        item += ch;
      }
    } else if (ch === ",") {
      items.push(item);
      item = "";
    } else {
      if (ch === '"') quoted = true;
      item += ch;
    }
  }
  items.push(item);
  const params = new Map<string, string>();
  for (const raw of items) {
    const pair = raw.trim();
    if (pair === "") continue;
    const eq = pair.indexOf("=");
    if (eq < 0) {
      params.set(pair.toLowerCase(), "");
      continue;
    }
    let value = pair.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1);
    }
    params.set(pair.slice(0, eq).trim().toLowerCase(), value);
  }
  return params;
}

/**
 * Whether the `uri` a client signed names the request's resource: the same
 * request target, or one the URL parser resolves to the same path and query
 * (absolute form, dot segments, characters it escapes), as the request's own
 * target was when it arrived. go-http-auth also accepts any `uri` whose path
 * is a prefix of the request's, query ignored; that lets one signed header
 * stand for other resources, so it is not reproduced.
 */
function sameTarget(uri: string, url: string): boolean {
  if (uri === pathAndQuery(url)) return true;
  try {
    const signed = new URL(uri, url);
    const actual = new URL(url);
    return signed.pathname === actual.pathname && signed.search === actual.search;
  } catch {
    return false;
  }
}

interface NonceState {
  /** When it was issued (clock of the options). */
  readonly issued: number;
  /** Highest nonce count accepted so far (0: none). */
  nc: bigint;
}

/** Why a request was refused; `stale` ones only had a nonce problem. */
type Refusal =
  | "parameters"
  | "uri mismatch"
  | "wrong response"
  | "nonce count"
  | "replayed nonce count"
  | "stale: unknown nonce"
  | "stale: expired nonce"
  | "stale: nonce count out of order";

/**
 * Builds the digestAuth middleware.
 *
 * @param config Validated options.
 * @param options Users read from `usersFile`, and test seams.
 * @throws {TypeError} If `usersFile` is set but its lines were not given.
 * @throws {RangeError} If `nonceLifetimeMs` or `maxNonces` is not positive.
 */
export function digestAuth(
  config: DigestAuthConfig,
  options: DigestAuthOptions = {},
): MiddlewareHandler {
  if (config.usersFile !== undefined && options.fileUsers === undefined) {
    throw new TypeError(
      "Cannot create digestAuth middleware as 'usersFile' was not read (use readDigestUsersFile first)",
    );
  }
  const lifetime = options.nonceLifetimeMs ?? 300_000;
  const maxNonces = options.maxNonces ?? 1000;
  if (!(lifetime > 0) || !(maxNonces >= 1)) {
    throw new RangeError(
      `Cannot create digestAuth middleware as 'nonceLifetimeMs' and 'maxNonces' must be > 0: current values are ${lifetime} and ${maxNonces}`,
    );
  }
  const now = options.now ?? (() => performance.now());
  const nextKey = options.randomKey ?? randomKey;
  const { realm } = config;

  // Traefik keys users by "name:realm" and asks for the configured realm, so
  // lines of other realms are never used. File users first, inline users
  // after: the later entry wins (Traefik). Hex is compared in lower case, as
  // clients send it.
  const users = new Map<string, string>();
  const lines = [...(options.fileUsers ?? []), ...config.users];
  for (const line of lines) {
    const [name, lineRealm, hash] = line.split(":") as [string, string, string];
    if (lineRealm === realm) users.set(name, hash.toLowerCase());
  }
  const unusable = [...users].filter(([, hash]) => !/^[0-9a-f]{32}$/.test(hash)).map(([n]) => n);
  if (unusable.length > 0) {
    options.log?.warn(
      "digestAuth users whose hash is not 32 hex digits can never log in (use htdigest)",
      { users: unusable.join(",") },
    );
  }
  if (users.size === 0 && lines.length > 0) {
    options.log?.warn("digestAuth has no user in its realm, so no one can log in", { realm });
  }

  const opaque = nextKey();
  // Insertion order is use order: the first entry is the least recently used.
  const nonces = new Map<string, NonceState>();
  // Unknown users are checked against this, so that they cost the same.
  const noUser = md5(`${nextKey()}:${realm}:`);

  function issueNonce(): string {
    const at = now();
    for (const [nonce, state] of nonces) {
      if (nonces.size < maxNonces && at - state.issued < lifetime) break;
      nonces.delete(nonce);
    }
    const nonce = nextKey();
    nonces.set(nonce, { issued: at, nc: 0n });
    return nonce;
  }

  function challenge(c: Context, stale: boolean): Response {
    const header = `Digest realm="${realm}", nonce="${issueNonce()}", opaque="${opaque}", ${
      stale ? "stale=true, " : ""
    }algorithm="MD5", qop="auth"`;
    return c.text("401 Unauthorized\n", 401, { "WWW-Authenticate": header });
  }

  /** go-http-auth's `CheckAuth`, in its order: the nonce table is touched only once the digest is right. */
  function check(c: Context, params: Map<string, string>, user: string): Refusal | undefined {
    if (
      params.get("opaque") !== opaque ||
      (params.get("algorithm") ?? "MD5").toUpperCase() !== "MD5" ||
      params.get("qop") !== "auth"
    ) {
      return "parameters";
    }
    const uri = params.get("uri");
    if (uri === undefined || !sameTarget(uri, c.req.url)) return "uri mismatch";

    const ha1 = users.get(user);
    const nonce = params.get("nonce") ?? "";
    const nc = params.get("nc") ?? "";
    const ha2 = md5(`${c.req.method}:${uri}`);
    const expected = md5(
      `${ha1 ?? noUser}:${nonce}:${nc}:${params.get("cnonce") ?? ""}:auth:${ha2}`,
    );
    if (!sameDigest(expected, params.get("response") ?? "") || ha1 === undefined) {
      return "wrong response";
    }

    // The client knows the password; what is left is whether this nonce and
    // count may be used. RFC 2617 §3.2.1: a valid digest for an invalid
    // nonce gets stale=true, so the client retries without asking the user.
    if (!/^[0-9a-fA-F]{1,16}$/.test(nc)) return "nonce count";
    const count = BigInt(`0x${nc}`);
    const state = nonces.get(nonce);
    if (state === undefined) return "stale: unknown nonce";
    if (now() - state.issued >= lifetime) {
      nonces.delete(nonce);
      return "stale: expired nonce";
    }
    if (count === state.nc) return "replayed nonce count";
    // Pipelined requests may arrive out of order (go-http-auth).
    if (count < state.nc) return "stale: nonce count out of order";
    state.nc = count;
    nonces.delete(nonce);
    nonces.set(nonce, state);
    return undefined;
  }

  return async function digestAuth(c, next) {
    const params = parseDigestParams(c.req.header("authorization"));
    const user = params?.get("username");
    if (user) noteClientUsername(c, user);
    if (params === undefined || user === undefined) return challenge(c, false);
    const refusal = check(c, params, user);
    if (refusal !== undefined) {
      options.log?.debug("Digest authentication failed", { reason: refusal });
      return challenge(c, refusal.startsWith("stale"));
    }
    passAuthenticatedUser(c, user, config);
    await next();
  };
}

/** The digestAuth plugin: reads `usersFile` (if any) when built. */
export default definePlugin({
  name: "digestAuth",
  description: "Restricts access to known users with HTTP Digest authentication",
  config: digestAuthConfig,
  async create(config, ctx) {
    const fileUsers = config.usersFile === undefined
      ? undefined
      : await readDigestUsersFile(config.usersFile);
    return digestAuth(config, { ...(fileUsers ? { fileUsers } : {}), log: ctx.log });
  },
});
