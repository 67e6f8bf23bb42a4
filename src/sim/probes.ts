/**
 * Marathon's own probes against real task processes: health checks (the
 * leader's `HTTP`/`TCP` checks; `MESOS_*` checks are probed the same way) and
 * readiness checks (only while a deployment runs). Results land on the task
 * records; transitions publish the health events.
 *
 * @module
 */

import type { AppDef, HealthCheck } from "./app_def.ts";
import {
  type EventBus,
  failedHealthCheckFields,
  healthStatusChangedFields,
  instanceHealthChangedFields,
  unhealthyKillFields,
} from "./events.ts";
import { isoTime } from "./ids.ts";
import { portIndexByName } from "./networking.ts";
import type { LaunchedTask, Scheduler } from "./scheduler.ts";
import type { HealthResult, ReadinessResult, SimState, TaskRecord } from "./state.ts";

/** Options of {@linkcode Prober}. */
export interface ProberOptions {
  /** Pre-1.5 event shapes. */
  readonly legacy: boolean;
  /** Log sink. */
  readonly log: (line: string) => void;
}

interface ProbeOutcome {
  readonly ok: boolean;
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly cause: string;
}

interface Loop {
  timer?: ReturnType<typeof setTimeout>;
  readonly abort: AbortController;
}

/** Runs and stops probe loops as tasks come and go. */
export class Prober {
  readonly #state: SimState;
  readonly #bus: EventBus;
  readonly #scheduler: Scheduler;
  readonly #options: ProberOptions;
  readonly #loops = new Map<string, Loop>();
  readonly #inFlight = new Set<Promise<unknown>>();
  readonly #client = Deno.createHttpClient({ poolMaxIdlePerHost: 0 });
  #paused = false;
  #closed = false;

  /**
   * @param state Cluster state.
   * @param bus Event bus.
   * @param scheduler Kills unhealthy tasks; converts seconds.
   * @param options Shapes and logging.
   */
  constructor(state: SimState, bus: EventBus, scheduler: Scheduler, options: ProberOptions) {
    this.#state = state;
    this.#bus = bus;
    this.#scheduler = scheduler;
    this.#options = options;
  }

  /** Starts loops for newly eligible tasks and stops the others. Call on every change. */
  sync(): void {
    if (this.#closed) return;
    const wanted = new Set<string>();
    if (!this.#paused) {
      for (const task of this.#state.tasks.values()) {
        if (task.state !== "TASK_RUNNING" || task.kill) continue;
        const def = (task as LaunchedTask).def;
        def.healthChecks.forEach((hc, i) => {
          if (hc.protocol !== "COMMAND") wanted.add(`${task.id}#h${i}`);
        });
        if (
          task.needsReadiness && !task.readiness?.ready &&
          this.#state.deploymentsOf(task.appId).length > 0
        ) wanted.add(`${task.id}#r`);
      }
    }
    for (const [key, loop] of this.#loops) {
      if (!wanted.has(key)) this.#stop(key, loop);
    }
    for (const key of wanted) {
      if (this.#loops.has(key)) continue;
      const loop: Loop = { abort: new AbortController() };
      this.#loops.set(key, loop);
      this.#run(key, loop, 0);
    }
  }

  #stop(key: string, loop: Loop): void {
    clearTimeout(loop.timer);
    loop.abort.abort();
    this.#loops.delete(key);
  }

  #run(key: string, loop: Loop, delayMs: number): void {
    loop.timer = setTimeout(() => {
      const [taskId, kind] = key.split("#") as [string, string];
      const task = this.#state.tasks.get(taskId) as LaunchedTask | undefined;
      if (!task || this.#loops.get(key) !== loop) return;
      const probe = kind === "r"
        ? this.#readiness(task, loop)
        : this.#health(task, Number(kind.slice(1)), loop);
      // Tracked so close() can wait for probes in flight.
      this.#inFlight.add(probe);
      probe.then((next) => {
        this.#inFlight.delete(probe);
        if (this.#loops.get(key) !== loop) return;
        if (next !== undefined) this.#run(key, loop, next);
        else this.#loops.delete(key);
      }, (err) => {
        this.#inFlight.delete(probe);
        this.#options.log(`sim: probe ${key} failed: ${err}`);
        if (this.#loops.get(key) === loop) this.#loops.delete(key);
      });
    }, delayMs);
  }

  async #probe(
    protocol: string,
    endpoint: { hostname: string; port: number },
    path: string,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<ProbeOutcome> {
    const abort = new AbortController();
    const onAbort = () => abort.abort();
    signal.addEventListener("abort", onAbort);
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      if (protocol.endsWith("TCP")) {
        const conn = await Deno.connect({ hostname: endpoint.hostname, port: endpoint.port });
        conn.close();
        return { ok: true, status: 0, contentType: "", body: "", cause: "" };
      }
      // The task app speaks plain HTTP only; HTTPS checks are probed over HTTP.
      const res = await fetch(`http://${endpoint.hostname}:${endpoint.port}${path}`, {
        signal: abort.signal,
        client: this.#client,
      });
      const body = await res.text();
      return {
        ok: res.status >= 200 && res.status < 400,
        status: res.status,
        contentType: res.headers.get("content-type") ?? "",
        body,
        cause: `${res.status} ${res.statusText}`.trim(),
      };
    } catch (err) {
      const cause = abort.signal.aborted
        ? `ConnectionAttemptFailed / timeout after ${timeoutMs} ms`
        : err instanceof Error
        ? err.message
        : String(err);
      return { ok: false, status: 504, contentType: "text/plain", body: cause, cause };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", onAbort);
    }
  }

  async #health(task: LaunchedTask, index: number, loop: Loop): Promise<number | undefined> {
    const def = task.def;
    const hc = def.healthChecks[index];
    if (!hc) return undefined;
    const endpoint = hc.port !== undefined
      ? { hostname: task.net.host, port: hc.port }
      : task.net.endpoints[hc.portIndex ?? 0];
    if (!endpoint) return undefined;
    const outcome = await this.#probe(
      hc.protocol,
      endpoint,
      hc.path ?? "/",
      this.#scheduler.scaled(hc.timeoutSeconds),
      loop.abort.signal,
    );
    if (loop.abort.signal.aborted || !this.#state.tasks.has(task.id) || this.#paused) {
      return undefined;
    }
    this.#record(task, def, hc, index, outcome);
    return this.#scheduler.scaled(hc.intervalSeconds);
  }

  #record(task: TaskRecord, def: AppDef, hc: HealthCheck, index: number, o: ProbeOutcome): void {
    const now = isoTime();
    const prev = task.health?.[index];
    const healthyBefore = this.#overall(task, def);
    let next: HealthResult;
    if (o.ok) {
      next = {
        alive: true,
        consecutiveFailures: 0,
        firstSuccess: prev?.firstSuccess ?? now,
        lastSuccess: now,
        lastFailure: prev?.lastFailure ?? null,
        lastFailureCause: prev?.lastFailureCause ?? null,
      };
    } else {
      const inGrace = task.startedAtMs !== undefined &&
        Date.now() - task.startedAtMs < this.#scheduler.scaled(hc.gracePeriodSeconds);
      // Marathon ignores failures inside the grace period until the first success.
      if (inGrace && !prev?.firstSuccess) return;
      next = {
        alive: false,
        consecutiveFailures: (prev?.consecutiveFailures ?? 0) + 1,
        firstSuccess: prev?.firstSuccess ?? null,
        lastSuccess: prev?.lastSuccess ?? null,
        lastFailure: now,
        lastFailureCause: o.cause,
      };
      this.#bus.publish(
        "failed_health_check_event",
        failedHealthCheckFields(task, hc, this.#options.legacy),
      );
    }
    task.health ??= def.healthChecks.map(() => undefined);
    task.health[index] = next;
    if ((prev?.alive ?? false) !== next.alive) {
      this.#bus.publish("health_status_changed_event", healthStatusChangedFields(task, next.alive));
    }
    const healthyAfter = this.#overall(task, def);
    if (healthyBefore !== healthyAfter) {
      this.#bus.publish(
        "instance_health_changed_event",
        instanceHealthChangedFields(task, healthyAfter),
      );
    }
    if (
      !next.alive && hc.maxConsecutiveFailures > 0 &&
      next.consecutiveFailures >= hc.maxConsecutiveFailures && !task.kill
    ) {
      this.#bus.publish("unhealthy_instance_kill_event", unhealthyKillFields(task, o.cause));
      this.#scheduler.kill(task, { reason: `health check failed: ${o.cause}` });
    }
    this.#scheduler.changed();
  }

  /** true/false once every check has a result, null while any is missing. */
  #overall(task: TaskRecord, def: AppDef): boolean | null {
    const results = def.healthChecks.map((hc, i) =>
      hc.protocol === "COMMAND" ? true : task.health?.[i]?.alive
    );
    if (results.some((r) => r === false)) return false;
    if (results.some((r) => r === undefined)) return null;
    return true;
  }

  async #readiness(task: LaunchedTask, loop: Loop): Promise<number | undefined> {
    const rc = task.def.readinessChecks[0];
    if (!rc) return undefined;
    const endpoint = task.net.endpoints[portIndexByName(task.def, rc.portName)];
    if (!endpoint) return undefined;
    const o = await this.#probe(
      rc.protocol,
      endpoint,
      rc.path,
      this.#scheduler.scaled(rc.timeoutSeconds),
      loop.abort.signal,
    );
    if (loop.abort.signal.aborted || !this.#state.tasks.has(task.id) || this.#paused) {
      return undefined;
    }
    const ready = o.status !== 504 && rc.httpStatusCodesForReady.includes(o.status);
    const result: ReadinessResult = {
      name: rc.name,
      taskId: task.id,
      ready,
      ...(rc.preserveLastResponse
        ? { lastResponse: { status: o.status, contentType: o.contentType, body: o.body } }
        : {}),
    };
    task.readiness = result;
    this.#scheduler.changed();
    return ready ? undefined : this.#scheduler.scaled(rc.intervalSeconds);
  }

  /**
   * Leader change: no probes until {@linkcode resume}, and every result is
   * forgotten (health results are not persisted; readiness is re-checked by
   * the resumed deployment).
   */
  pause(): void {
    this.#paused = true;
    for (const task of this.#state.tasks.values()) {
      delete task.health;
      delete task.readiness;
    }
    this.sync();
  }

  /** A new leader probes again. */
  resume(): void {
    this.#paused = false;
    this.sync();
  }

  /** Stops every loop, waits for probes in flight, closes the probe client. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const [key, loop] of this.#loops) this.#stop(key, loop);
    await Promise.allSettled([...this.#inFlight]);
    this.#client.close();
  }
}
