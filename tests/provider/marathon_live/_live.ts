/**
 * Helpers for the live Marathon provider tests: a simulated cluster, a real
 * Pacer whose only source is `marathonProvider()`, a counting fetch, and
 * "which task answered" requests.
 *
 * @module
 */
import type { SimCluster, SimOptions } from "../../../src/sim/mod.ts";
import { memoryLogger } from "../../../src/log/logger.ts";
import { builtinRegistry } from "../../../src/middleware/builtins.ts";
import type { MarathonOptionsInput } from "../../../src/provider/marathon/options.ts";
import {
  marathonProvider,
  type MarathonProviderTiming,
} from "../../../src/provider/marathon/provider.ts";
import { startPacer, type TestPacer } from "../../_helpers/pacer.ts";
import { fastCluster } from "../../_helpers/sim.ts";

/** Short retry and reconnect delays for tests. */
export const FAST_TIMING: MarathonProviderTiming = {
  reconnectInitialMs: 20,
  reconnectMaxMs: 200,
  retryInitialMs: 20,
  retryMaxMs: 200,
  stableMs: 1_000,
  memberRecheckMs: 100,
};

/** Counts requests to Marathon by kind. */
export interface FetchCounter {
  /** `GET /v2/apps` attempts. */
  apps: number;
  /** `GET /v2/events` attempts (redirect hops included). */
  events: number;
  /** `GET /ping` attempts. */
  pings: number;
  /** Every URL requested, in order. */
  readonly urls: string[];
}

/** A `fetch` that counts what it is asked for. */
export function countingFetch(): { fetch: typeof fetch; counter: FetchCounter } {
  const counter: FetchCounter = { apps: 0, events: 0, pings: 0, urls: [] };
  const counting: typeof fetch = (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    counter.urls.push(url);
    const path = new URL(url).pathname;
    if (path.endsWith("/v2/apps")) counter.apps++;
    else if (path.endsWith("/v2/events")) counter.events++;
    else if (path.endsWith("/ping")) counter.pings++;
    return fetch(input, init);
  };
  return { fetch: counting, counter };
}

/** A Pacer fed by the Marathon provider, with its logs and request counts. */
export interface LivePacer extends AsyncDisposable {
  readonly pacer: TestPacer;
  readonly counter: FetchCounter;
  /** JSON log records of the provider (and Pacer). */
  records(): Record<string, unknown>[];
  /** Log records whose message matches. */
  logged(message: RegExp, level?: string): Record<string, unknown>[];
  /** GET through Pacer; returns status, the answering task id ("" if none) and the body. */
  ask(host: string, path?: string): Promise<Answer>;
  /** Marathon routers live in Pacer (`name@marathon`). */
  routers(): string[];
  /** Server URLs of a Marathon service live in Pacer. */
  servers(service: string): string[];
}

/** One answer through Pacer. */
export interface Answer {
  readonly status: number;
  readonly taskId: string;
  // deno-lint-ignore no-explicit-any
  readonly body: any;
}

/** Options of {@linkcode startLivePacer}. */
export interface LiveOptions {
  /** Provider options; `endpoint` defaults to the cluster's leader. */
  readonly provider?: MarathonOptionsInput;
  readonly timing?: MarathonProviderTiming;
  /** Pacer's throttle. @default {25} */
  readonly throttleMs?: number;
}

/** Starts Pacer with a Marathon provider pointed at `sim` (or `options.provider.endpoint`). */
export async function startLivePacer(
  sim: SimCluster | undefined,
  options: LiveOptions = {},
): Promise<LivePacer> {
  const { log, records } = memoryLogger("debug");
  const { fetch, counter } = countingFetch();
  const registry = builtinRegistry();
  const provider = marathonProvider(
    {
      endpoint: sim?.leaderUrl ?? "http://127.0.0.1:1",
      responseHeaderTimeout: "3s",
      dialerTimeout: "500ms",
      ...options.provider,
    },
    { log, registry, fetch, timing: { ...FAST_TIMING, ...options.timing } },
  );
  const pacer = await startPacer({
    providers: [provider],
    // A static section makes the first generation at once, so start-up does not wait for Marathon.
    config: { http: { routers: {}, services: {} } },
    throttleMs: options.throttleMs ?? 25,
    log,
    registry,
  });
  const generation = () => pacer.pacer.generation;
  return {
    pacer,
    counter,
    records,
    logged: (message, level) =>
      records().filter((r) =>
        message.test(String(r.msg)) && (level === undefined || r.level === level)
      ),
    ask: async (host, path = "/") => {
      const res = await pacer.request(host, path);
      const text = await res.text();
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // Pacer's own answers (404, 503) are text.
      }
      return { status: res.status, taskId: res.headers.get("x-sim-task-id") ?? "", body };
    },
    routers: () =>
      [...(generation()?.routers.keys() ?? [])].filter((n) => n.endsWith("@marathon")).sort(),
    servers: (service) => {
      const raw = pacer.pacer.rawdata() as {
        services: Record<string, { servers?: { url: string }[] }>;
      };
      return (raw.services[`${service}@marathon`]?.servers ?? []).map((s) => s.url).sort();
    },
    [Symbol.asyncDispose]: () => pacer[Symbol.asyncDispose](),
  };
}

/** Starts a fast simulated cluster (see `tests/_helpers/sim.ts`). */
export function cluster(options: SimOptions = {}): Promise<SimCluster> {
  return fastCluster(options);
}

/** Polls `predicate` until it returns a truthy value. */
export async function until<T>(
  predicate: () => T | Promise<T>,
  what: string,
  timeoutMs = 5_000,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await predicate();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Waits `ms` (only where the test must prove that nothing happens meanwhile). */
export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Asks `count` times; returns the answering task ids. */
export async function askMany(live: LivePacer, host: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) ids.push((await live.ask(host)).taskId);
  return ids;
}

/** A host-mode app with one named port (the simulator's task process). */
export function simApp(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    cmd: "sim-task",
    instances: 1,
    cpus: 0.1,
    mem: 32,
    portDefinitions: [{ port: 0, name: "http" }],
    ...extra,
  };
}
