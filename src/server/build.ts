/**
 * Builds a {@linkcode Generation} from the merged configuration: validates
 * each router, service and middleware on its own (a bad one is disabled with
 * its error, the rest go live — Traefik `pkg/config/runtime`), builds the
 * service trees over the shared server pool, one middleware chain per router,
 * and the router index of each entrypoint.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";
import {
  type LoadBalancerConfig,
  routerSchema,
  type RuleSyntax,
  serversTransportSchema,
  type ServiceConfig,
  serviceSchema,
} from "../config/dynamic.ts";
import { canonicalizeKeys } from "../config/schema_walk.ts";
import { formatIssues } from "../config/issues.ts";
import type { Logger } from "../log/logger.ts";
import type { MiddlewareRegistry, RegisteredType } from "../middleware/registry.ts";
import type { PluginContext, ServiceCall } from "../plugin/plugin.ts";
import { copyHeaders, rewriteRequest } from "../plugin/mod.ts";
import type { Diagnostic } from "../provider/provider.ts";
import { compileRule, defaultPriority, type RouteEntry } from "../router/mod.ts";
import {
  FailoverService,
  LoadBalancerService,
  type ServiceNode,
  WeightedService,
} from "../service/load_balancer.ts";
import { type MirrorCall, MirroringService } from "../service/mirroring.ts";
import type { ServerPool } from "../service/pool.ts";
import type { UpstreamServer } from "../service/server.ts";
import { stickyValue } from "../service/sticky.ts";
import { createTransport, type Transport } from "../service/transport.ts";
import {
  type ChainEnv,
  type ChainHandler,
  type ChainLink,
  compileChain,
  type LiveSegments,
} from "./chain.ts";
import { Generation } from "./generation.ts";
import { type MergedConfig, type MergedItem, qualify } from "./merge.ts";
import {
  addError,
  type MiddlewareRuntime,
  type RouterRuntime,
  runtimeItem,
  type ServiceRuntime,
} from "./runtime.ts";

/** An entrypoint as the builder sees it. */
export interface EntryPointInfo {
  readonly name: string;
  /** Whether it terminates TLS (routers with `tls` attach only to such entrypoints). */
  readonly tls: boolean;
  /** Traefik's `asDefault`: routers without entryPoints attach to these (or to all if none is). */
  readonly asDefault?: boolean;
  /** Qualified middleware names applied in front of every router on it. */
  readonly middlewares?: readonly string[];
}

/** Which of Pacer's chain stages are appended to every router. */
export interface ChainStages {
  readonly retry?: boolean;
  readonly healthGate?: boolean;
  readonly drain?: boolean;
}

/** Services Pacer provides itself (`api@internal`, `ping@internal`, ...). */
export type InternalServices = (name: string, generation: () => Generation) =>
  | ServiceNode
  | undefined;

/** Everything the builder needs besides the configuration. */
export interface BuildOptions {
  readonly entryPoints: readonly EntryPointInfo[];
  /** `core.defaultRuleSyntax`. @default {"v3"} */
  readonly defaultRuleSyntax?: RuleSyntax;
  /** The static `serversTransport`. */
  readonly defaultTransport: Transport;
  readonly registry: MiddlewareRegistry;
  readonly pool: ServerPool;
  readonly log: Logger;
  /** Value of `X-Forwarded-Server`. */
  readonly serverName: string;
  /**
   * Pacer's chain stages appended to every router that does not list them
   * itself, in this order: retry (with its defaults), health-gate, drain.
   * Static `chain.*` turns them off (e.g. to measure a proxy without them).
   * @default {{ retry: true, healthGate: true, drain: true }}
   */
  readonly chain?: ChainStages;
  readonly internal?: InternalServices;
  /** The live generation's replayable segments (retry attempts use the newest configuration). */
  readonly liveSegments?: LiveSegments;
  /** Qualified routers that get Traefik's recursion guard (default-rule routers). */
  readonly recursionGuard?: ReadonlySet<string>;
  /** Providers' own diagnostics, shown in `/api/rawdata`. */
  readonly diagnostics?: ReadonlyMap<string, readonly Diagnostic[]>;
  /** Generation number (for logs). */
  readonly id?: number;
}

interface ResolvedMiddleware {
  readonly item: MergedItem;
  readonly runtime: MiddlewareRuntime;
  readonly registered?: RegisteredType;
  readonly options?: unknown;
  /** For `chain` middlewares: their qualified members. */
  readonly members?: readonly string[];
}

/** Validates `raw` with a schema after canonicalizing its option names. */
function validate<T>(
  schema: z.ZodType<T>,
  raw: unknown,
): { ok: true; value: T; canonical: unknown } | { ok: false; error: string; canonical: unknown } {
  const canonical = canonicalizeKeys(schema, raw);
  const result = schema.safeParse(canonical);
  return result.success
    ? { ok: true, value: result.data, canonical }
    : { ok: false, error: formatIssues(result.error.issues), canonical };
}

/** Builds one generation. Never throws for configuration problems (they are recorded). */
export async function buildGeneration(
  merged: MergedConfig,
  options: BuildOptions,
): Promise<Generation> {
  const builder = new Builder(merged, options);
  return await builder.build();
}

class Builder {
  readonly #merged: MergedConfig;
  readonly #o: BuildOptions;
  readonly #controller = new AbortController();
  readonly #routers = new Map<string, RouterRuntime>();
  readonly #services = new Map<string, ServiceRuntime>();
  readonly #middlewares = new Map<string, MiddlewareRuntime>();
  readonly #transports = new Map<string, { transport?: Transport; error?: string }>();
  readonly #nodes = new Map<string, ServiceNode | { error: string }>();
  readonly #building = new Set<string>();
  readonly #resolved = new Map<string, ResolvedMiddleware>();
  readonly #used = new Set<UpstreamServer>();
  readonly #healthChecked: {
    servers: readonly UpstreamServer[];
    config: NonNullable<LoadBalancerConfig["healthCheck"]>;
  }[] = [];
  readonly #serviceCalls = new Map<string, ServiceCall>();
  readonly #segments = new Map<string, ChainHandler>();
  /** The appended stages' default options, parsed once per build and shared (read-only). */
  readonly #stageDefaults = new Map<string, unknown>();
  #generation: Generation | undefined;

  constructor(merged: MergedConfig, options: BuildOptions) {
    this.#merged = merged;
    this.#o = options;
  }

  async build(): Promise<Generation> {
    const o = this.#o;
    for (const item of this.#merged.serversTransports.values()) this.#transport(item.name);
    for (const item of this.#merged.services.values()) this.#serviceRuntime(item);
    for (const item of this.#merged.middlewares.values()) this.#middleware(item.name);

    const routes = new Map<string, RouteEntry<ChainHandler>[]>();
    for (const ep of o.entryPoints) routes.set(ep.name, []);
    for (const item of this.#merged.routers.values()) {
      await this.#router(item, routes);
    }
    // Services nobody routes to are still validated and shown, not started.
    for (const item of this.#merged.services.values()) {
      const runtime = this.#services.get(item.name)!;
      if (runtime.status !== "disabled" && !this.#nodes.has(item.name)) this.#service(item.name);
    }
    this.#generation = new Generation({
      id: o.id ?? 0,
      controller: this.#controller,
      routes,
      routers: this.#routers,
      services: this.#services,
      middlewares: this.#middlewares,
      nodes: this.#nodes,
      servers: this.#used,
      segments: this.#segments,
      liveSegments: o.liveSegments,
      healthChecks: this.#healthChecked,
      merged: this.#merged,
      diagnostics: o.diagnostics ?? new Map(),
      log: o.log,
    });
    return this.#generation;
  }

  // ---- transports ----

  #transport(name: string): { transport?: Transport; error?: string } {
    const cached = this.#transports.get(name);
    if (cached) return cached;
    const item = this.#merged.serversTransports.get(name);
    let result: { transport?: Transport; error?: string };
    if (!item) {
      result = { error: `serversTransport '${name}' does not exist` };
    } else if (item.error) {
      result = { error: item.error };
    } else {
      const v = validate(serversTransportSchema, item.raw);
      if (!v.ok) result = { error: `invalid serversTransport '${name}': ${v.error}` };
      else {
        try {
          result = { transport: createTransport(name, v.value) };
        } catch (error) {
          result = { error: `serversTransport '${name}': ${(error as Error).message}` };
        }
      }
    }
    this.#transports.set(name, result);
    return result;
  }

  // ---- services ----

  #serviceRuntime(item: MergedItem): ServiceRuntime {
    let runtime = this.#services.get(item.name);
    if (runtime) return runtime;
    const v = item.error ? undefined : validate(serviceSchema, item.raw);
    runtime = {
      ...runtimeItem(
        item.provider,
        v?.canonical ?? item.raw,
        item.error ?? (v && !v.ok ? v.error : undefined),
      ),
      usedBy: [],
    };
    this.#services.set(item.name, runtime);
    return runtime;
  }

  /** The node for a qualified service name, or why there is none. */
  #service(name: string): ServiceNode | { error: string } {
    const cached = this.#nodes.get(name);
    if (cached) return cached;
    const internal = name.endsWith("@internal")
      ? this.#o.internal?.(name, () => this.#generation!)
      : undefined;
    if (internal) {
      this.#nodes.set(name, internal);
      return internal;
    }
    const item = this.#merged.services.get(name);
    if (!item) return { error: `the service '${name}' does not exist` };
    const runtime = this.#serviceRuntime(item);
    if (runtime.status === "disabled") {
      return { error: `the service '${name}' is disabled: ${runtime.errors.join("; ")}` };
    }
    if (this.#building.has(name)) {
      return {
        error: `the service '${name}' refers to itself through ${[...this.#building].join(" → ")}`,
      };
    }
    this.#building.add(name);
    let node: ServiceNode | { error: string };
    try {
      node = this.#createService(name, item, serviceSchema.parse(runtime.config), runtime);
    } finally {
      this.#building.delete(name);
    }
    if ("error" in node) addError(runtime, node.error);
    this.#nodes.set(name, node);
    return node;
  }

  #createService(
    name: string,
    item: MergedItem,
    config: ServiceConfig,
    runtime: ServiceRuntime,
  ): ServiceNode | { error: string } {
    const o = this.#o;
    if (config.loadBalancer) {
      const lb = config.loadBalancer;
      let transport = o.defaultTransport;
      if (lb.serversTransport) {
        const ref = qualify(lb.serversTransport, item.provider);
        const t = this.#transport(ref);
        if (!t.transport) return { error: t.error! };
        transport = t.transport;
      }
      for (const warning of transport.warnings) addError(runtime, warning, false);
      const servers = lb.servers.map((s) => {
        const server = o.pool.acquire(name, s.url, transport);
        this.#used.add(server);
        return { server, weight: s.weight };
      });
      const hc = lb.healthCheck;
      for (const { server } of servers) {
        const h = server.health;
        if (!hc) h.active = "up";
        else if (
          h.lastCheckAt === 0 && h.active === "up" && hc.slowStart && server.inFlight === 0
        ) {
          // New to this service's health check: wait for the first pass (Traefik issue 4544).
          h.active = "pending";
        }
      }
      if (hc) {
        if (hc.mode === "grpc") {
          addError(runtime, "healthCheck.mode grpc is not supported; using http", false);
        }
        this.#healthChecked.push({ servers: servers.map((s) => s.server), config: hc });
      }
      return new LoadBalancerService(name, servers, lb, { serverName: o.serverName, log: o.log });
    }
    if (config.weighted) {
      const children: { service: ServiceNode; weight: number }[] = [];
      for (const ref of config.weighted.services) {
        const child = this.#service(qualify(ref.name, item.provider));
        if ("error" in child) return { error: child.error };
        this.#markUsed(child.name, name);
        children.push({ service: child, weight: ref.weight });
      }
      return new WeightedService(name, children, {
        ...(config.weighted.sticky?.cookie ? { sticky: config.weighted.sticky.cookie } : {}),
        healthAware: config.weighted.healthCheck !== undefined,
      });
    }
    if (config.failover) {
      const main = this.#service(qualify(config.failover.service, item.provider));
      if ("error" in main) return main;
      const fallback = this.#service(qualify(config.failover.fallback, item.provider));
      if ("error" in fallback) return fallback;
      this.#markUsed(main.name, name);
      this.#markUsed(fallback.name, name);
      return new FailoverService(name, main, fallback);
    }
    const mirroring = config.mirroring!;
    const main = this.#service(qualify(mirroring.service, item.provider));
    if ("error" in main) return main;
    this.#markUsed(main.name, name);
    const mirrors = [];
    for (const ref of mirroring.mirrors) {
      const mirror = this.#service(qualify(ref.name, item.provider));
      if ("error" in mirror) return mirror;
      this.#markUsed(mirror.name, name);
      mirrors.push({
        service: mirror,
        percent: ref.percent,
        call: mirrorCall(mirror, this.#o.log, name),
      });
    }
    return new MirroringService(name, main, mirrors, {
      mirrorBody: mirroring.mirrorBody,
      maxBodySize: mirroring.maxBodySize,
      log: this.#o.log,
    });
  }

  #markUsed(service: string, by: string): void {
    const runtime = this.#services.get(service);
    if (runtime && !runtime.usedBy.includes(by)) runtime.usedBy.push(by);
  }

  /** A callable service for plugins (`ctx.service(name)`). */
  #serviceCall(name: string, router: string): ServiceCall | undefined {
    const cached = this.#serviceCalls.get(name);
    if (cached) return cached;
    const node = this.#service(name);
    if ("error" in node) return undefined;
    this.#markUsed(name, router);
    const call: ServiceCall = (c, request) => {
      const env = { ...(c.env as ChainEnv), vars: { client: c.get("client"), router } };
      return serviceChain(node, this.#o.log, router)(request, env);
    };
    this.#serviceCalls.set(name, call);
    return call;
  }

  // ---- middlewares ----

  #middleware(name: string): ResolvedMiddleware | undefined {
    const cached = this.#resolved.get(name);
    if (cached) return cached;
    const item = this.#merged.middlewares.get(name);
    if (!item) return undefined;
    const runtime: MiddlewareRuntime = {
      ...runtimeItem(item.provider, item.raw, item.error),
      usedBy: [],
    };
    let resolved: ResolvedMiddleware = { item, runtime };
    if (!item.error) {
      const r = this.#o.registry.resolve(item.raw);
      if (!r.ok) {
        addError(runtime, r.error);
      } else {
        runtime.type = r.kind === "plugin" ? `plugin.${r.type}` : r.type;
        runtime.config = {
          [r.kind === "plugin" ? "plugin" : r.type]: r.kind === "plugin"
            ? { [r.type]: r.options }
            : r.options,
        };
        const members = r.type === "chain"
          ? (r.options as { middlewares: string[] }).middlewares.map((m) =>
            qualify(m, item.provider)
          )
          : undefined;
        resolved = {
          item,
          runtime,
          registered: r.registered,
          options: r.options,
          ...(members ? { members } : {}),
        };
      }
    }
    this.#middlewares.set(name, runtime);
    this.#resolved.set(name, resolved);
    return resolved;
  }

  /** Expands middleware names (chains inlined) or explains why it cannot. */
  #expand(names: readonly string[], seen: readonly string[] = []): ResolvedMiddleware[] | string {
    const out: ResolvedMiddleware[] = [];
    for (const name of names) {
      if (seen.includes(name)) {
        return `middleware chain loop: ${[...seen, name].join(" → ")}`;
      }
      const m = this.#middleware(name);
      if (!m) return `the middleware '${name}' does not exist`;
      if (m.runtime.status === "disabled") {
        return `the middleware '${name}' is disabled: ${m.runtime.errors.join("; ")}`;
      }
      if (m.members) {
        const inner = this.#expand(m.members, [...seen, name]);
        if (typeof inner === "string") return inner;
        out.push(...inner);
      } else {
        out.push(m);
      }
    }
    return out;
  }

  // ---- routers ----

  async #router(item: MergedItem, routes: Map<string, RouteEntry<ChainHandler>[]>): Promise<void> {
    const o = this.#o;
    const v = item.error ? undefined : validate(routerSchema, item.raw);
    const runtime: RouterRuntime = {
      ...runtimeItem(
        item.provider,
        v?.canonical ?? item.raw,
        item.error ?? (v && !v.ok ? v.error : undefined),
      ),
      using: [],
      priority: 0,
      middlewares: [],
    };
    this.#routers.set(item.name, runtime);
    if (!v?.ok) return;
    const config = v.value;
    const log = o.log.with({ router: item.name });

    // Rule.
    let rule;
    try {
      rule = compileRule(config.rule, config.ruleSyntax ?? o.defaultRuleSyntax ?? "v3");
    } catch (error) {
      addError(runtime, `invalid rule ${JSON.stringify(config.rule)}: ${(error as Error).message}`);
    }
    runtime.priority = config.priority || defaultPriority(config.rule);

    // Entrypoints.
    const known = new Map(o.entryPoints.map((e) => [e.name, e]));
    const defaults = o.entryPoints.filter((e) => e.asDefault);
    const wanted = config.entryPoints ??
      (defaults.length ? defaults : o.entryPoints).map((e) => e.name);
    const missing = wanted.filter((n) => !known.has(n));
    if (missing.length) {
      addError(
        runtime,
        `entryPoint${missing.length > 1 ? "s" : ""} not found: ${missing.join(", ")}`,
        missing.length === wanted.length,
      );
    }
    const tls = config.tls !== undefined;
    const eps = wanted.map((n) => known.get(n)).filter((e): e is EntryPointInfo => e !== undefined);
    const attach = eps.filter((e) => e.tls === tls);
    if (eps.length > 0 && attach.length === 0) {
      addError(
        runtime,
        tls
          ? "the router has tls but none of its entrypoints terminates TLS"
          : "the router has no tls section and all of its entrypoints terminate TLS",
      );
    }

    // Service.
    runtime.service = qualify(config.service, item.provider);
    const node = this.#service(runtime.service);
    if ("error" in node) addError(runtime, node.error);
    else this.#markUsed(runtime.service, item.name);

    // Middlewares (router's own; entrypoint ones are added per entrypoint).
    const own = (config.middlewares ?? []).map((m) => qualify(m, item.provider));
    const expanded = this.#expand(own);
    if (typeof expanded === "string") addError(runtime, expanded);
    else runtime.middlewares = expanded.map((m) => m.item.name);

    if (runtime.status === "disabled" || !rule || "error" in node || typeof expanded === "string") {
      return;
    }
    runtime.using = attach.map((e) => e.name);

    // One chain per distinct set of entrypoint middlewares.
    const chains = new Map<string, ChainHandler>();
    for (const ep of attach) {
      const epNames = ep.middlewares ?? [];
      const key = epNames.join(",");
      let handler = chains.get(key);
      if (!handler) {
        const epExpanded = this.#expand(epNames);
        if (typeof epExpanded === "string") {
          addError(runtime, `entryPoint '${ep.name}' middlewares: ${epExpanded}`);
          return;
        }
        try {
          handler = await this.#chain(item.name, [...epExpanded, ...expanded], node, log, key);
        } catch (error) {
          addError(runtime, (error as Error).message);
          return;
        }
        chains.set(key, handler);
      }
      routes.get(ep.name)!.push({
        name: item.name,
        rule,
        priority: runtime.priority,
        value: handler,
      });
    }
    for (const m of [...expanded]) {
      const mr = this.#middlewares.get(m.item.name);
      if (mr && !mr.usedBy.includes(item.name)) mr.usedBy.push(item.name);
    }
  }

  async #chain(
    router: string,
    middlewares: readonly ResolvedMiddleware[],
    node: ServiceNode,
    log: Logger,
    variant: string,
  ): Promise<ChainHandler> {
    const o = this.#o;
    const links: ChainLink[] = middlewares.map((m) =>
      this.#link(router, m.item.name, m.item.provider, m.registered!, m.options, log)
    );
    if (o.recursionGuard?.has(router)) links.unshift(recursionGuardLink(router));
    const types = new Set(middlewares.map((m) => m.registered?.definition.name));
    const stages = o.chain ?? {};
    for (const type of ["retry", "healthGate", "drain"] as const) {
      if (stages[type] === false || types.has(type)) continue;
      const registered = o.registry.get(type);
      if (!registered) continue;
      let defaults = this.#stageDefaults.get(type);
      if (defaults === undefined) {
        defaults = registered.definition.config.parse({});
        this.#stageDefaults.set(type, defaults);
      }
      links.push(this.#link(router, `${type}@internal`, "internal", registered, defaults, log));
    }
    return await compileChain(links, serviceTerminal(node), { router, log: o.log }, {
      own: this.#segments,
      ...(o.liveSegments ? { live: o.liveSegments } : {}),
      prefix: `${router}|${variant}`,
    });
  }

  #link(
    router: string,
    middleware: string,
    provider: string,
    registered: RegisteredType,
    options: unknown,
    log: Logger,
  ): ChainLink {
    const definition = registered.definition;
    return {
      middleware,
      plugin: definition.name,
      replaysDownstream: definition.replaysDownstream === true,
      create: async (downstream) => {
        const ctx: PluginContext = {
          log: log.with({ middleware, plugin: definition.name }),
          middleware,
          router,
          signal: this.#controller.signal,
          service: (name) => this.#serviceCall(qualify(name, provider), router),
          ...(downstream ? { downstream } : {}),
        };
        try {
          return await definition.create(options, ctx);
        } catch (error) {
          const message = `middleware '${middleware}' (${definition.name}) failed to start: ${
            (error as Error).message
          }`;
          const runtime = this.#middlewares.get(middleware);
          if (runtime) addError(runtime, message);
          throw new Error(message, { cause: error });
        }
      },
    };
  }
}

/**
 * Traefik's `denyrouterrecursion` (v2.10.6+): a router whose rule came from a
 * default rule marks requests with `X-Traefik-Router: <hash of its name>`
 * and refuses (400) a request that already carries its own mark, so a
 * default rule matching Pacer's own address cannot loop forever.
 */
function recursionGuardLink(router: string): ChainLink {
  const mark = stickyValue(router);
  return {
    middleware: "denyRouterRecursion@internal",
    plugin: "denyRouterRecursion",
    replaysDownstream: false,
    create: () =>
      Promise.resolve(async function denyRouterRecursion(c, next) {
        if (c.req.raw.headers.get("x-traefik-router") === mark) {
          return c.text("Bad Request", 400);
        }
        const headers = copyHeaders(c.req.raw.headers);
        headers.set("x-traefik-router", mark);
        rewriteRequest(c, { headers });
        await next();
      }),
  };
}

/** Runs `node` at the end of a chain (made here so it holds the node and nothing else). */
function serviceTerminal(node: ServiceNode): (c: Context) => Promise<Response> {
  return (c) => node.handle(c);
}

/**
 * How a mirroring service reaches a mirror: a fresh context outside the
 * client's request. It keeps the router's policies (health gate, drain) and
 * drops what belongs to the client's answer: the retry attempt, the server
 * picked, the access log record, the request to upgrade, and the delivery
 * promise (a mirror's answer is never delivered).
 */
function mirrorCall(node: ServiceNode, log: Logger, mirroring: string): MirrorCall {
  const run = serviceChain(node, log, mirroring);
  return (request, c) => {
    const {
      retryAttempt: _attempt,
      upstream: _upstream,
      accessLog: _accessLog,
      upgradeRequest: _upgrade,
      ...vars
    } = c.var;
    const { completed: _completed, ...env } = c.env as ChainEnv;
    return run(request, { ...env, vars });
  };
}

/** A chain with no middlewares in front of a service (for `ctx.service()`). */
function serviceChain(node: ServiceNode, log: Logger, router: string): ChainHandler {
  let compiled: Promise<ChainHandler> | undefined;
  return async (request, env) => {
    compiled ??= compileChain([], (c) => node.handle(c), { router, log });
    return (await compiled)(request, env);
  };
}
