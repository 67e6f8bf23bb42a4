/**
 * Active health checks (Traefik's `loadBalancer.healthCheck`): each server of
 * a service is probed on its own schedule, for as long as the configuration
 * generation lives. Results change server state directly, without a reload,
 * and survive reloads with the server (`ServerHealth`).
 *
 * @module
 */
import type { HealthCheckConfig } from "../config/dynamic.ts";
import type { Logger } from "../log/logger.ts";
import type { UpstreamServer } from "./server.ts";
import { delay } from "../util/delay.ts";

/** Options of {@linkcode startHealthChecks}. */
export interface HealthCheckOptions {
  readonly log: Logger;
  /** Stops every check when aborted (the generation's lifetime). */
  readonly signal: AbortSignal;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** The URL a check probes for `server`. */
export function healthCheckUrl(server: UpstreamServer, config: HealthCheckConfig): string {
  const url = new URL(server.url.href);
  if (config.scheme) url.protocol = `${config.scheme}:`;
  if (config.port) url.port = String(config.port);
  const [path = "/", query] = config.path.split("?", 2);
  url.pathname = path.startsWith("/") ? path : `/${path}`;
  url.search = query ? `?${query}` : "";
  return url.href;
}

/**
 * Probes `server` once and records the result.
 * @returns Whether the server is healthy.
 */
export async function checkOnce(
  server: UpstreamServer,
  config: HealthCheckConfig,
  options: { log: Logger; signal?: AbortSignal; now?: () => number },
): Promise<boolean> {
  const now = options.now ?? Date.now;
  const headers = new Headers(config.headers);
  if (config.hostname) headers.set("host", config.hostname);
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(new Error("health check timeout")), config.timeout);
  const signal = options.signal
    ? AbortSignal.any([options.signal, timeout.signal])
    : timeout.signal;
  let healthy = false;
  let reason = "";
  try {
    const res = await fetch(healthCheckUrl(server, config), {
      method: config.method,
      headers,
      redirect: config.followRedirects ? "follow" : "manual",
      client: server.client,
      signal,
    });
    await res.body?.cancel();
    healthy = config.status !== undefined
      ? res.status === config.status
      : res.status >= 200 && res.status < 400;
    if (!healthy) reason = `status ${res.status}`;
  } catch (error) {
    reason = timeout.signal.aborted
      ? `no answer within ${config.timeout}ms`
      : (error as Error).message;
  } finally {
    clearTimeout(timer);
  }
  if (options.signal?.aborted) return healthy;
  const health = server.health;
  const before = health.active;
  health.active = healthy ? "up" : "down";
  health.lastCheckAt = now();
  health.lastError = reason;
  if (before !== health.active) {
    const fields = { service: server.service, server: server.rawUrl, reason: reason || undefined };
    if (healthy) options.log.info("Health check passed: server back in rotation", fields);
    else options.log.warn("Health check failed: server out of rotation", fields);
  }
  return healthy;
}

/**
 * Starts probing every server in `servers` until `options.signal` aborts.
 * New servers (never checked) are probed at once; surviving ones keep their
 * schedule from the previous generation.
 */
export function startHealthChecks(
  servers: readonly UpstreamServer[],
  config: HealthCheckConfig,
  options: HealthCheckOptions,
): void {
  const now = options.now ?? Date.now;
  for (const server of servers) {
    (async () => {
      const since = now() - server.health.lastCheckAt;
      const interval = () =>
        server.health.active === "down"
          ? (config.unhealthyInterval ?? config.interval)
          : config.interval;
      if (server.health.lastCheckAt !== 0 && since < interval()) {
        await delay(interval() - since, options.signal);
      }
      while (!options.signal.aborted) {
        await checkOnce(server, config, options);
        await delay(interval(), options.signal);
      }
    })();
  }
}
