/**
 * The task lifecycle as Marathon and Mesos report it: launch (`TASK_STAGING`
 * → `TASK_STARTING` → `TASK_RUNNING` once the process listens), kill
 * (`TASK_KILLING` with the `task_killing` feature, SIGTERM, SIGKILL after the
 * grace period, `TASK_KILLED`), crashes (`TASK_FAILED`, backoff). Every
 * transition publishes `status_update_event` and `instance_changed_event`.
 *
 * @module
 */

import type { AppDef } from "./app_def.ts";
import { type Allocator, ResourceError } from "./allocator.ts";
import { type EventBus, instanceChangedFields, statusUpdateFields } from "./events.ts";
import { isoTime, newTaskIds } from "./ids.ts";
import { planTaskNetwork, portEntries, servicePorts } from "./networking.ts";
import {
  type AppRecord,
  type SimState,
  type TaskRecord,
  type TaskState,
  TERMINAL_STATES,
} from "./state.ts";
import { spawnTask, type TaskExit } from "./tasks.ts";

/** Timing and feature settings of the scheduler. */
export interface SchedulerOptions {
  /** Pre-1.5 id formats and shapes. */
  readonly legacy: boolean;
  /** Whether the `task_killing` feature is on (read at each kill). */
  readonly taskKilling: () => boolean;
  /** Multiplies every duration taken from app definitions (seconds → ms × scale). */
  readonly timeScale: number;
  /** How long a task stays `TASK_STAGING` before its process is spawned. */
  readonly stagingMs: number;
  /** SIGTERM → SIGKILL grace when the app sets no `taskKillGracePeriodSeconds`. */
  readonly defaultKillGraceMs: number;
  /** Delay between `TASK_KILLING` and SIGTERM (0 = at once, as Mesos executors do). */
  readonly killingNoticeMs: number;
  /** Log sink. */
  readonly log: (line: string) => void;
  /** The task app script, if not the bundled default. */
  readonly taskApp?: string | URL;
}

/** A task's record plus the definition it was launched with. */
export interface LaunchedTask extends TaskRecord {
  /** The app definition at launch (grace period and checks of its version). */
  readonly def: AppDef;
}

function exitMessage(exit: TaskExit): string {
  if (exit.signal === "SIGKILL") return "Command terminated with signal Killed";
  if (exit.signal === "SIGTERM") return "Command terminated with signal Terminated";
  if (exit.signal !== null) return `Command terminated with signal ${exit.signal}`;
  return `Command exited with status ${exit.code}`;
}

/** Marathon's environment for a task, plus the app's own `env`. */
function taskEnv(def: AppDef, task: TaskRecord): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(def.env)) if (typeof v === "string") env[k] = v;
  const ports = task.net.endpoints.map((e) => e.port);
  Object.assign(env, {
    HOST: task.net.host,
    PORTS: ports.join(","),
    MARATHON_APP_ID: def.id,
    MARATHON_APP_VERSION: def.version,
    MESOS_TASK_ID: task.id,
    MARATHON_APP_RESOURCE_CPUS: String(def.cpus),
    MARATHON_APP_RESOURCE_MEM: String(def.mem),
  });
  ports.forEach((p, i) => (env[`PORT${i}`] = String(p)));
  if (ports[0] !== undefined) env.PORT = String(ports[0]);
  portEntries(def).forEach((e, i) => {
    if (e.name && ports[i] !== undefined) {
      env[`PORT_${e.name.toUpperCase().replace(/[^A-Z0-9_]/g, "_")}`] = String(ports[i]);
    }
  });
  for (const [k, v] of Object.entries(def.labels)) {
    const name = k.toUpperCase().replace(/[^A-Z0-9_]/g, "_");
    if (name !== "") env[`MARATHON_APP_LABEL_${name}`] = v;
  }
  return env;
}

/** Launches, kills and watches task processes; owns task state transitions. */
export class Scheduler {
  readonly #state: SimState;
  readonly #bus: EventBus;
  readonly #alloc: Allocator;
  readonly #options: SchedulerOptions;
  readonly #listeners = new Set<() => void>();
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();
  #changePending = false;
  #closed = false;

  /**
   * @param state Shared cluster state.
   * @param bus Event bus.
   * @param alloc Address allocator.
   * @param options Timing and features.
   */
  constructor(state: SimState, bus: EventBus, alloc: Allocator, options: SchedulerOptions) {
    this.#state = state;
    this.#bus = bus;
    this.#alloc = alloc;
    this.#options = options;
  }

  /** Milliseconds for a duration in (fractional) seconds from an app definition. */
  scaled(seconds: number): number {
    return seconds * 1000 * this.#options.timeScale;
  }

  /** Registers a listener called (coalesced, asynchronously) after every state change. */
  onChange(fn: () => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Signals that state changed. */
  changed(): void {
    if (this.#changePending || this.#closed) return;
    this.#changePending = true;
    queueMicrotask(() => {
      this.#changePending = false;
      if (this.#closed) return;
      for (const fn of [...this.#listeners]) {
        try {
          fn();
        } catch (err) {
          this.#options.log(`sim: change listener failed: ${err}`);
        }
      }
    });
  }

  #setState(task: TaskRecord, state: TaskState, message = ""): void {
    task.state = state;
    this.#bus.publish("status_update_event", statusUpdateFields(task, message));
    this.#bus.publish("instance_changed_event", instanceChangedFields(task));
    this.changed();
  }

  #timer(task: TaskRecord, ms: number, fn: () => void): void {
    const id = setTimeout(() => {
      task.timers.delete(id);
      fn();
    }, ms);
    task.timers.add(id);
  }

  #pickAgent(def: AppDef) {
    const load = new Map<string, number>();
    for (const t of this.#state.tasks.values()) {
      load.set(t.agent.id, (load.get(t.agent.id) ?? 0) + 1);
    }
    const fixed = def.requirePorts
      ? def.portDefinitions.map((p) => p.port).filter((p) => p > 0)
      : (def.container?.portMappings ?? []).flatMap((m) => m.hostPort ? [m.hostPort] : []);
    const agents = [...this.#alloc.agents].sort((a, b) =>
      (load.get(a.id) ?? 0) - (load.get(b.id) ?? 0) || a.index - b.index
    );
    return agents.find((a) => fixed.length === 0 || this.#alloc.hostPortsFree(a.ip, fixed));
  }

  /**
   * Launches one task of an app: `TASK_STAGING` now, the process after
   * `stagingMs`.
   *
   * @param app The app.
   * @param needsReadiness Whether a deployment will readiness-check it.
   * @returns The task, or undefined when no agent has room (logged; retried by the caller).
   */
  launch(app: AppRecord, needsReadiness: boolean): LaunchedTask | undefined {
    if (this.#closed) return undefined;
    const def = app.def;
    const agent = this.#pickAgent(def);
    if (!agent) {
      this.#options.log(`sim: no agent can take a task of ${def.id} (fixed host ports in use)`);
      return undefined;
    }
    let net;
    try {
      net = planTaskNetwork(def, agent.ip, this.#alloc);
    } catch (err) {
      if (err instanceof ResourceError) {
        this.#options.log(`sim: cannot place a task of ${def.id}: ${err.message}`);
        return undefined;
      }
      throw err;
    }
    const ids = newTaskIds(def.id, this.#options.legacy);
    const task: LaunchedTask = {
      id: ids.taskId,
      instanceId: ids.instanceId,
      appId: def.id,
      agent,
      state: "TASK_STAGING",
      stagedAtMs: Date.now(),
      version: def.version,
      configVersion: def.versionInfo.lastConfigChangeAt,
      net,
      servicePorts: servicePorts(def),
      needsReadiness: needsReadiness && def.readinessChecks.length > 0,
      timers: new Set(),
      def,
    };
    this.#state.tasks.set(task.id, task);
    this.#setState(task, "TASK_STAGING");
    this.#timer(task, this.#options.stagingMs, () => this.#spawn(task));
    return task;
  }

  #spawn(task: LaunchedTask): void {
    if (this.#closed || !this.#state.tasks.has(task.id)) return;
    try {
      task.proc = spawnTask({
        taskId: task.id,
        listen: task.net.listen,
        env: taskEnv(task.def, task),
        log: this.#options.log,
        ...(this.#options.taskApp !== undefined ? { taskApp: this.#options.taskApp } : {}),
      });
    } catch (err) {
      this.#end(task, "TASK_FAILED", `Failed to launch: ${err}`);
      return;
    }
    this.#setState(task, "TASK_STARTING");
    const proc = task.proc;
    proc.listening.then(() => {
      if (task.state === "TASK_STARTING" && !task.kill) {
        task.startedAtMs = Date.now();
        this.#setState(task, "TASK_RUNNING");
      }
    }, () => {});
    proc.exited.then((exit) => {
      if (this.#closed) return;
      this.#end(task, task.kill ? "TASK_KILLED" : "TASK_FAILED", exitMessage(exit));
    });
  }

  /** Stops a task's timers and frees its ports and container IP. */
  #release(task: TaskRecord): void {
    for (const t of task.timers) clearTimeout(t);
    task.timers.clear();
    this.#alloc.releaseHostPorts(task.agent.ip, task.net.hostPorts);
    if (task.net.containerIp) this.#alloc.releaseContainerIp(task.net.containerIp);
  }

  /** Moves a task to a terminal state, frees its resources and forgets it. */
  #end(task: TaskRecord, state: "TASK_KILLED" | "TASK_FAILED", message: string): void {
    if (TERMINAL_STATES.has(task.state)) return;
    this.#release(task);
    this.#setState(task, state, message);
    this.#state.tasks.delete(task.id);
    if (state === "TASK_FAILED") {
      const app = this.#state.apps.get(task.appId);
      if (app) {
        app.lastTaskFailure = {
          appId: task.appId,
          host: task.net.host,
          message,
          state,
          taskId: task.id,
          timestamp: isoTime(),
          version: task.version,
          slaveId: task.agent.id,
        };
        app.failures++;
        const delay = Math.min(
          this.scaled(app.def.backoffSeconds * app.def.backoffFactor ** (app.failures - 1)),
          this.scaled(app.def.maxLaunchDelaySeconds),
        );
        app.launchDelayUntil = Date.now() + delay;
        // Wake the reconciler when the backoff ends, so a replacement is launched.
        const id = setTimeout(() => {
          this.#timers.delete(id);
          this.changed();
        }, delay + 1);
        this.#timers.add(id);
      }
      this.#options.log(`sim: ${task.id} failed: ${message}`);
    }
  }

  /**
   * Kills a task.
   *
   * - `hard`: straight from its state to `TASK_KILLED` by SIGKILL, no `TASK_KILLING`
   *   (agent maintenance, drained agents).
   * - otherwise: `TASK_KILLING` if the feature is on, SIGTERM, SIGKILL after the grace period.
   *
   * @param task The task.
   * @param options How and why.
   */
  kill(task: TaskRecord, options: { hard?: boolean; reason: string }): void {
    if (task.kill || TERMINAL_STATES.has(task.state) || !this.#state.tasks.has(task.id)) return;
    const hard = options.hard ?? false;
    task.kill = { hard, reason: options.reason };
    const proc = task.proc;
    if (!proc) {
      // Never spawned: Mesos reports it killed right away.
      this.#end(task, "TASK_KILLED", "Task killed before launch");
      return;
    }
    if (hard) {
      proc.signal("SIGKILL");
      this.changed();
      return;
    }
    const def = (task as LaunchedTask).def;
    const grace = def.taskKillGracePeriodSeconds !== null
      ? this.scaled(def.taskKillGracePeriodSeconds)
      : this.#options.defaultKillGraceMs;
    if (this.#options.taskKilling() && task.state !== "TASK_STAGING") {
      this.#setState(task, "TASK_KILLING");
    } else {
      this.changed();
    }
    this.#timer(task, this.#options.killingNoticeMs, () => {
      proc.signal("SIGTERM");
      this.#timer(task, grace, () => proc.signal("SIGKILL"));
    });
  }

  /**
   * Fault: the task's agent is cut off from Mesos. A running task becomes
   * `TASK_UNREACHABLE` while its process keeps running (it may well still
   * answer, which is why routers must not trust it). With the app's
   * `unreachableStrategy`, after `inactiveAfterSeconds` it stops counting as
   * an instance and a replacement is launched; after `expungeAfterSeconds`
   * it is expunged: forgotten, with no status update (Mesos sent none).
   * With `"disabled"` it stays unreachable until {@linkcode reconnect}.
   *
   * @returns Whether the task was running and is now unreachable.
   */
  partition(task: TaskRecord): boolean {
    if (task.state !== "TASK_RUNNING" || task.kill || task.unreachable) return false;
    task.unreachable = { inactive: false };
    this.#setState(task, "TASK_UNREACHABLE", "Agent unreachable");
    const strategy = (task as LaunchedTask).def.unreachableStrategy;
    if (strategy === "disabled") return true;
    this.#timer(task, this.scaled(strategy.inactiveAfterSeconds), () => {
      if (!task.unreachable) return;
      task.unreachable.inactive = true;
      this.#bus.publish("instance_changed_event", instanceChangedFields(task));
      this.changed();
    });
    this.#timer(task, this.scaled(strategy.expungeAfterSeconds), () => {
      if (task.unreachable) this.#expunge(task);
    });
    return true;
  }

  /**
   * Forgets an unreachable task, as Marathon's `forceExpunge` does: one
   * `instance_changed_event` with condition `Killed` (Marathon's placeholder
   * for "terminal") and no `status_update_event`, since Mesos reported
   * nothing. Its process is still running behind the partition; the
   * simulator ends it quietly so it leaves nothing behind.
   */
  #expunge(task: TaskRecord): void {
    this.#release(task);
    task.state = "TASK_KILLED"; // terminal: the process's exit reports nothing more
    this.#state.tasks.delete(task.id);
    this.#bus.publish("instance_changed_event", {
      ...instanceChangedFields(task),
      condition: "Killed",
    });
    task.proc?.signal("SIGKILL");
    this.changed();
  }

  /**
   * The task's agent is back. A task still active runs on (`TASK_RUNNING`);
   * one already replaced (inactive) is killed, as Marathon kills an instance
   * that returns after its replacement started.
   *
   * @returns Whether the task was unreachable.
   */
  reconnect(task: TaskRecord): boolean {
    if (!task.unreachable || task.kill) return false;
    const replaced = task.unreachable.inactive;
    delete task.unreachable;
    // Its inactive/expunge timers must not fire for a task that came back.
    for (const t of task.timers) clearTimeout(t);
    task.timers.clear();
    this.#setState(task, "TASK_RUNNING", "Agent reregistered");
    if (replaced) this.kill(task, { reason: "came back after its replacement was launched" });
    return true;
  }

  /** Fault: the process dies (SIGKILL) without Marathon asking; it becomes `TASK_FAILED`. */
  crash(task: TaskRecord): void {
    if (!task.proc) {
      this.#end(task, "TASK_FAILED", "Task crashed before launch");
      return;
    }
    task.proc.signal("SIGKILL");
  }

  /** Stops every process at once (SIGKILL) and waits until they are gone. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    const exits: Promise<unknown>[] = [];
    for (const task of this.#state.tasks.values()) {
      for (const t of task.timers) clearTimeout(t);
      task.timers.clear();
      if (task.proc) {
        task.proc.signal("SIGKILL");
        exits.push(task.proc.exited);
      }
    }
    await Promise.all(exits);
  }

  /** Whether {@linkcode close} was called. */
  get closed(): boolean {
    return this.#closed;
  }
}
