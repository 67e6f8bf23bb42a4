/**
 * Test helpers for the Marathon simulator: a recursive "same shape" assertion
 * against real Marathon payloads, an SSE recorder built on
 * eventsource-parser, app builders, and process checks.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { createParser } from "eventsource-parser";
import { type SimCluster, type SimOptions, startCluster } from "../../src/sim/mod.ts";

const FIXTURES = new URL("../fixtures/sim/", import.meta.url);

/** Reads a copied Marathon sample (`tests/fixtures/sim/<path>`) as JSON. */
export async function sample(path: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(path, FIXTURES)));
}

/** Reads a copied Marathon sample as text. */
export async function sampleText(path: string): Promise<string> {
  return await Deno.readTextFile(new URL(path, FIXTURES));
}

/** Options of {@linkcode assertSameShape}. */
export interface ShapeOptions {
  /** Keys whose values are free-form maps (labels, env): only "object" is checked. */
  readonly freeMaps?: readonly string[];
  /** Paths (as reported, e.g. `.apps[].tasks[].healthCheckResults`) not checked. */
  readonly ignore?: readonly string[];
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  return typeof v;
}

/**
 * Asserts that `actual` carries every field `sample` carries, with the same
 * JSON type, recursively. A `null` in the sample accepts any value (the
 * field is nullable); array elements are compared with the sample's first
 * element, and an empty actual array where the sample has elements fails (it
 * proves nothing). Extra fields in `actual` are allowed.
 *
 * @throws {AssertionError} Listing every mismatch with its path.
 */
export function assertSameShape(actual: unknown, sample: unknown, options: ShapeOptions = {}) {
  const problems: string[] = [];
  const walk = (a: unknown, s: unknown, path: string, key: string) => {
    if (options.ignore?.includes(path)) return;
    if (s === null) return;
    const ka = kind(a);
    const ks = kind(s);
    if (ka !== ks) {
      problems.push(`${path || "."}: expected ${ks}, got ${ka} (${JSON.stringify(a)})`);
      return;
    }
    if (options.freeMaps?.includes(key)) return;
    if (ks === "array") {
      const sa = s as unknown[];
      const aa = a as unknown[];
      if (sa.length === 0) return;
      if (aa.length === 0) {
        problems.push(`${path}: empty array cannot be compared with the sample's elements`);
        return;
      }
      aa.forEach((el) => walk(el, sa[0], `${path}[]`, key));
      return;
    }
    if (ks === "object") {
      const so = s as Record<string, unknown>;
      const ao = a as Record<string, unknown>;
      for (const k of Object.keys(so)) {
        const p = `${path}.${k}`;
        if (options.ignore?.includes(p)) continue;
        if (!(k in ao)) {
          problems.push(`${p}: missing (sample has ${JSON.stringify(so[k])?.slice(0, 60)})`);
          continue;
        }
        walk(ao[k], so[k], p, k);
      }
    }
  };
  walk(actual, sample, "", "");
  if (problems.length > 0) {
    throw new AssertionError({
      message: `Shape differs from the sample:\n  ${problems.join("\n  ")}`,
      actual,
      expected: sample,
    });
  }
}

/** One recorded SSE event. */
export interface RecordedEvent {
  /** The `event:` name. */
  readonly event: string;
  /** Parsed `data:` JSON. */
  readonly data: Record<string, unknown>;
  /** When it arrived (performance.now()). */
  readonly at: number;
}

/** Records `/v2/events` with eventsource-parser, keeping the raw text too. */
export class EventRecorder {
  /** Events in arrival order. */
  readonly events: RecordedEvent[] = [];
  /** The raw stream text. */
  raw = "";
  /** The response. */
  readonly response: Response;
  /** Resolves when the stream ends (EOF, error or close()). */
  readonly ended: Promise<void>;
  #abort: AbortController;
  #endedFlag = false;

  private constructor(response: Response, abort: AbortController) {
    this.response = response;
    this.#abort = abort;
    const parser = createParser({
      onEvent: (e) => {
        this.events.push({ event: e.event ?? "", data: JSON.parse(e.data), at: performance.now() });
      },
    });
    this.ended = (async () => {
      try {
        for await (const chunk of response.body!.pipeThrough(new TextDecoderStream())) {
          this.raw += chunk;
          parser.feed(chunk);
        }
      } catch {
        // Aborted or reset.
      } finally {
        this.#endedFlag = true;
      }
    })();
  }

  /**
   * Connects and waits for the 200 headers.
   *
   * @throws {Error} If the answer is not 200.
   */
  static async open(
    url: string,
    options: { headers?: Record<string, string>; eventTypes?: string[] } = {},
  ): Promise<EventRecorder> {
    const abort = new AbortController();
    const u = new URL("/v2/events", url);
    for (const t of options.eventTypes ?? []) u.searchParams.append("event_type", t);
    const res = await fetch(u, {
      headers: { Accept: "text/event-stream", ...options.headers },
      signal: abort.signal,
    });
    if (res.status !== 200) {
      await res.body?.cancel();
      throw new Error(`/v2/events answered ${res.status}`);
    }
    return new EventRecorder(res, abort);
  }

  /** Whether the stream has ended. */
  get isEnded(): boolean {
    return this.#endedFlag;
  }

  /** Events of one type. */
  ofType(type: string): RecordedEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  /** Waits for an event matching `predicate` (already recorded ones count). */
  async waitFor(
    predicate: (e: RecordedEvent) => boolean,
    timeoutMs = 10_000,
    what = "event",
  ): Promise<RecordedEvent> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.events.find(predicate);
      if (hit) return hit;
      if (Date.now() > deadline) {
        throw new Error(
          `Timed out waiting for ${what}; got: ${this.events.map((e) => e.event).join(", ")}`,
        );
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  /** Closes the connection and waits for the reader to finish. */
  async close(): Promise<void> {
    this.#abort.abort();
    await this.ended;
  }
}

/** GET/POST/... returning status, headers and parsed JSON (or text). */
export async function call(
  url: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<{ status: number; headers: Headers; body: unknown; text: string }> {
  const { json, ...rest } = init;
  const res = await fetch(url, {
    ...rest,
    ...(json !== undefined
      ? {
        body: JSON.stringify(json),
        headers: { "Content-Type": "application/json", ...rest.headers },
      }
      : {}),
    redirect: "manual",
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON.
  }
  return { status: res.status, headers: res.headers, body, text };
}

/** A minimal host-mode app definition. */
export function app(id: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { id, cmd: "sim-task", instances: 1, cpus: 0.1, mem: 32, ...extra };
}

function ps(args: string[]): string {
  // Deno only reads /proc with --allow-all; `ps` needs just --allow-run.
  const out = new Deno.Command("ps", { args, stdout: "piped", stderr: "null" }).outputSync();
  return new TextDecoder().decode(out.stdout);
}

/** Whether a process is alive (exists and is not a zombie). */
export function pidAlive(pid: number): boolean {
  try {
    // Harmless to a running process; throws if there is no such process.
    Deno.kill(pid, "SIGCONT");
  } catch {
    return false;
  }
  const stat = ps(["-o", "stat=", "-p", String(pid)]).trim();
  return stat !== "" && !stat.startsWith("Z");
}

/** PIDs of the live direct children of a process. */
export function childPids(pid: number): number[] {
  return ps(["-o", "pid=,stat=", "--ppid", String(pid)]).trim().split("\n")
    .map((line) => line.trim().split(/\s+/))
    .filter(([p, stat]) => p && stat && !stat.startsWith("Z"))
    .map(([p]) => Number(p));
}

/** Fast timings for tests. */
export const FAST: SimOptions = {
  stagingMs: 5,
  defaultKillGraceMs: 1000,
  noLeaderMs: 150,
  leaderWaitMs: 600,
  keepAliveMs: 10_000,
};

/**
 * Starts a cluster with fast timings; the returned cluster also checks, on
 * close, that every task process it ever saw is gone.
 */
export async function fastCluster(options: SimOptions = {}): Promise<SimCluster> {
  const sim = await startCluster({ ...FAST, ...options });
  const seen = new Set<number>();
  const timer = setInterval(() => sim.api.pids().forEach((p) => seen.add(p)), 20);
  const close = sim.close.bind(sim);
  const checkedClose = async () => {
    clearInterval(timer);
    sim.api.pids().forEach((p) => seen.add(p));
    await close();
    const alive = [...seen].filter(pidAlive);
    if (alive.length > 0) throw new Error(`task processes left running: ${alive.join(", ")}`);
  };
  return {
    get urls() {
      return sim.urls;
    },
    get leaderUrl() {
      return sim.leaderUrl;
    },
    api: sim.api,
    close: checkedClose,
    [Symbol.asyncDispose]: checkedClose,
  };
}
