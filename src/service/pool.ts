/**
 * The server pool: one {@linkcode UpstreamServer} per (service, URL,
 * transport), shared by every configuration generation that uses it, so
 * connection pools and health state survive reloads.
 *
 * When a new generation goes live ({@linkcode ServerPool.commit}), servers it
 * no longer uses start **draining**: no new requests, in-flight ones finish
 * (up to the drain timeout, after which they are cut), idle connections
 * close, and the server is forgotten when its last request ends.
 *
 * @module
 */
import type { Logger } from "../log/logger.ts";
import { silentLogger } from "../log/logger.ts";
import { UpstreamServer } from "./server.ts";
import type { Transport } from "./transport.ts";

/** Options of {@linkcode ServerPool}. */
export interface ServerPoolOptions {
  /** How long a leaving server keeps its in-flight requests. @default {30000} */
  readonly drainTimeoutMs?: number;
  readonly log?: Logger;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** What a commit changed. */
export interface PoolChange {
  readonly added: readonly UpstreamServer[];
  readonly removed: readonly UpstreamServer[];
}

/** Servers in use and servers draining. */
export class ServerPool {
  readonly #live = new Map<string, UpstreamServer>();
  readonly #draining = new Map<
    string,
    { server: UpstreamServer; timer: ReturnType<typeof setTimeout> }
  >();
  readonly #drainTimeoutMs: number;
  readonly #log: Logger;
  readonly #now: () => number;
  #idleWaiters: (() => void)[] = [];

  constructor(options: ServerPoolOptions = {}) {
    this.#drainTimeoutMs = options.drainTimeoutMs ?? 30_000;
    this.#log = options.log ?? silentLogger;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The entry for a server: the live or draining one if it exists, else a
   * new one (registered only when a generation using it is committed).
   */
  acquire(service: string, rawUrl: string, transport: Transport): UpstreamServer {
    const key = `${service}|${rawUrl}|${transport.key}`;
    return this.#live.get(key) ?? this.#draining.get(key)?.server ??
      new UpstreamServer(service, rawUrl, transport);
  }

  /** Makes `used` the live set; live servers not in it start draining. */
  commit(used: Iterable<UpstreamServer>): PoolChange {
    const next = new Map<string, UpstreamServer>();
    const added: UpstreamServer[] = [];
    for (const server of used) {
      next.set(server.key, server);
      const draining = this.#draining.get(server.key);
      if (draining) {
        // Back in rotation before it was forgotten (a reverted edit).
        clearTimeout(draining.timer);
        this.#draining.delete(server.key);
        server.whenIdle(undefined);
        server.draining = false;
        server.drainingSince = 0;
      } else if (!this.#live.has(server.key)) {
        added.push(server);
      }
    }
    const removed: UpstreamServer[] = [];
    for (const [key, server] of this.#live) {
      if (!next.has(key)) {
        removed.push(server);
        this.#drain(server);
      }
    }
    this.#live.clear();
    for (const [key, server] of next) this.#live.set(key, server);
    return { added, removed };
  }

  /** Starts draining every server (Pacer is stopping). Resolves when all are forgotten. */
  drainAll(): Promise<void> {
    for (const server of this.#live.values()) this.#drain(server);
    this.#live.clear();
    return this.idle();
  }

  /** Resolves once no server is draining. */
  idle(): Promise<void> {
    if (this.#draining.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Servers in the live generation. */
  live(): UpstreamServer[] {
    return [...this.#live.values()];
  }

  /** Servers draining now. */
  draining(): UpstreamServer[] {
    return [...this.#draining.values()].map((d) => d.server);
  }

  /** Forgets everything at once (tests, final exit): cuts in-flight requests. */
  close(): void {
    for (const { server, timer } of this.#draining.values()) {
      clearTimeout(timer);
      server.dispose();
    }
    this.#draining.clear();
    for (const server of this.#live.values()) server.dispose();
    this.#live.clear();
    this.#wakeIdle();
  }

  #drain(server: UpstreamServer): void {
    if (this.#draining.has(server.key)) return;
    server.draining = true;
    server.drainingSince = this.#now();
    const timer = setTimeout(() => this.#forget(server, true), this.#drainTimeoutMs);
    Deno.unrefTimer(timer);
    this.#draining.set(server.key, { server, timer });
    this.#log.debug("Server draining", {
      service: server.service,
      server: server.rawUrl,
      inFlight: server.inFlight,
    });
    server.whenIdle(() => this.#forget(server, false));
  }

  #forget(server: UpstreamServer, timedOut: boolean): void {
    const entry = this.#draining.get(server.key);
    if (!entry || entry.server !== server) return;
    clearTimeout(entry.timer);
    this.#draining.delete(server.key);
    server.whenIdle(undefined);
    if (timedOut) {
      this.#log.warn("Drain timeout: cutting requests still in flight", {
        service: server.service,
        server: server.rawUrl,
        inFlight: server.inFlight,
      });
      server.dispose();
    } else {
      server.closeIdleConnections();
      this.#log.debug("Server drained", { service: server.service, server: server.rawUrl });
    }
    if (this.#draining.size === 0) this.#wakeIdle();
  }

  #wakeIdle(): void {
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}
