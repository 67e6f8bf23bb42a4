/**
 * Restricts access to known users with HTTP Basic authentication (Traefik's
 * `basicAuth`).
 *
 * Users are htpasswd lines `name:hash`, inline (`users`) and/or in a file
 * (`usersFile`, read when the middleware is built; inline users win over file
 * users of the same name). Hashes: bcrypt (`$2y$`, `$2a$`, `$2b$`), SHA-1
 * (`{SHA}`) and MD5 (`$apr1$`, `$1$`); plain text never matches.
 *
 * A request without valid credentials gets `401` with
 * `WWW-Authenticate: Basic realm="<realm>"` and the body `401 Unauthorized`.
 * Once authenticated, the user name goes to `headerField` (if set) and to the
 * context variable `clientUsername`, and the `Authorization` header is
 * dropped if `removeHeader` is set. The access log names the user a client
 * sent, authenticated or not (as Traefik does).
 *
 * bcrypt is slow by design (tens of milliseconds per check), so a successful
 * bcrypt check is remembered for a minute (at most 1024 credentials, keyed by
 * a SHA-256 of user, password and hash; the password itself is not kept), and
 * concurrent checks of the same credentials share one computation.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     auth:
 *       basicAuth:
 *         users:
 *           - "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"
 *         realm: admin
 *         removeHeader: true
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { createHash } from "node:crypto";
import { definePlugin, z } from "../../plugin/mod.ts";
import { noteClientUsername } from "../../log/access_log.ts";
import { passAuthenticatedUser, readUsersFile as readLines } from "../_auth.ts";
import type { Logger } from "../../log/logger.ts";
import { checkPassword, hashKind } from "./_htpasswd.ts";

function isUserLine(line: string): boolean {
  return line.split(":").length === 2;
}

/** basicAuth options (Traefik's names and defaults). */
export const basicAuthConfig = z.strictObject({
  /**
   * Users as `name:hash` htpasswd lines (`htpasswd -nB name`).
   * @default {[]}
   */
  users: z.array(
    z.string().refine(isUserLine, {
      message: 'must be "name:hash" (an htpasswd line, e.g. from htpasswd -nB name)',
    }),
  ).default([]),
  /**
   * Path of an htpasswd file, read when the middleware is built; blank lines
   * and `#` comments are skipped. Merged with `users` (inline users win).
   */
  usersFile: z.string().min(1).optional(),
  /**
   * Realm sent in `WWW-Authenticate` (an empty value means the default).
   * @default {"traefik"}
   */
  realm: z.string().default("traefik").transform((r) => r === "" ? "traefik" : r),
  /**
   * Remove the `Authorization` header before forwarding the request.
   * @default {false}
   */
  removeHeader: z.boolean().default(false),
  /** Request header that receives the authenticated user name. */
  headerField: z.string().min(1).optional(),
});
/** Validated basicAuth options. */
export type BasicAuthConfig = z.output<typeof basicAuthConfig>;

/** Test seams and pre-read data for {@linkcode basicAuth}. */
export interface BasicAuthOptions {
  /** Lines of `usersFile` (see {@linkcode readUsersFile}); required when `usersFile` is set. */
  readonly fileUsers?: readonly string[];
  /** Clock for the bcrypt cache, in milliseconds. @default {performance.now} */
  readonly now?: () => number;
  /** Where warnings about unusable hashes go. */
  readonly log?: Logger;
  /** Password check, replaceable to count bcrypt runs. @default {checkPassword} */
  readonly verify?: (password: string, hash: string) => Promise<boolean> | boolean;
}

/**
 * Reads an htpasswd file: one `name:hash` per line, blank lines and `#`
 * comments skipped.
 * @throws {Error} If the file cannot be read or a line is not `name:hash`
 *   (the message names the file and line, never the hash).
 */
export function readUsersFile(
  path: string,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<string[]> {
  return readLines(
    path,
    { middleware: "basicAuth", shape: "name:hash", isLine: isUserLine },
    readTextFile,
  );
}

const CACHE_TTL_MS = 60_000;
const CACHE_MAX = 1024;

function cacheKey(user: string, password: string, hash: string): string {
  return createHash("sha256").update(`${user}\0${password}\0${hash}`).digest("base64");
}

/** Go's `Request.BasicAuth()`: the scheme is case-insensitive, the user ends at the first colon. */
function parseBasic(header: string | undefined): [string, string] | undefined {
  if (!header || header.length < 6 || header.slice(0, 6).toLowerCase() !== "basic ") {
    return undefined;
  }
  let decoded: string;
  try {
    const binary = atob(header.slice(6));
    const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
    decoded = new TextDecoder().decode(bytes);
  } catch {
    return undefined;
  }
  const colon = decoded.indexOf(":");
  return colon < 0 ? undefined : [decoded.slice(0, colon), decoded.slice(colon + 1)];
}

/**
 * Builds the basicAuth middleware.
 *
 * @param config Validated options.
 * @param options Users read from `usersFile`, and test seams.
 * @throws {TypeError} If `usersFile` is set but its lines were not given.
 */
export function basicAuth(
  config: BasicAuthConfig,
  options: BasicAuthOptions = {},
): MiddlewareHandler {
  if (config.usersFile !== undefined && options.fileUsers === undefined) {
    throw new TypeError(
      "Cannot create basicAuth middleware as 'usersFile' was not read (use readUsersFile first)",
    );
  }
  const now = options.now ?? (() => performance.now());
  const verify = options.verify ?? checkPassword;
  // File users first, inline users after: the later entry wins (Traefik).
  const users = new Map<string, string>();
  for (const line of [...(options.fileUsers ?? []), ...config.users]) {
    const [name, hash] = line.split(":") as [string, string];
    users.set(name, hash);
  }
  const unusable = [...users].filter(([, hash]) => hashKind(hash) === "unknown").map(([n]) => n);
  if (unusable.length > 0) {
    options.log?.warn(
      "basicAuth users with an unsupported hash can never log in (use bcrypt, {SHA} or $apr1$)",
      { users: unusable.join(",") },
    );
  }
  const challenge = `Basic realm="${config.realm}"`;
  const verified = new Map<string, number>(); // cache key -> expiry
  const pending = new Map<string, Promise<boolean>>();

  async function check(user: string, password: string): Promise<boolean> {
    const hash = users.get(user);
    if (hash === undefined) return false;
    if (hashKind(hash) !== "bcrypt") return verify(password, hash);
    const key = cacheKey(user, password, hash);
    const expires = verified.get(key);
    if (expires !== undefined) {
      if (expires > now()) return true;
      verified.delete(key);
    }
    let result = pending.get(key);
    if (!result) {
      result = Promise.resolve(verify(password, hash));
      pending.set(key, result);
    }
    let ok: boolean;
    try {
      ok = await result;
    } finally {
      pending.delete(key);
    }
    if (ok) {
      if (verified.size >= CACHE_MAX) verified.delete(verified.keys().next().value!);
      verified.set(key, now() + CACHE_TTL_MS);
    }
    return ok;
  }

  return async function basicAuth(c, next) {
    const credentials = parseBasic(c.req.header("authorization"));
    if (credentials) noteClientUsername(c, credentials[0]);
    if (!credentials || !(await check(credentials[0], credentials[1]))) {
      return c.text("401 Unauthorized\n", 401, { "WWW-Authenticate": challenge });
    }
    const user = credentials[0];
    passAuthenticatedUser(c, user, config);
    await next();
  };
}

/** The basicAuth plugin: reads `usersFile` (if any) when built. */
export default definePlugin({
  name: "basicAuth",
  description: "Restricts access to known users with HTTP Basic authentication",
  config: basicAuthConfig,
  async create(config, ctx) {
    const fileUsers = config.usersFile === undefined
      ? undefined
      : await readUsersFile(config.usersFile);
    return basicAuth(config, { ...(fileUsers ? { fileUsers } : {}), log: ctx.log });
  },
});
