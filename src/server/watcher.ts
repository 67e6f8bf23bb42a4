/**
 * The configuration watcher (Traefik `pkg/server/configurationwatcher.go`):
 * runs the providers, throttles each one, drops configurations that did not
 * change, merges all providers, builds a new generation and hands it to
 * `apply`. Builds never overlap; while one runs, newer messages wait and the
 * latest wins. A build that throws keeps the live generation.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { DynamicConfig } from "../config/dynamic.ts";
import type { Logger } from "../log/logger.ts";
import type { ConfigMessage, Diagnostic, Provider } from "../provider/provider.ts";
import { createThrottle, type Throttle } from "../provider/throttle.ts";

/** Options of {@linkcode ConfigurationWatcher}. */
export interface WatcherOptions {
  /** `providers.providersThrottleDuration` in ms. */
  readonly throttleMs: number;
  /** Builds a generation from every provider's latest configuration. */
  readonly build: (
    configs: ReadonlyMap<string, DynamicConfig>,
    diagnostics: ReadonlyMap<string, readonly Diagnostic[]>,
    guarded: ReadonlySet<string>,
  ) => Promise<void>;
  readonly log: Logger;
}

/** Whether a configuration has no section at all (Traefik skips those). */
export function isEmptyConfiguration(config: DynamicConfig): boolean {
  return config.http === undefined && config.tcp === undefined && config.udp === undefined &&
    config.tls === undefined;
}

/** Runs providers and turns their messages into builds. */
export class ConfigurationWatcher {
  readonly #options: WatcherOptions;
  readonly #latest = new Map<string, ConfigMessage>();
  readonly #throttles = new Map<string, Throttle>();
  #dirty = false;
  #running: Promise<void> | undefined;
  #received = 0;
  #built = 0;
  readonly #settleWaiters: { target: number; resolve: () => void }[] = [];

  constructor(options: WatcherOptions) {
    this.#options = options;
  }

  /** Runs `providers` until `signal` aborts. */
  async run(providers: readonly Provider[], signal: AbortSignal): Promise<void> {
    const runs = providers.map(async (provider) => {
      const log = this.#options.log.with({ provider: provider.name });
      try {
        await provider.run((message) => this.receive(message), signal);
      } catch (error) {
        if (!signal.aborted) log.error("Provider stopped unexpectedly", { error });
      }
    });
    await Promise.all(runs);
    for (const throttle of this.#throttles.values()) throttle.close();
    await this.#running;
  }

  /** Entry point for provider messages (throttled per provider). */
  receive(message: ConfigMessage): void {
    let throttle = this.#throttles.get(message.provider);
    if (!throttle) {
      throttle = createThrottle((m) => this.#accept(m), this.#options.throttleMs);
      this.#throttles.set(message.provider, throttle);
    }
    throttle.push(message);
  }

  /** Resolves once every message accepted so far is live (or failed to build). */
  settled(): Promise<void> {
    const target = this.#received;
    if (this.#built >= target && !this.#running) return Promise.resolve();
    return new Promise((resolve) => this.#settleWaiters.push({ target, resolve }));
  }

  #accept(message: ConfigMessage): void {
    const log = this.#options.log.with({ provider: message.provider });
    if (isEmptyConfiguration(message.config)) {
      log.debug("Skipping empty configuration");
      return;
    }
    const previous = this.#latest.get(message.provider);
    if (
      previous && isDeepStrictEqual(previous.config, message.config) &&
      isDeepStrictEqual(previous.diagnostics ?? [], message.diagnostics ?? []) &&
      isDeepStrictEqual(previous.recursionGuard ?? [], message.recursionGuard ?? [])
    ) {
      log.debug("Skipping unchanged configuration");
      return;
    }
    this.#latest.set(message.provider, message);
    this.#received++;
    this.#dirty = true;
    this.#running ??= this.#loop();
  }

  async #loop(): Promise<void> {
    while (this.#dirty) {
      this.#dirty = false;
      const reached = this.#received;
      const configs = new Map<string, DynamicConfig>();
      const diagnostics = new Map<string, readonly Diagnostic[]>();
      const guarded = new Set<string>();
      for (const [provider, message] of this.#latest) {
        configs.set(provider, message.config);
        if (message.diagnostics?.length) diagnostics.set(provider, message.diagnostics);
        for (const router of message.recursionGuard ?? []) guarded.add(`${router}@${provider}`);
      }
      try {
        await this.#options.build(configs, diagnostics, guarded);
      } catch (error) {
        this.#options.log.error("Cannot build the new configuration; keeping the live one", {
          error,
        });
      }
      this.#built = reached;
      for (const waiter of [...this.#settleWaiters]) {
        if (this.#built >= waiter.target) {
          this.#settleWaiters.splice(this.#settleWaiters.indexOf(waiter), 1);
          waiter.resolve();
        }
      }
    }
    this.#running = undefined;
  }
}
