/**
 * The drain stage of Pacer's chain: servers that left rotation (task
 * `TASK_KILLING` or gone, scaled down, replaced, removed from config) get no
 * new requests, and every request is counted in flight on its server until
 * its response has been delivered, so a leaving server keeps its connections
 * exactly as long as it has requests (up to the static `drain.timeout`), then
 * its idle pooled connections close and it is forgotten (`service/pool.ts`).
 *
 * Appended to every router's chain by the builder. Traefik never had this
 * (its issue 41).
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { z } from "zod";
import { definePlugin } from "../../plugin/plugin.ts";
import type { DrainPolicy } from "../../service/context.ts";
import "../../service/context.ts";

/** The drain middleware has no per-router options (the timeout is static: `drain.timeout`). */
export const drainConfig = z.strictObject({});

/** The policy the load balancer applies. */
export const drainPolicy: DrainPolicy = {
  admit: (server) => !server.draining,
  begin: (server) => server.begin(),
};

/** Creates the drain middleware. */
export function drain(): MiddlewareHandler {
  // Not async: a plain pass-through saves a promise per request.
  return function drain(c, next) {
    c.set("drain", drainPolicy);
    return next();
  };
}

export default definePlugin({
  name: "drain",
  description:
    "Keeps leaving servers out of rotation and counts in-flight requests until delivered",
  config: drainConfig,
  create: () => drain(),
});
