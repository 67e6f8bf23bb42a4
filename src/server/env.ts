/**
 * What Pacer passes as Hono's `c.env` to every router chain: facts about the
 * client connection that a `Request` does not carry.
 *
 * @module
 */
import type { Context } from "hono";

/** Connection facts for one request. */
export interface PacerEnv {
  /** The TCP peer of the client connection (never taken from headers). */
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
  /** Name of the entrypoint the request arrived on. */
  readonly entryPoint: string;
  /** Whether the client connection is TLS. */
  readonly tls: boolean;
  /**
   * Settles once the response has been delivered to the client (or failed):
   * `Deno.ServeHandlerInfo.completed`. Absent for in-process calls.
   */
  readonly completed?: Promise<void>;
}

/**
 * The client connection's IP (the socket peer), or `""` when unknown (a test
 * calling `app.request()` without an env).
 */
export function remoteIP(c: Context): string {
  const env = c.env as Partial<PacerEnv> | undefined;
  return env?.remoteAddr?.hostname ?? "";
}

/** Builds a {@linkcode PacerEnv}, for tests and in-process calls. */
export function pacerEnv(
  remoteIp = "127.0.0.1",
  options: { entryPoint?: string; tls?: boolean; port?: number } = {},
): PacerEnv {
  return {
    remoteAddr: { hostname: remoteIp, port: options.port ?? 40000 },
    entryPoint: options.entryPoint ?? "web",
    tls: options.tls ?? false,
  };
}
