/**
 * The health-gate stage of Pacer's chain (router → retry → health-gate →
 * drain): only servers that pass their service's active health check and are
 * not ejected by passive health may take requests; every answer is recorded
 * as passive health (connection failures, and 5xx when the service's
 * `passiveHealthCheck.on5xx` says so); with no server left, the load
 * balancer answers 503 with `Retry-After` at once instead of timing out.
 *
 * Passive health never ejects a service's last routable server (Envoy bounds
 * ejections the same way with `max_ejection_percent`): when every server
 * fails at once — all tasks of a deploy killed together — requests keep
 * going to them and retry covers the failures until the new servers arrive,
 * instead of every request getting "no server". Active checks are not
 * bounded: a server whose check fails is out.
 *
 * Appended to every router's chain by the builder; list it explicitly to
 * set a panic threshold (Envoy's panic mode: when fewer than that fraction
 * of servers are healthy, all of them are used).
 *
 * Never reads Marathon's own health results (they vanish on leader
 * elections, Traefik issue 653).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { definePlugin } from "../../plugin/plugin.ts";
import type { HealthGatePolicy } from "../../service/context.ts";
import type { UpstreamServer } from "../../service/server.ts";
import type { PassiveHealthCheckConfig } from "../../config/dynamic.ts";
import "../../service/context.ts";
import { failureOf } from "../../service/forward.ts";
import type { Logger } from "../../log/logger.ts";
import { silentLogger } from "../../log/logger.ts";

/** Options of the health-gate middleware. */
export const healthGateConfig = z.strictObject({
  /**
   * Fraction of healthy servers (0-1) under which health is ignored and all
   * servers are used. 0 turns panic mode off.
   * @default {0}
   */
  panicThreshold: z.number().min(0).max(1).default(0),
});

/** Validated health-gate options. */
export type HealthGateConfig = z.output<typeof healthGateConfig>;

/** Failure kinds that count against the server. */
const SERVER_FAULTS = new Set(["connect", "reset", "timeout"]);

/** The policy the load balancer applies (exported for tests). */
export function healthGatePolicy(
  config: HealthGateConfig,
  log: Logger = silentLogger,
): HealthGatePolicy {
  return new Gate(config.panicThreshold, log);
}

/** One per router: its methods live on the prototype, not in per-router closures. */
class Gate implements HealthGatePolicy {
  readonly panicThreshold: number;
  readonly #log: Logger;

  constructor(panicThreshold: number, log: Logger) {
    this.panicThreshold = panicThreshold;
    this.#log = log;
  }

  admit(server: UpstreamServer, now: number): boolean {
    return server.health.routable(now);
  }

  observe(
    server: UpstreamServer,
    response: Response,
    passive: PassiveHealthCheckConfig,
    now: number,
    canEject?: () => boolean,
  ): void {
    const failure = failureOf(response);
    const failed = failure
      ? SERVER_FAULTS.has(failure.kind)
      : passive.on5xx && response.status >= 500;
    const before = server.health.ejectedUntil;
    server.health.recordOutcome(failed, now, passive, !failed || (canEject?.() ?? true));
    if (server.health.ejectedUntil !== before && server.health.ejectedUntil > now) {
      this.#log.warn("Server ejected by passive health check", {
        service: server.service,
        server: server.rawUrl,
        forMs: server.health.ejectedUntil - now,
        cause: failure ? failure.kind : `status ${response.status}`,
      });
    }
  }
}

/** Creates the health-gate middleware. */
export function healthGate(config: HealthGateConfig, log?: Logger): MiddlewareHandler {
  const policy = healthGatePolicy(config, log);
  // Not async: a plain pass-through saves a promise per request.
  return function healthGate(c, next) {
    c.set("healthGate", policy);
    return next();
  };
}

export default definePlugin({
  name: "healthGate",
  description:
    "Routes only to healthy servers; passive outlier detection; 503 + Retry-After when none",
  config: healthGateConfig,
  create: (config, ctx) => healthGate(config, ctx.log),
});
