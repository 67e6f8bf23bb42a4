/**
 * A running Pacer: entrypoints, providers, the watcher, the server pool and
 * the handler switcher, with Traefik's lifecycle on stop
 * (`requestAcceptGraceTimeout`, then `graceTimeOut`).
 *
 * `src/main.ts` turns the static configuration into {@linkcode PacerOptions};
 * tests build them directly.
 *
 * @module
 */
import { hostname } from "node:os";
import type { DynamicConfig, RuleSyntax, ServersTransportConfig } from "../config/dynamic.ts";
import type { Logger } from "../log/logger.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import type { Diagnostic, Provider } from "../provider/provider.ts";
import { internalRouters, internalServices } from "../api/internal.ts";
import { rawdata } from "../api/rawdata.ts";
import { ServerPool } from "../service/pool.ts";
import { defaultTransport } from "../service/transport.ts";
import { delay } from "../util/delay.ts";
import { buildGeneration, type ChainStages, type EntryPointInfo } from "./build.ts";
import { LiveSegments } from "./chain.ts";
import { EntryPoint, type EntryPointOptions } from "./entrypoint.ts";
import type { Generation } from "./generation.ts";
import { HandlerSwitcher } from "./handler_switcher.ts";
import { mergeConfigurations } from "./merge.ts";
import { ConfigurationWatcher } from "./watcher.ts";

/** An entrypoint's listening and lifecycle settings. */
export interface PacerEntryPoint extends EntryPointOptions {
  readonly asDefault?: boolean;
  /** Qualified middleware names in front of every router on it. */
  readonly middlewares?: readonly string[];
  /** Keep serving this long after a stop is requested (ms). @default {0} */
  readonly requestAcceptGraceTimeoutMs?: number;
  /** Then wait this long for in-flight requests (ms). @default {10000} */
  readonly graceTimeOutMs?: number;
}

/** Everything a Pacer instance needs. */
export interface PacerOptions {
  readonly entryPoints: readonly PacerEntryPoint[];
  readonly providers: readonly Provider[];
  /** `providers.providersThrottleDuration` (ms). @default {2000} */
  readonly throttleMs?: number;
  readonly registry: MiddlewareRegistry;
  readonly log: Logger;
  readonly defaultRuleSyntax?: RuleSyntax;
  readonly serversTransport?: ServersTransportConfig;
  /** How long a server leaving rotation keeps its in-flight requests (ms). @default {30000} */
  readonly drainTimeoutMs?: number;
  readonly api?: { readonly insecure: boolean; readonly dashboard: boolean };
  readonly ping?: {
    readonly entryPoint: string;
    readonly manualRouting: boolean;
    readonly terminatingStatusCode: number;
  };
  /** Chain stages appended to every router (static `chain.*`). */
  readonly chain?: ChainStages;
  /** `X-Forwarded-Server`. @default {the host name} */
  readonly serverName?: string;
  readonly version?: string;
}

function safeHostname(): string {
  try {
    return hostname() || "pacer";
  } catch {
    return "pacer";
  }
}

/** A running proxy. */
export class Pacer implements AsyncDisposable {
  readonly pool: ServerPool;
  readonly switcher: HandlerSwitcher;
  readonly #options: PacerOptions;
  readonly #entryPoints = new Map<string, EntryPoint>();
  readonly #watcher: ConfigurationWatcher;
  readonly #providersAbort = new AbortController();
  #providersDone: Promise<void> | undefined;
  #generations = 0;
  #terminating = false;
  #stopped: Promise<void> | undefined;

  constructor(options: PacerOptions) {
    this.#options = options;
    this.pool = new ServerPool({
      drainTimeoutMs: options.drainTimeoutMs ?? 30_000,
      log: options.log,
    });
    this.switcher = new HandlerSwitcher(this.pool);
    const serverName = options.serverName ?? safeHostname();
    const entryPointInfos: EntryPointInfo[] = options.entryPoints.map((e) => ({
      name: e.name,
      tls: e.tls !== undefined,
      ...(e.asDefault !== undefined ? { asDefault: e.asDefault } : {}),
      ...(e.middlewares ? { middlewares: e.middlewares } : {}),
    }));
    const transport = defaultTransport(options.serversTransport);
    const liveSegments = new LiveSegments();
    const internal = internalServices({
      pool: this.pool,
      registry: options.registry,
      version: options.version ?? "dev",
      terminating: () => this.#terminating,
      terminatingStatusCode: options.ping?.terminatingStatusCode ?? 503,
      entryPoints: () =>
        [...this.#entryPoints.values()].map((e) => ({
          name: e.name,
          address: `${e.addr.hostname}:${e.addr.port}`,
        })),
    });
    this.#watcher = new ConfigurationWatcher({
      throttleMs: options.throttleMs ?? 2000,
      log: options.log,
      build: async (configs, diagnostics, guarded) => {
        const id = ++this.#generations;
        const started = performance.now();
        const generation = await buildGeneration(mergeConfigurations(configs), {
          id,
          entryPoints: entryPointInfos,
          defaultRuleSyntax: options.defaultRuleSyntax ?? "v3",
          defaultTransport: transport,
          registry: options.registry,
          pool: this.pool,
          log: options.log,
          serverName,
          ...(options.chain ? { chain: options.chain } : {}),
          internal,
          diagnostics,
          recursionGuard: guarded,
          liveSegments,
        });
        this.switcher.swap(generation);
        this.#logGeneration(generation, performance.now() - started);
      },
    });
  }

  /** The live generation. */
  get generation(): Generation | undefined {
    return this.switcher.current;
  }

  /** A listening entrypoint by name. */
  entryPoint(name: string): EntryPoint {
    const ep = this.#entryPoints.get(name);
    if (!ep) throw new Error(`no entrypoint named '${name}'`);
    return ep;
  }

  /** Whether a stop was requested. */
  get terminating(): boolean {
    return this.#terminating;
  }

  /** Starts listening on every entrypoint, then starts the providers. */
  async start(): Promise<void> {
    const o = this.#options;
    for (const options of o.entryPoints) {
      const ep = new EntryPoint(
        options,
        (request, arrival) => this.switcher.handle(request, arrival),
        o.log,
      );
      this.#entryPoints.set(options.name, ep);
    }
    try {
      await Promise.all([...this.#entryPoints.values()].map((ep) => ep.listen()));
    } catch (error) {
      await this.#closeListeners();
      throw error;
    }
    const internal = internalRouters({
      ...(o.api ? { api: o.api } : {}),
      ...(o.ping ? { ping: o.ping } : {}),
    });
    const providers: Provider[] = [...o.providers];
    if (Object.keys(internal.http?.routers ?? {}).length) {
      providers.push(staticProvider("internal", internal));
    }
    this.#providersDone = this.#watcher.run(providers, this.#providersAbort.signal);
  }

  /** Resolves once the latest configuration received is live. */
  settled(): Promise<void> {
    return this.#watcher.settled();
  }

  /** `/api/rawdata` of the live generation. */
  rawdata(): Record<string, unknown> {
    return rawdata(this.generation, this.pool, { registry: this.#options.registry });
  }

  /**
   * Stops as Traefik does: `/ping` answers 503 and every answer carries
   * `Connection: close` for `requestAcceptGraceTimeout`; then listeners stop
   * accepting and in-flight requests get `graceTimeOut` to finish; then
   * providers stop and upstream connections close.
   */
  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    const log = this.#options.log;
    this.#terminating = true;
    for (const ep of this.#entryPoints.values()) ep.beginStopping();
    log.info("Stopping: serving during the accept grace period, then draining");
    await Promise.all(this.#options.entryPoints.map(async (options) => {
      const ep = this.#entryPoints.get(options.name);
      if (!ep) return;
      const grace = options.requestAcceptGraceTimeoutMs ?? 0;
      if (grace > 0) await delay(grace);
      await ep.stop(options.graceTimeOutMs ?? 10_000, () => this.pool.close());
    }));
    this.#providersAbort.abort();
    await this.#providersDone;
    this.switcher.close();
    this.pool.close();
    for (const accessLog of new Set(this.#options.entryPoints.map((e) => e.accessLog))) {
      accessLog?.flush();
    }
    log.info("Stopped");
  }

  async #closeListeners(): Promise<void> {
    for (const ep of this.#entryPoints.values()) {
      try {
        await ep.stop(0);
      } catch {
        // Not listening.
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #logGeneration(generation: Generation, ms: number): void {
    let enabled = 0;
    let disabled = 0;
    for (const r of generation.routers.values()) {
      if (r.status === "disabled") disabled++;
      else enabled++;
    }
    this.#options.log.info("Configuration applied", {
      generation: generation.id,
      routers: enabled,
      disabledRouters: disabled || undefined,
      servers: generation.servers.size,
      draining: this.pool.draining().length || undefined,
      buildMs: Math.round(ms * 10) / 10,
    });
    for (const [name, r] of generation.routers) {
      if (r.errors.length) {
        this.#options.log[r.status === "disabled" ? "error" : "warn"](
          r.status === "disabled" ? "Router disabled" : "Router warning",
          { router: name, error: r.errors.join("; ") },
        );
      }
    }
    for (const [name, s] of generation.services) {
      if (s.status === "disabled") {
        this.#options.log.error("Service disabled", { service: name, error: s.errors.join("; ") });
      }
    }
    for (const [name, m] of generation.middlewares) {
      if (m.status === "disabled") {
        this.#options.log.error("Middleware disabled", {
          middleware: name,
          error: m.errors.join("; "),
        });
      }
    }
  }
}

/** A provider that emits one fixed configuration (internal routers, tests). */
export function staticProvider(
  name: string,
  config: DynamicConfig,
  diagnostics?: readonly Diagnostic[],
): Provider {
  return {
    name,
    run(emit, signal) {
      emit({ provider: name, config, ...(diagnostics ? { diagnostics } : {}) });
      return new Promise((resolve) => {
        if (signal.aborted) return resolve();
        signal.addEventListener("abort", () => resolve(), { once: true });
      });
    },
  };
}
