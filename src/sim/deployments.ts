/**
 * Deployments: plans of steps of actions, executed level-triggered (every
 * state change re-evaluates the running step), with Marathon's rolling
 * restart rules (API.md §7): `minHealthy = ceil(n × minimumHealthCapacity)`,
 * `maxCapacity = floor(n × (1 + maximumOverCapacity))`, one extra instance when
 * the two meet, an old instance killed each time a new one is healthy and
 * ready. Apps without a deployment get failed instances replaced.
 *
 * @module
 */

import type { AppDef } from "./app_def.ts";
import { deploymentStepFields, type EventBus, planJson } from "./events.ts";
import { taskHealthy } from "./render.ts";
import type { LaunchedTask, Scheduler } from "./scheduler.ts";
import type {
  AppRecord,
  DeploymentAction,
  DeploymentRecord,
  SimState,
  TaskRecord,
} from "./state.ts";

/** Options of {@linkcode DeploymentManager}. */
export interface DeploymentManagerOptions {
  /** Log sink. */
  readonly log: (line: string) => void;
  /** Called when an app's stop completes (frees its service ports). */
  readonly onAppStopped: (appId: string) => void;
}

/** Whether a task counts as up: running, healthy (if checked) and ready (if checked). */
export function taskUp(task: TaskRecord): boolean {
  if (task.state !== "TASK_RUNNING" || task.kill) return false;
  const def = (task as LaunchedTask).def;
  if (taskHealthy(def, task) === false) return false;
  return !task.needsReadiness || task.readiness?.ready === true;
}

/**
 * Whether a task counts as one of its app's instances: not being killed,
 * and not `UnreachableInactive` (Marathon has launched, or will launch, its
 * replacement; the task stays listed until it is expunged or comes back).
 */
function countsAsInstance(task: TaskRecord): boolean {
  return !task.kill && !task.unreachable?.inactive;
}

/** Orders kill candidates: not running first, then by `killSelection`. */
function victims(tasks: readonly TaskRecord[], count: number, def: AppDef): TaskRecord[] {
  if (count <= 0) return [];
  const sorted = [...tasks].sort((a, b) => {
    const ra = a.state === "TASK_RUNNING" && taskHealthy(def, a) !== false ? 1 : 0;
    const rb = b.state === "TASK_RUNNING" && taskHealthy(def, b) !== false ? 1 : 0;
    if (ra !== rb) return ra - rb;
    return def.killSelection === "OLDEST_FIRST"
      ? a.stagedAtMs - b.stagedAtMs
      : b.stagedAtMs - a.stagedAtMs;
  });
  return sorted.slice(0, count);
}

function parentGroup(appId: string): string {
  const i = appId.lastIndexOf("/");
  return i <= 0 ? "/" : appId.slice(0, i);
}

/** Runs deployments and keeps apps at their instance count. */
export class DeploymentManager {
  readonly #state: SimState;
  readonly #bus: EventBus;
  readonly #scheduler: Scheduler;
  readonly #options: DeploymentManagerOptions;
  /** Frozen `maxCapacity` per deployment and app, computed when its restart starts. */
  readonly #capacity = new Map<string, number>();
  #retry: ReturnType<typeof setTimeout> | undefined;
  #closed = false;

  /**
   * @param state Cluster state.
   * @param bus Event bus.
   * @param scheduler Launches and kills tasks.
   * @param options Logging and hooks.
   */
  constructor(
    state: SimState,
    bus: EventBus,
    scheduler: Scheduler,
    options: DeploymentManagerOptions,
  ) {
    this.#state = state;
    this.#bus = bus;
    this.#scheduler = scheduler;
    this.#options = options;
  }

  /**
   * Starts a deployment: publishes `deployment_info` for its first step and
   * begins executing.
   *
   * @param deployment The plan (status `running`, step 0).
   */
  start(deployment: DeploymentRecord): void {
    this.#state.deployments.set(deployment.id, deployment);
    this.#bus.publish("deployment_info", deploymentStepFields(deployment));
    this.#scheduler.changed();
  }

  /**
   * Cancels a running deployment (a forced change replaced it):
   * `deployment_step_failure`, then `deployment_failed`.
   *
   * @param id Deployment id.
   * @param reason Why.
   */
  cancel(id: string, reason: string): void {
    const d = this.#state.deployments.get(id);
    if (!d) return;
    d.status = "failed";
    this.#state.deployments.delete(id);
    this.#bus.publish("deployment_step_failure", deploymentStepFields(d));
    this.#bus.publish("deployment_failed", { id: d.id, plan: planJson(d), reason });
    this.#bus.publish("group_change_failed", {
      groupId: parentGroup(d.affectedApps[0] ?? "/"),
      version: d.version,
      reason,
    });
    this.#forgetCapacity(d);
    this.#scheduler.changed();
  }

  #forgetCapacity(d: DeploymentRecord): void {
    for (const key of [...this.#capacity.keys()]) {
      if (key.startsWith(`${d.id}#`)) this.#capacity.delete(key);
    }
  }

  /** Re-evaluates every running deployment, then replaces missing instances. */
  tick(): void {
    if (this.#closed) return;
    for (const d of [...this.#state.deployments.values()]) {
      // Several steps may complete in one tick (e.g. StartApplication).
      while (d.status === "running" && this.#state.deployments.has(d.id)) {
        const step = d.steps[d.currentStep] ?? [];
        const done = step.map((a) => this.#act(d, a)).every(Boolean);
        if (!done) break;
        this.#bus.publish("deployment_step_success", deploymentStepFields(d));
        if (d.currentStep + 1 < d.steps.length) {
          d.currentStep++;
          this.#bus.publish("deployment_info", deploymentStepFields(d));
        } else {
          this.#finish(d);
        }
      }
    }
    for (const app of this.#state.apps.values()) {
      if (this.#state.deploymentsOf(app.def.id).length > 0) continue;
      // An unreachable task counts until it is inactive; then it is replaced.
      const active = this.#state.tasksOf(app.def.id).filter(countsAsInstance);
      this.#launch(app, app.def.instances - active.length, undefined);
    }
  }

  #finish(d: DeploymentRecord): void {
    d.status = "success";
    this.#state.deployments.delete(d.id);
    this.#forgetCapacity(d);
    for (const appId of d.affectedApps) {
      if (this.#state.deploymentsOf(appId).length > 0) continue;
      // Readiness results live only as long as the deployment.
      for (const t of this.#state.tasksOf(appId)) {
        t.needsReadiness = false;
        delete t.readiness;
      }
    }
    this.#bus.publish("deployment_success", { id: d.id, plan: planJson(d) });
    this.#bus.publish("group_change_success", {
      groupId: parentGroup(d.affectedApps[0] ?? "/"),
      version: d.version,
    });
    this.#scheduler.changed();
  }

  /** Launches up to `count` tasks, honouring the app's backoff. */
  #launch(app: AppRecord, count: number, d: DeploymentRecord | undefined): void {
    if (count <= 0) return;
    if (Date.now() < app.launchDelayUntil) return; // the scheduler wakes us when it ends
    for (let i = 0; i < count; i++) {
      const t = this.#scheduler.launch(app, d !== undefined);
      if (!t) {
        this.#retryLater();
        return;
      }
      d?.launched.add(t.id);
    }
  }

  #retryLater(): void {
    if (this.#retry !== undefined || this.#closed) return;
    this.#retry = setTimeout(() => {
      this.#retry = undefined;
      this.#scheduler.changed();
    }, 250);
  }

  /** Executes one action; true once it is complete. */
  #act(d: DeploymentRecord, a: DeploymentAction): boolean {
    switch (a.action) {
      case "StartApplication":
        return true;
      case "StopApplication":
        return this.#stop(a.app);
      case "ScaleApplication":
        return this.#scale(d, a.app);
      case "RestartApplication":
        return this.#restart(d, a.app);
    }
  }

  #stop(appId: string): boolean {
    const tasks = this.#state.tasksOf(appId);
    for (const t of tasks) this.#scheduler.kill(t, { reason: "app stopped" });
    if (tasks.length > 0) return false;
    this.#options.onAppStopped(appId);
    this.#bus.publish("app_terminated_event", { appId });
    return true;
  }

  #scale(d: DeploymentRecord, appId: string): boolean {
    const app = this.#state.apps.get(appId);
    if (!app) return true;
    const n = app.def.instances;
    const active = this.#state.tasksOf(appId).filter(countsAsInstance);
    if (active.length > n) {
      for (const t of victims(active, active.length - n, app.def)) {
        this.#scheduler.kill(t, { reason: "scale down" });
      }
    } else {
      this.#launch(app, n - active.length, d);
    }
    // Done once the instances are up and the killed ones are gone; an
    // inactive task may stay listed beside them until it is expunged.
    const now = this.#state.tasksOf(appId).filter((t) => !t.unreachable?.inactive);
    const live = now.filter(countsAsInstance);
    return live.length === n && now.length === n &&
      live.every((t) => d.launched.has(t.id) ? taskUp(t) : t.state === "TASK_RUNNING");
  }

  #restart(d: DeploymentRecord, appId: string): boolean {
    const app = this.#state.apps.get(appId);
    if (!app) return true;
    const def = app.def;
    const n = def.instances;
    const cfg = def.versionInfo.lastConfigChangeAt;
    const tasks = this.#state.tasksOf(appId);
    const old = tasks.filter((t) => t.configVersion !== cfg);
    const fresh = tasks.filter((t) => t.configVersion === cfg);
    const oldActive = old.filter((t) => !t.kill);
    const freshActive = fresh.filter((t) => !t.kill);

    const minHealthy = Math.ceil(n * def.upgradeStrategy.minimumHealthCapacity);
    const key = `${d.id}#${appId}`;
    let maxCapacity = this.#capacity.get(key);
    if (maxCapacity === undefined) {
      maxCapacity = Math.floor(n * (1 + def.upgradeStrategy.maximumOverCapacity));
      const healthyOld = oldActive.filter((t) => t.state === "TASK_RUNNING").length;
      // Without room for one extra instance the restart could never make progress.
      if (minHealthy === maxCapacity && maxCapacity <= healthyOld) maxCapacity += 1;
      this.#capacity.set(key, maxCapacity);
    }

    const freshUp = freshActive.filter(taskUp).length;
    const oldToKeep = Math.max(0, Math.min(oldActive.length, minHealthy - freshUp));
    for (const t of victims(oldActive, oldActive.length - oldToKeep, def)) {
      this.#scheduler.kill(t, { reason: "replaced by a new version" });
    }
    if (freshActive.length > n) {
      for (const t of victims(freshActive, freshActive.length - n, def)) {
        this.#scheduler.kill(t, { reason: "scale down" });
      }
    }
    const remainingOld = Math.min(oldActive.length, oldToKeep);
    const freshCount = Math.min(freshActive.length, n);
    const toStart = Math.min(n - freshCount, maxCapacity - remainingOld - freshCount);
    this.#launch(app, toStart, d);

    const nowTasks = this.#state.tasksOf(appId);
    const nowFresh = nowTasks.filter((t) => t.configVersion === cfg);
    return nowTasks.length === n && nowFresh.length === n && nowFresh.every(taskUp);
  }

  /** Stops retry timers. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#retry);
  }
}
