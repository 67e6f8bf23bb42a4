/**
 * A generation: one built configuration, live from its activation until the
 * next one replaces it. It owns the router index of each entrypoint, the
 * service trees, and an `AbortSignal` that stops its health checks, timers
 * and plugin background work once it is replaced. Requests already inside it
 * finish on it.
 *
 * @module
 */
import type { LoadBalancerConfig, RouterConfig } from "../config/dynamic.ts";
import type { AccessRecord } from "../log/access_log.ts";
import type { Logger } from "../log/logger.ts";
import type { Diagnostic } from "../provider/provider.ts";
import { requestFacts, type RouteEntry, RouterIndex } from "../router/mod.ts";
import type { ClientFacts } from "../service/forward.ts";
import { startHealthChecks } from "../service/health_check.ts";
import type { ServiceNode } from "../service/load_balancer.ts";
import type { PoolChange, ServerPool } from "../service/pool.ts";
import type { UpstreamServer } from "../service/server.ts";
import type { ChainEnv, ChainHandler, LiveSegments } from "./chain.ts";
import type { MergedConfig } from "./merge.ts";
import type { MiddlewareRuntime, RouterRuntime, ServiceRuntime } from "./runtime.ts";

/** What the builder hands over. */
export interface GenerationParts {
  readonly id: number;
  readonly controller: AbortController;
  readonly routes: ReadonlyMap<string, RouteEntry<ChainHandler>[]>;
  readonly routers: ReadonlyMap<string, RouterRuntime>;
  readonly services: ReadonlyMap<string, ServiceRuntime>;
  readonly middlewares: ReadonlyMap<string, MiddlewareRuntime>;
  readonly nodes: ReadonlyMap<string, ServiceNode | { error: string }>;
  readonly servers: ReadonlySet<UpstreamServer>;
  /** Replayable chain segments built for this generation. */
  readonly segments: ReadonlyMap<string, ChainHandler>;
  readonly liveSegments?: LiveSegments | undefined;
  readonly healthChecks: readonly {
    servers: readonly UpstreamServer[];
    config: NonNullable<LoadBalancerConfig["healthCheck"]>;
  }[];
  readonly merged: MergedConfig;
  readonly diagnostics: ReadonlyMap<string, readonly Diagnostic[]>;
  readonly log: Logger;
}

/** How a request arrived (set by the entrypoint). */
export interface Arrival {
  readonly entryPoint: string;
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
  readonly tls: boolean;
  /** Whether the peer may set X-Forwarded-* headers. */
  readonly trusted: boolean;
  /** The request as `Deno.serve` gave it (the only one a WebSocket upgrade accepts). */
  readonly original?: Request;
  readonly completed?: Promise<void>;
  /** This request's access log record, when an access log is written. */
  readonly accessLog?: AccessRecord;
}

const NOT_FOUND_HEADERS = { "content-type": "text/plain; charset=utf-8" };

/** One live (or retired) configuration. */
export class Generation {
  readonly id: number;
  readonly routers: ReadonlyMap<string, RouterRuntime>;
  readonly services: ReadonlyMap<string, ServiceRuntime>;
  readonly middlewares: ReadonlyMap<string, MiddlewareRuntime>;
  readonly nodes: ReadonlyMap<string, ServiceNode | { error: string }>;
  readonly servers: ReadonlySet<UpstreamServer>;
  readonly merged: MergedConfig;
  readonly diagnostics: ReadonlyMap<string, readonly Diagnostic[]>;
  readonly #controller: AbortController;
  readonly #indexes = new Map<string, RouterIndex<ChainHandler>>();
  readonly #healthChecks: GenerationParts["healthChecks"];
  readonly #segments: ReadonlyMap<string, ChainHandler>;
  readonly #liveSegments: LiveSegments | undefined;
  readonly #log: Logger;

  constructor(parts: GenerationParts) {
    this.id = parts.id;
    this.#controller = parts.controller;
    this.routers = parts.routers;
    this.services = parts.services;
    this.middlewares = parts.middlewares;
    this.nodes = parts.nodes;
    this.servers = parts.servers;
    this.merged = parts.merged;
    this.diagnostics = parts.diagnostics;
    this.#healthChecks = parts.healthChecks;
    this.#segments = parts.segments;
    this.#liveSegments = parts.liveSegments;
    this.#log = parts.log;
    for (const [entryPoint, entries] of parts.routes) {
      this.#indexes.set(entryPoint, new RouterIndex(entries));
    }
  }

  /** Aborted when this generation is replaced or Pacer stops. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Routers on an entrypoint (for tests and the API). */
  routesOn(entryPoint: string): number {
    return this.#indexes.get(entryPoint)?.size ?? 0;
  }

  /**
   * Makes this generation the live one in `pool` (servers it does not use
   * start draining) and starts its health checks.
   */
  activate(pool: ServerPool): PoolChange {
    const change = pool.commit(this.servers);
    this.#liveSegments?.replace(this.#segments);
    for (const { servers, config } of this.#healthChecks) {
      startHealthChecks(servers, config, { log: this.#log, signal: this.signal });
    }
    return change;
  }

  /** Stops health checks, timers and plugin background work. */
  retire(): void {
    this.#controller.abort();
  }

  /** Routes one request: 404 when no router matches. */
  handle(request: Request, arrival: Arrival): Promise<Response> {
    const index = this.#indexes.get(arrival.entryPoint);
    const clientIP = arrival.remoteAddr.hostname;
    const route = index?.match(requestFacts(request, clientIP));
    if (!route) {
      return Promise.resolve(
        new Response("404 page not found\n", { status: 404, headers: NOT_FOUND_HEADERS }),
      );
    }
    const client: ClientFacts = { ip: clientIP, tls: arrival.tls, trusted: arrival.trusted };
    const vars: Record<string, unknown> = arrival.original
      ? { router: route.name, client, upgradeRequest: arrival.original }
      : { router: route.name, client };
    const record = arrival.accessLog;
    if (record) {
      record.router = route.name;
      const config = this.routers.get(route.name)?.config as RouterConfig | undefined;
      if (config?.observability?.accessLogs === false) record.silent = true;
      vars.accessLog = record;
    }
    const env: ChainEnv = {
      remoteAddr: arrival.remoteAddr,
      entryPoint: arrival.entryPoint,
      tls: arrival.tls,
      ...(arrival.completed ? { completed: arrival.completed } : {}),
      vars,
    };
    return route.value(request, env);
  }
}
