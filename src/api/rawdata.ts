/**
 * `/api/rawdata`: Traefik-compatible JSON of the runtime configuration
 * (routers, services, middlewares with status and errors; servers with their
 * state), plus what Pacer adds: per-server health, in-flight counts and
 * draining, provider diagnostics, loaded plugins.
 *
 * @module
 */
import {
  tcpMiddlewareSchema,
  tcpRouterSchema,
  tcpServiceSchema,
  udpRouterSchema,
  udpServiceSchema,
} from "../config/dynamic.ts";
import { canonicalizeKeys } from "../config/schema_walk.ts";
import { formatIssues } from "../config/issues.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import type { Generation } from "../server/generation.ts";
import type { MergedItem } from "../server/merge.ts";
import type { ServerPool } from "../service/pool.ts";
import type { UpstreamServer } from "../service/server.ts";
import type { z } from "zod";

/** A server as `/api/rawdata` shows it (Pacer extension). */
export interface ServerView {
  url: string;
  /** UP, DOWN, PENDING (slow start), EJECTED (passive), DRAINING. */
  state: string;
  inFlight: number;
  draining: boolean;
  lastError?: string;
}

function serverView(server: UpstreamServer, now: number): ServerView {
  const view: ServerView = {
    url: server.rawUrl,
    state: server.draining ? "DRAINING" : server.health.describe(now),
    inFlight: server.inFlight,
    draining: server.draining,
  };
  if (server.health.lastError) view.lastError = server.health.lastError;
  return view;
}

function configOnly(
  items: ReadonlyMap<string, MergedItem>,
  schema: z.ZodType,
  what: string,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items.values()) {
    const canonical = canonicalizeKeys(schema, item.raw);
    const result = schema.safeParse(canonical);
    const base = typeof canonical === "object" && canonical !== null ? canonical : {};
    out[item.name] = result.success && !item.error
      ? { ...base, status: "warning", error: [`${what} is accepted but not served by Pacer yet`] }
      : {
        ...base,
        status: "disabled",
        error: [item.error ?? formatIssues((result as { error: z.ZodError }).error.issues)],
      };
  }
  return out;
}

/** Builds the rawdata document of a generation. */
export function rawdata(
  generation: Generation | undefined,
  pool: ServerPool,
  extra: { registry?: MiddlewareRegistry; now?: number } = {},
): Record<string, unknown> {
  const now = extra.now ?? Date.now();
  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  if (generation) {
    for (const [name, r] of generation.routers) {
      routers[name] = {
        ...(typeof r.config === "object" && r.config !== null ? r.config : {}),
        ...(r.service ? { service: r.service } : {}),
        priority: r.priority,
        status: r.status,
        ...(r.errors.length ? { error: r.errors } : {}),
        using: r.using,
        provider: r.provider,
      };
    }
    for (const [name, s] of generation.services) {
      const node = generation.nodes.get(name);
      const servers = node && !("error" in node) ? node.servers() : [];
      const serverStatus: Record<string, string> = {};
      for (const server of servers) {
        serverStatus[server.rawUrl] = server.health.routable(now) && !server.draining
          ? "UP"
          : "DOWN";
      }
      services[name] = {
        ...(typeof s.config === "object" && s.config !== null ? s.config : {}),
        status: s.status,
        ...(s.errors.length ? { error: s.errors } : {}),
        usedBy: s.usedBy,
        provider: s.provider,
        ...(servers.length
          ? { serverStatus, servers: servers.map((v) => serverView(v, now)) }
          : {}),
      };
    }
    for (const [name, m] of generation.middlewares) {
      middlewares[name] = {
        ...(typeof m.config === "object" && m.config !== null ? m.config : {}),
        ...(m.type ? { type: m.type } : {}),
        status: m.status,
        ...(m.errors.length ? { error: m.errors } : {}),
        usedBy: m.usedBy,
        provider: m.provider,
      };
    }
  }
  const merged = generation?.merged;
  const diagnostics: Record<string, unknown> = {};
  for (const [provider, list] of generation?.diagnostics ?? []) diagnostics[provider] = list;
  return {
    routers,
    middlewares,
    services,
    tcpRouters: merged ? configOnly(merged.tcpRouters, tcpRouterSchema, "TCP routing") : {},
    tcpMiddlewares: merged
      ? configOnly(merged.tcpMiddlewares, tcpMiddlewareSchema, "TCP routing")
      : {},
    tcpServices: merged ? configOnly(merged.tcpServices, tcpServiceSchema, "TCP routing") : {},
    udpRouters: merged ? configOnly(merged.udpRouters, udpRouterSchema, "UDP routing") : {},
    udpServices: merged ? configOnly(merged.udpServices, udpServiceSchema, "UDP routing") : {},
    draining: pool.draining().map((s) => ({
      service: s.service,
      url: s.rawUrl,
      inFlight: s.inFlight,
      drainingForMs: now - s.drainingSince,
    })),
    diagnostics,
    plugins: extra.registry?.plugins().map((p) => ({
      name: p.type,
      version: p.definition.version,
      module: p.source,
    })) ?? [],
    generation: generation?.id ?? 0,
  };
}
