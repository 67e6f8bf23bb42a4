/**
 * JSON Web Token authentication: Hono's own `hono/jwt` middleware wrapped
 * as a Pacer plugin, to show the pattern for any Hono ecosystem middleware
 * (validate options with a schema, build the Hono middleware once in
 * `create`, adapt what it leaves in the context for the upstream).
 *
 * Requests without a valid token get Hono's `401` with a
 * `WWW-Authenticate: Bearer …` challenge. For valid ones, the claims listed
 * in `forwardClaims` are sent upstream as headers (`sub` → `X-User-Id`).
 * Those headers are always removed from the client's request first, so a
 * client cannot forge them by sending them itself.
 *
 * Keep secrets out of labels: `secretEnv` names an environment variable
 * read when the middleware is created (grant `--allow-env`).
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     auth:
 *       plugin:
 *         jwt:
 *           secretEnv: API_JWT_SECRET
 *           alg: HS256
 *           cookie: session
 *           forwardClaims:
 *             sub: X-User-Id
 *             role: X-User-Role
 * ```
 *
 * @module
 */
import { jwt as honoJwt } from "hono/jwt";
import { copyHeaders, definePlugin, rewriteRequest, z } from "../../src/plugin/mod.ts";
import type { MiddlewareHandler } from "../../src/plugin/mod.ts";

/** Algorithms `hono/jwt` verifies. */
export const ALGORITHMS = [
  "HS256",
  "HS384",
  "HS512",
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
] as const;

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const headerName = z.string().regex(TOKEN, { message: "must be an HTTP header name" });

/** The jwt options. */
export const jwtConfig = z.strictObject({
  /**
   * HMAC secret (HS*), or the PEM public key (RS*, PS*, ES*, EdDSA).
   * Exactly one of `secret` and `secretEnv`.
   * @default {none}
   */
  secret: z.string().min(1).optional(),
  /** Environment variable holding the secret. @default {none} */
  secretEnv: z.string().min(1).optional(),
  /** Signature algorithm the token must use. @default {"HS256"} */
  alg: z.enum(ALGORITHMS).default("HS256"),
  /** Header carrying `Bearer <token>`. @default {"Authorization"} */
  headerName: headerName.default("Authorization"),
  /** Cookie carrying the token when the header is absent. @default {none} */
  cookie: z.string().min(1).optional(),
  /** Required `iss` claim. @default {none} */
  issuer: z.string().min(1).optional(),
  /** Accepted `aud` claims (any of them). @default {none} */
  audience: z.array(z.string().min(1)).min(1).optional(),
  /** Claims sent upstream, claim name → header name. @default {{}} */
  forwardClaims: z.record(z.string().min(1), headerName).default({}),
  /** Remove the token header before forwarding (the upstream trusts the claim headers). @default {false} */
  stripToken: z.boolean().default(false),
}).superRefine((config, ctx) => {
  if ((config.secret === undefined) === (config.secretEnv === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: "set exactly one of 'secret' and 'secretEnv'",
      path: [],
    });
  }
});

/** Validated jwt options. */
export type JwtConfig = z.output<typeof jwtConfig>;

/** Test seams and sources of {@linkcode jwt}. */
export interface JwtOptions {
  /** Reads an environment variable. @default {Deno.env.get} */
  readonly env?: (name: string) => string | undefined;
}

/** A claim value as a header value (headers carry visible ASCII only). */
export function claimHeaderValue(value: unknown): string {
  const text = typeof value === "string"
    ? value
    : Array.isArray(value) && value.every((v) => typeof v !== "object")
    ? value.join(",")
    : JSON.stringify(value);
  // Percent-encode anything a header value cannot carry, instead of failing the request.
  return text.replace(/[^\x20-\x7e]+/g, (s) => encodeURIComponent(s));
}

/**
 * Builds the jwt middleware.
 *
 * @throws {RangeError} If `secretEnv` names a variable that is not set.
 */
export function jwt(config: JwtConfig, options: JwtOptions = {}): MiddlewareHandler {
  let secret = config.secret;
  if (config.secretEnv !== undefined) {
    secret = (options.env ?? ((name) => Deno.env.get(name)))(config.secretEnv);
    if (!secret) {
      throw new RangeError(
        `Cannot create jwt middleware as 'secretEnv' names an unset environment variable: ` +
          `current value is '${config.secretEnv}'`,
      );
    }
  }
  const verify = honoJwt({
    secret: secret!,
    alg: config.alg,
    headerName: config.headerName,
    ...(config.cookie !== undefined ? { cookie: config.cookie } : {}),
    verification: {
      ...(config.issuer !== undefined ? { iss: config.issuer } : {}),
      ...(config.audience !== undefined ? { aud: config.audience } : {}),
    },
  });
  const claims = Object.entries(config.forwardClaims);

  return async function jwt(c, next) {
    // Before verifying: a rejected request must not carry forged headers either.
    if (claims.some(([, header]) => c.req.raw.headers.has(header))) {
      const headers = copyHeaders(c.req.raw.headers);
      for (const [, header] of claims) headers.delete(header);
      rewriteRequest(c, { headers });
    }
    await verify(c, async () => {
      const payload = c.get("jwtPayload") as Record<string, unknown>;
      if (claims.length > 0 || config.stripToken) {
        const out = copyHeaders(c.req.raw.headers);
        for (const [claim, header] of claims) {
          const value = payload[claim];
          if (value !== undefined && value !== null) out.set(header, claimHeaderValue(value));
        }
        if (config.stripToken) out.delete(config.headerName);
        rewriteRequest(c, { headers: out });
      }
      await next();
    });
  };
}

/** The jwt plugin. */
export default definePlugin({
  name: "jwt",
  version: "1.0.0",
  description: "Verifies a JWT (hono/jwt) and forwards chosen claims as headers",
  config: jwtConfig,
  create: (config) => jwt(config),
});
