/**
 * Request-scoped variables the chain stages hand to the load balancer
 * (STYLE.md: "hands the policy to the upstream forwarder"). Each is set by
 * one middleware and read by `load_balancer.ts`.
 *
 * @module
 */
import type { UpstreamServer } from "./server.ts";
import type { AccessRecord } from "../log/access_log.ts";
import type { ClientFacts } from "./forward.ts";
import type { PassiveHealthCheckConfig } from "../config/dynamic.ts";

/** Set by the health-gate middleware: which servers may take requests. */
export interface HealthGatePolicy {
  /** Whether `server` may take a new request at `now`. */
  admit(server: UpstreamServer, now: number): boolean;
  /**
   * Records the outcome of a forwarded request (passive health).
   * @param canEject Asked only after a failure: `false` when `server` is the
   *   last one the service could route to, so the failure is counted but
   *   never ejects it (a scan of the service's servers, kept off the
   *   success path).
   */
  observe(
    server: UpstreamServer,
    response: Response,
    passive: PassiveHealthCheckConfig,
    now: number,
    canEject?: () => boolean,
  ): void;
  /** Fraction (0-1) of routable servers under which all servers are used (Envoy's panic mode); 0 = off. */
  readonly panicThreshold: number;
}

/** Set by the drain middleware: skip draining servers, count in-flight requests. */
export interface DrainPolicy {
  admit(server: UpstreamServer): boolean;
  /** Counts a request in; returns its release (called when the response body ends). */
  begin(server: UpstreamServer): () => void;
}

/** Set by the retry middleware for each attempt. */
export interface RetryAttempt {
  /** 1 for the first try. */
  readonly attempt: number;
  /** Servers already tried; avoided when another server exists. */
  readonly tried: Set<UpstreamServer>;
}

declare module "hono" {
  interface ContextVariableMap {
    healthGate: HealthGatePolicy;
    drain: DrainPolicy;
    retryAttempt: RetryAttempt;
    /** The server the load balancer picked for this attempt. */
    upstream: UpstreamServer;
    /** Facts about the client connection, set at the entrypoint. */
    client: ClientFacts;
    /** Qualified name of the router serving the request. */
    router: string;
    /**
     * The request exactly as `Deno.serve` gave it. Middlewares may replace
     * `c.req.raw` (rewrites), but only this one can be upgraded to a WebSocket.
     */
    upgradeRequest: Request;
    /** This request's access log record (only when an access log is written). */
    accessLog: AccessRecord;
  }
}
