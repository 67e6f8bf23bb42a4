/**
 * Hands out the cluster's addresses: agents (127.0.0.2 upward), host ports
 * from a range (each checked free with a real bind), IP-per-task addresses
 * (127.0.1.1 upward), fake Docker bridge addresses and cluster-wide unique
 * service ports.
 *
 * @module
 */

import type { AddressSource } from "./networking.ts";
import type { Agent } from "./state.ts";

/** Options of {@linkcode Allocator}. */
export interface AllocatorOptions {
  /** Number of agents. */
  readonly agents: number;
  /** Host ports, inclusive. */
  readonly hostPortRange: readonly [number, number];
  /** Service ports (`local_port_min`/`max`), inclusive. */
  readonly servicePortRange: readonly [number, number];
  /** Prefix of agent ids (a Mesos master id). */
  readonly agentIdPrefix: string;
}

/** Thrown when no address or port is left. */
export class ResourceError extends Error {
  /** @param message What ran out. */
  constructor(message: string) {
    super(message);
    this.name = "ResourceError";
  }
}

/** Whether `hostname:port` can be bound right now. */
function bindable(hostname: string, port: number): boolean {
  try {
    Deno.listen({ hostname, port }).close();
    return true;
  } catch {
    return false;
  }
}

/** Address bookkeeping for one cluster. */
export class Allocator implements AddressSource {
  /** The agents. */
  readonly agents: readonly Agent[];
  readonly #hostPortRange: readonly [number, number];
  readonly #servicePortRange: readonly [number, number];
  readonly #usedHostPorts = new Map<string, Set<number>>();
  readonly #usedContainerIps = new Set<string>();
  readonly #usedServicePorts = new Set<number>();
  readonly #bridgeCounters = new Map<string, number>();
  #hostCursor: number;
  #ipCursor = 0;
  #serviceCursor: number;

  /** @param options Ranges and agent count. */
  constructor(options: AllocatorOptions) {
    if (options.agents < 1 || options.agents > 200) {
      throw new RangeError(
        `Cannot create the simulator as 'agents' must be 1..200: current value is ${options.agents}`,
      );
    }
    const [lo, hi] = options.hostPortRange;
    if (!(lo >= 1 && hi <= 65535 && lo <= hi)) {
      throw new RangeError(
        `Cannot create the simulator as 'hostPortRange' must be within 1..65535: current value is [${lo}, ${hi}]`,
      );
    }
    this.agents = Array.from({ length: options.agents }, (_, i) => ({
      index: i,
      id: `${options.agentIdPrefix}-S${i}`,
      ip: `127.0.0.${2 + i}`,
    }));
    this.#hostPortRange = options.hostPortRange;
    this.#servicePortRange = options.servicePortRange;
    // Start somewhere random so two simulators (or test runs) rarely race for the same ports.
    this.#hostCursor = lo + Math.floor(Math.random() * (hi - lo + 1));
    const [slo, shi] = options.servicePortRange;
    this.#serviceCursor = slo + Math.floor(Math.random() * Math.max(1, shi - slo + 1));
  }

  #portsOf(ip: string): Set<number> {
    let set = this.#usedHostPorts.get(ip);
    if (!set) this.#usedHostPorts.set(ip, set = new Set());
    return set;
  }

  /** Whether fixed host ports are all free on an agent. */
  hostPortsFree(agentIp: string, ports: readonly number[]): boolean {
    const used = this.#portsOf(agentIp);
    return ports.every((p) => !used.has(p) && bindable(agentIp, p));
  }

  /** @inheritdoc */
  hostPort(agentIp: string, fixed?: number): number {
    const used = this.#portsOf(agentIp);
    if (fixed !== undefined) {
      if (used.has(fixed) || !bindable(agentIp, fixed)) {
        throw new ResourceError(`host port ${fixed} is not free on ${agentIp}`);
      }
      used.add(fixed);
      return fixed;
    }
    const [lo, hi] = this.#hostPortRange;
    const size = hi - lo + 1;
    for (let n = 0; n < size; n++) {
      const port = lo + ((this.#hostCursor - lo + n) % size);
      if (!used.has(port) && bindable(agentIp, port)) {
        // Move on, so a replacement task gets a different port, as on a real agent.
        this.#hostCursor = port + 1 > hi ? lo : port + 1;
        used.add(port);
        return port;
      }
    }
    throw new ResourceError(`no free host port in [${lo}, ${hi}] on ${agentIp}`);
  }

  /** Gives host ports back. */
  releaseHostPorts(agentIp: string, ports: readonly number[]): void {
    const used = this.#portsOf(agentIp);
    for (const p of ports) used.delete(p);
  }

  /** @inheritdoc */
  containerPort(ip: string): number {
    return this.hostPort(ip);
  }

  /** @inheritdoc */
  containerIp(): string {
    // 127.0.1.1 .. 127.0.255.254; skip addresses still in use.
    const total = 255 * 254;
    for (let n = 0; n < total; n++) {
      const k = (this.#ipCursor + n) % total;
      const ip = `127.0.${1 + Math.floor(k / 254)}.${1 + (k % 254)}`;
      if (!this.#usedContainerIps.has(ip)) {
        this.#ipCursor = k + 1;
        this.#usedContainerIps.add(ip);
        return ip;
      }
    }
    throw new ResourceError("no free IP-per-task address");
  }

  /** Gives an IP-per-task address back (and any ports bound on it). */
  releaseContainerIp(ip: string): void {
    this.#usedContainerIps.delete(ip);
    this.#usedHostPorts.delete(ip);
  }

  /** @inheritdoc */
  bridgeIp(agentIp: string): string {
    const n = (this.#bridgeCounters.get(agentIp) ?? 0) + 1;
    this.#bridgeCounters.set(agentIp, n);
    return `172.17.${Math.floor((n + 1) / 254) % 256}.${2 + ((n - 1) % 253)}`;
  }

  /**
   * A service port: `fixed` if given (and then marked used), otherwise a
   * free one from the range.
   */
  servicePort(fixed?: number): number {
    if (fixed !== undefined && fixed > 0) {
      this.#usedServicePorts.add(fixed);
      return fixed;
    }
    const [lo, hi] = this.#servicePortRange;
    const size = hi - lo + 1;
    for (let n = 0; n < size; n++) {
      const port = lo + ((this.#serviceCursor - lo + n) % size);
      if (!this.#usedServicePorts.has(port)) {
        this.#serviceCursor = port + 1 > hi ? lo : port + 1;
        this.#usedServicePorts.add(port);
        return port;
      }
    }
    throw new ResourceError(`no free service port in [${lo}, ${hi}]`);
  }

  /** Gives service ports back. */
  releaseServicePorts(ports: readonly number[]): void {
    for (const p of ports) this.#usedServicePorts.delete(p);
  }
}
