/**
 * One simulated Marathon "brain": the operations behind the REST API
 * (create, update, scale, restart, delete, kill), deployment locking,
 * versions, service ports and `api_post_event`, over the shared state,
 * scheduler, prober and deployment manager. The HTTP layer and the
 * programmatic API both call this, so they behave identically.
 *
 * @module
 */

import { absoluteId, type AppDef, isConfigChange, mergeUpdate, normalizeApp } from "./app_def.ts";
import { Allocator } from "./allocator.ts";
import { DeploymentManager } from "./deployments.ts";
import {
  appExists,
  appLocked,
  appNotFound,
  MarathonError,
  objectNotValid,
  taskNotFound,
} from "./errors.ts";
import { EventBus } from "./events.ts";
import { VersionClock } from "./ids.ts";
import { isObject, type JsonObject } from "./json_reader.ts";
import { networkMode, servicePorts } from "./networking.ts";
import { Prober } from "./probes.ts";
import { renderApp, renderTask } from "./render.ts";
import { Scheduler } from "./scheduler.ts";
import {
  type AppRecord,
  type DeploymentAction,
  type DeploymentRecord,
  SimState,
  type TaskRecord,
} from "./state.ts";

/** What a deployment-starting call returns (`Marathon-Deployment-Id` + body). */
export interface DeploymentRef {
  /** Deployment id. */
  readonly deploymentId: string;
  /** New root version. */
  readonly version: string;
}

/** Who made a change, for `api_post_event`. */
export interface Caller {
  /** Client address. */
  readonly clientIp: string;
  /** Request URI as sent. */
  readonly uri: string;
}

/** Settings of {@linkcode Marathon}. */
export interface MarathonOptions {
  readonly legacy: boolean;
  readonly taskKilling: () => boolean;
  readonly timeScale: number;
  readonly stagingMs: number;
  readonly defaultKillGraceMs: number;
  readonly killingNoticeMs: number;
  readonly agents: number;
  readonly hostPortRange: readonly [number, number];
  readonly servicePortRange: readonly [number, number];
  readonly defaultNetworkName: string;
  readonly frameworkId: string;
  readonly log: (line: string) => void;
  readonly taskApp?: string | URL;
}

/** The simulated Marathon core shared by all members. */
export class Marathon {
  /** Cluster state. */
  readonly state: SimState = new SimState();
  /** Event bus. */
  readonly bus: EventBus = new EventBus();
  /** Address allocator. */
  readonly alloc: Allocator;
  /** Task lifecycle. */
  readonly scheduler: Scheduler;
  /** Health and readiness probes. */
  readonly prober: Prober;
  /** Deployments. */
  readonly deployments: DeploymentManager;
  /** Settings. */
  readonly options: MarathonOptions;
  readonly #clock = new VersionClock();
  #closed = false;

  /** @param options Settings. */
  constructor(options: MarathonOptions) {
    this.options = options;
    this.alloc = new Allocator({
      agents: options.agents,
      hostPortRange: options.hostPortRange,
      servicePortRange: options.servicePortRange,
      agentIdPrefix: options.frameworkId.replace(/-\d+$/, ""),
    });
    this.scheduler = new Scheduler(this.state, this.bus, this.alloc, options);
    this.prober = new Prober(this.state, this.bus, this.scheduler, options);
    this.deployments = new DeploymentManager(this.state, this.bus, this.scheduler, {
      log: options.log,
      onAppStopped: () => {},
    });
    this.scheduler.onChange(() => {
      this.deployments.tick();
      this.prober.sync();
    });
  }

  /** Renders an app definition in the configured shape. */
  renderApp(def: AppDef): JsonObject {
    return renderApp(def, { legacy: this.options.legacy });
  }

  /** An app by id (absolute or not). */
  app(id: string): AppRecord | undefined {
    return this.state.apps.get(absoluteId(id));
  }

  #lock(appId: string, force: boolean): void {
    const held = this.state.deploymentsOf(appId);
    if (held.length === 0) return;
    if (!force) throw appLocked(held.map((d) => d.id));
    for (const d of held) this.deployments.cancel(d.id, "Canceled by a forced deployment");
  }

  /** Assigns service ports of 0 (keeping earlier assignments) and checks fixed ones. */
  #assignServicePorts(def: AppDef, previous: AppDef | undefined): void {
    const taken = new Map<number, string>();
    for (const a of this.state.apps.values()) {
      if (a.def.id === def.id) continue;
      for (const p of servicePorts(a.def)) taken.set(p, a.def.id);
    }
    const entries = networkMode(def) === "host"
      ? def.portDefinitions.map((p) => ({
        get: () => p.port,
        set: (v: number) => (p.port = v),
        path: "portDefinitions",
      }))
      : (def.container?.portMappings ?? []).map((m) => ({
        get: () => m.servicePort,
        set: (v: number) => (m.servicePort = v),
        path: "container/portMappings",
      }));
    const before = previous ? servicePorts(previous) : [];
    const details: { path: string; errors: string[] }[] = [];
    entries.forEach((e, i) => {
      const p = e.get();
      if (p > 0 && taken.has(p)) {
        details.push({
          path: `/${e.path}(${i})`,
          errors: [
            `Requested service port ${p} conflicts with a service port in app ${taken.get(p)}`,
          ],
        });
      }
    });
    if (details.length > 0) throw objectNotValid(details);
    entries.forEach((e, i) => {
      const kept = before[i];
      if (e.get() === 0) {
        e.set(kept !== undefined && kept > 0 ? kept : this.alloc.servicePort());
      } else this.alloc.servicePort(e.get());
    });
    const now = new Set(servicePorts(def));
    this.alloc.releaseServicePorts(before.filter((p) => !now.has(p)));
  }

  #newDeployment(actions: DeploymentAction[][], apps: string[], version: string): DeploymentRecord {
    const d: DeploymentRecord = {
      id: crypto.randomUUID(),
      version,
      affectedApps: apps,
      steps: actions,
      currentStep: 0,
      status: "running",
      launched: new Set(),
    };
    this.deployments.start(d);
    return d;
  }

  #apiPost(def: AppDef, caller: Caller): void {
    this.bus.publish("api_post_event", {
      clientIp: caller.clientIp,
      uri: caller.uri,
      appDefinition: this.renderApp(def),
    });
  }

  /**
   * `POST /v2/apps`.
   *
   * @returns The new app and its deployment.
   * @throws {MarathonError} 400/422 invalid, 409 exists.
   */
  createApp(raw: unknown, caller: Caller): { app: AppRecord; deployment: DeploymentRef } {
    this.#assertOpen();
    const version = this.#clock.next();
    const def = normalizeApp(raw, {
      defaultNetworkName: this.options.defaultNetworkName,
      version,
      versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
    });
    if (this.state.apps.has(def.id)) throw appExists(def.id);
    this.#assignServicePorts(def, undefined);
    const app: AppRecord = { def, failures: 0, launchDelayUntil: 0 };
    this.state.apps.set(def.id, app);
    this.#apiPost(def, caller);
    const d = this.#newDeployment(
      [[{ action: "StartApplication", app: def.id }], [{
        action: "ScaleApplication",
        app: def.id,
      }]],
      [def.id],
      version,
    );
    return { app, deployment: { deploymentId: d.id, version } };
  }

  /**
   * `PUT`/`PATCH /v2/apps/{id}`: partial update by default; creates the app
   * if it does not exist.
   *
   * @returns The deployment, and whether the app was created.
   */
  updateApp(
    id: string,
    raw: unknown,
    options: { force?: boolean; partial?: boolean; caller: Caller },
  ): { deployment: DeploymentRef; created: boolean } {
    this.#assertOpen();
    const appId = absoluteId(id);
    const existing = this.state.apps.get(appId);
    if (!existing) {
      const body = isObject(raw) ? { ...raw, id: appId } : raw;
      const { deployment } = this.createApp(body, options.caller);
      return { deployment, created: true };
    }
    if (!isObject(raw)) {
      throw new MarathonError(400, {
        message: "Invalid JSON",
        details: [{ path: "/", errors: ["error.expected.jsobject"] }],
      });
    }
    const input = options.partial === false ? raw : mergeUpdate(existing.def, raw);
    const version = this.#clock.next();
    const candidate = normalizeApp(input, {
      pathId: appId,
      defaultNetworkName: this.options.defaultNetworkName,
      version,
      versionInfo: existing.def.versionInfo,
    });
    this.#lock(appId, options.force ?? false);
    this.#assignServicePorts(candidate, existing.def);
    const configChange = isConfigChange(existing.def, candidate);
    const def: AppDef = {
      ...candidate,
      versionInfo: configChange ? { lastScalingAt: version, lastConfigChangeAt: version } : {
        lastScalingAt: version,
        lastConfigChangeAt: existing.def.versionInfo.lastConfigChangeAt,
      },
    };
    existing.def = def;
    if (configChange) {
      existing.failures = 0;
      existing.launchDelayUntil = 0;
    }
    this.#apiPost(def, options.caller);
    const d = this.#newDeployment(
      [[{ action: configChange ? "RestartApplication" : "ScaleApplication", app: appId }]],
      [appId],
      version,
    );
    return { deployment: { deploymentId: d.id, version }, created: false };
  }

  /** Scales an app (a `PUT {"instances": n}`). */
  scale(id: string, instances: number, options: { force?: boolean; caller: Caller }) {
    return this.updateApp(id, { instances }, options).deployment;
  }

  /** `POST /v2/apps/{id}/restart`: a new version with the same definition. */
  restartApp(id: string, options: { force?: boolean } = {}): DeploymentRef {
    this.#assertOpen();
    const app = this.#mustApp(id);
    this.#lock(app.def.id, options.force ?? false);
    const version = this.#clock.next();
    app.def = {
      ...app.def,
      version,
      versionInfo: { lastScalingAt: version, lastConfigChangeAt: version },
    };
    app.failures = 0;
    app.launchDelayUntil = 0;
    const d = this.#newDeployment(
      [[{ action: "RestartApplication", app: app.def.id }]],
      [app.def.id],
      version,
    );
    return { deploymentId: d.id, version };
  }

  /** `DELETE /v2/apps/{id}`: the app disappears at once; its tasks are killed by the deployment. */
  deleteApp(id: string, options: { force?: boolean } = {}): DeploymentRef {
    this.#assertOpen();
    const app = this.#mustApp(id);
    this.#lock(app.def.id, options.force ?? false);
    const version = this.#clock.next();
    this.state.apps.delete(app.def.id);
    this.alloc.releaseServicePorts(servicePorts(app.def));
    const d = this.#newDeployment(
      [[{ action: "StopApplication", app: app.def.id }]],
      [app.def.id],
      version,
    );
    return { deploymentId: d.id, version };
  }

  #mustApp(id: string): AppRecord {
    const app = this.app(id);
    if (!app) throw appNotFound(absoluteId(id));
    return app;
  }

  /** A task of an app, or 404. */
  task(appId: string, taskId: string): TaskRecord {
    const app = this.#mustApp(appId);
    const task = this.state.tasks.get(taskId) ??
      [...this.state.tasks.values()].find((t) => t.instanceId === taskId);
    if (!task || task.appId !== app.def.id) throw taskNotFound(taskId);
    return task;
  }

  /**
   * Kills tasks (`DELETE /v2/apps/{id}/tasks/{taskId}`, `DELETE /v2/apps/{id}/tasks`,
   * `POST /v2/tasks/delete`).
   *
   * - `scale`: the app's `instances` drops by the number killed, through a deployment.
   * - otherwise: the tasks are killed and replaced; the killed tasks are returned.
   * - `hard`: straight to `TASK_KILLED` (SIGKILL, no `TASK_KILLING`), as on agent maintenance.
   */
  killTasks(
    tasks: readonly TaskRecord[],
    options: { scale?: boolean; force?: boolean; hard?: boolean },
  ): { tasks: JsonObject[] } | { deployment: DeploymentRef } {
    this.#assertOpen();
    const rendered = tasks.map((t) =>
      renderTask(t, { legacy: this.options.legacy, servicePorts: false })
    );
    if (!options.scale) {
      for (const t of tasks) {
        this.scheduler.kill(t, { hard: options.hard ?? false, reason: "killed by request" });
      }
      return { tasks: rendered };
    }
    const byApp = new Map<string, TaskRecord[]>();
    for (const t of tasks) byApp.set(t.appId, [...(byApp.get(t.appId) ?? []), t]);
    for (const appId of byApp.keys()) this.#lock(appId, options.force ?? false);
    const version = this.#clock.next();
    for (const [appId, list] of byApp) {
      const app = this.state.apps.get(appId);
      if (!app) continue;
      for (const t of list) {
        this.scheduler.kill(t, { hard: options.hard ?? false, reason: "killed and scaled" });
      }
      app.def = {
        ...app.def,
        instances: Math.max(0, app.def.instances - list.length),
        version,
        versionInfo: { ...app.def.versionInfo, lastScalingAt: version },
      };
    }
    const apps = [...byApp.keys()];
    const d = this.#newDeployment(
      [apps.map((app) => ({ action: "ScaleApplication", app }))],
      apps,
      version,
    );
    return { deployment: { deploymentId: d.id, version } };
  }

  /**
   * `DELETE /v2/deployments/{id}`: with `force`, just forgets it; otherwise
   * rolls back. The simulator only implements the forced form and answers the
   * rollback with a new deployment that keeps the current definition.
   */
  cancelDeployment(id: string, force: boolean): DeploymentRef | undefined {
    const d = this.state.deployments.get(id);
    if (!d) {
      throw new MarathonError(404, { message: `DeploymentPlan ${id} does not exist` });
    }
    this.deployments.cancel(id, "Deployment canceled");
    if (force) return undefined;
    const version = this.#clock.next();
    const apps = d.affectedApps.filter((a) => this.state.apps.has(a));
    const nd = this.#newDeployment(
      [apps.map((app) => ({ action: "ScaleApplication", app }))],
      apps,
      version,
    );
    return { deploymentId: nd.id, version };
  }

  #assertOpen(): void {
    if (this.#closed) throw new MarathonError(503, { message: "Simulator is shutting down" });
  }

  /** Stops probes, deployments and every task process. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.deployments.close();
    await this.prober.close();
    await this.scheduler.close();
  }
}
