/**
 * JSON as Marathon writes it: app definitions (1.5+ canonical or pre-1.5
 * legacy shape), tasks, `AppInfo` embeds, and deployments.
 *
 * @module
 */

import type { AppDef } from "./app_def.ts";
import { isoTime } from "./ids.ts";
import type { JsonObject } from "./json_reader.ts";
import { renderLegacyNetworking, renderNetworking } from "./networking.ts";
import { actionJson } from "./events.ts";
import type { AppRecord, DeploymentRecord, SimState, TaskRecord } from "./state.ts";

/** Output options shared by every renderer. */
export interface RenderOptions {
  /** Pre-1.5 shape (`ports`, `ipAddress`, `docker.network`, `docker.portMappings`). */
  readonly legacy: boolean;
}

/** An app definition, without AppInfo extras. */
export function renderApp(def: AppDef, options: RenderOptions): JsonObject {
  if (options.legacy) {
    // Marathon 1.4 wrote every field, nulls and empty collections included.
    const net = renderLegacyNetworking(def);
    return {
      id: def.id,
      cmd: def.cmd,
      args: def.args,
      user: def.user,
      env: def.env,
      instances: def.instances,
      cpus: def.cpus,
      mem: def.mem,
      disk: def.disk,
      gpus: def.gpus,
      executor: def.executor,
      constraints: def.constraints,
      uris: [],
      fetch: def.fetch,
      storeUrls: [],
      backoffSeconds: def.backoffSeconds,
      backoffFactor: def.backoffFactor,
      maxLaunchDelaySeconds: def.maxLaunchDelaySeconds,
      container: net.container,
      healthChecks: def.healthChecks,
      readinessChecks: def.readinessChecks,
      dependencies: def.dependencies,
      upgradeStrategy: def.upgradeStrategy,
      labels: def.labels,
      ipAddress: net.ipAddress,
      version: def.version,
      residency: null,
      secrets: {},
      taskKillGracePeriodSeconds: def.taskKillGracePeriodSeconds,
      unreachableStrategy: def.unreachableStrategy,
      killSelection: def.killSelection,
      ports: net.ports,
      portDefinitions: net.portDefinitions,
      requirePorts: net.requirePorts,
      ...def.extras,
      versionInfo: def.versionInfo,
    };
  }
  // 1.5+ (RAML serializers) leave out unset fields and most empty collections.
  const net = renderNetworking(def);
  return {
    id: def.id,
    backoffFactor: def.backoffFactor,
    backoffSeconds: def.backoffSeconds,
    ...(def.cmd !== null ? { cmd: def.cmd } : {}),
    ...(def.args !== null ? { args: def.args } : {}),
    ...(def.constraints.length > 0 ? { constraints: def.constraints } : {}),
    ...(net.container !== undefined ? { container: net.container } : {}),
    cpus: def.cpus,
    ...(def.dependencies.length > 0 ? { dependencies: def.dependencies } : {}),
    disk: def.disk,
    ...(Object.keys(def.env).length > 0 ? { env: def.env } : {}),
    executor: def.executor,
    ...(def.fetch.length > 0 ? { fetch: def.fetch } : {}),
    ...(def.healthChecks.length > 0 ? { healthChecks: def.healthChecks } : {}),
    instances: def.instances,
    labels: def.labels,
    maxLaunchDelaySeconds: def.maxLaunchDelaySeconds,
    mem: def.mem,
    gpus: def.gpus,
    networks: net.networks,
    ...(net.portDefinitions !== undefined ? { portDefinitions: net.portDefinitions } : {}),
    ...(def.readinessChecks.length > 0 ? { readinessChecks: def.readinessChecks } : {}),
    requirePorts: net.requirePorts,
    ...(def.taskKillGracePeriodSeconds !== null
      ? { taskKillGracePeriodSeconds: def.taskKillGracePeriodSeconds }
      : {}),
    upgradeStrategy: def.upgradeStrategy,
    ...(def.user !== null ? { user: def.user } : {}),
    ...def.extras,
    version: def.version,
    versionInfo: def.versionInfo,
    killSelection: def.killSelection,
    unreachableStrategy: def.unreachableStrategy,
  };
}

/** Options of {@linkcode renderTask}. */
export interface TaskRenderOptions extends RenderOptions {
  /** `/v2/tasks` adds `servicePorts`; tasks embedded in apps do not. */
  readonly servicePorts: boolean;
}

/** A task as listed in `/v2/apps` and `/v2/tasks`. */
export function renderTask(task: TaskRecord, options: TaskRenderOptions): JsonObject {
  const out: JsonObject = {
    ipAddresses: task.net.ipAddresses.map((a) => ({ ...a })),
    stagedAt: isoTime(task.stagedAtMs),
    state: task.state,
    ports: [...task.net.ports],
    ...(task.startedAtMs !== undefined ? { startedAt: isoTime(task.startedAtMs) } : {}),
    version: task.version,
    id: task.id,
    appId: task.appId,
    slaveId: task.agent.id,
    host: task.net.host,
  };
  if (options.servicePorts) out.servicePorts = [...task.servicePorts];
  if (task.health !== undefined) {
    const results = task.health.filter((h) => h !== undefined).map((h) => ({
      ...h,
      instanceId: task.instanceId,
    }));
    if (results.length > 0) out.healthCheckResults = results;
  }
  if (!options.legacy) {
    // 1.9+ tasks carry their role; fault domains (region/zone) are those of the agent.
    out.localVolumes = [];
    out.region = "local";
    out.zone = `zone-${task.agent.index % 2 === 0 ? "a" : "b"}`;
    out.role = "*";
  }
  return out;
}

/** Whether every health check of the task currently passes (undefined: no checks). */
export function taskHealthy(app: AppDef, task: TaskRecord): boolean | undefined {
  const checks = app.healthChecks.filter((hc) => hc.protocol !== "COMMAND");
  if (checks.length === 0) return undefined;
  if (task.health === undefined) return false;
  return app.healthChecks.every((hc, i) => hc.protocol === "COMMAND" || task.health?.[i]?.alive);
}

/** Whether the task has a health result that is not alive. */
function taskUnhealthy(task: TaskRecord): boolean {
  return (task.health ?? []).some((h) => h !== undefined && !h.alive);
}

function counts(tasks: readonly TaskRecord[], app: AppDef) {
  return {
    staged: tasks.filter((t) => t.state === "TASK_STAGING" || t.state === "TASK_STARTING").length,
    running: tasks.filter((t) => t.state === "TASK_RUNNING").length,
    healthy: tasks.filter((t) => taskHealthy(app, t) === true).length,
    unhealthy: tasks.filter(taskUnhealthy).length,
  };
}

/** Embeds of `AppInfo`. */
export type Embed =
  | "tasks"
  | "counts"
  | "deployments"
  | "readiness"
  | "lastTaskFailure"
  | "taskStats";

const EMBEDS: readonly string[] = [
  "tasks",
  "counts",
  "deployments",
  "readiness",
  "lastTaskFailure",
  "taskStats",
  "failures",
];

/**
 * Resolves `embed` query values the way Marathon does: the `apps.`, `app.` or
 * `group.apps.` prefix is optional, unknown values are ignored, `tasks`
 * brings `deployments`, `failures` means `tasks` + `lastTaskFailure` +
 * `deployments`, and `always` is added whatever was asked.
 *
 * @param values Raw `embed` values.
 * @param always Embeds the endpoint always adds.
 */
export function resolveEmbeds(values: readonly string[], always: readonly Embed[]): Set<Embed> {
  const out = new Set<Embed>(always);
  for (const raw of values) {
    const v = raw.replace(/^(group\.apps\.|apps\.|app\.)/, "");
    if (!EMBEDS.includes(v)) continue;
    if (v === "failures") {
      out.add("tasks").add("lastTaskFailure").add("deployments");
      continue;
    }
    out.add(v as Embed);
    if (v === "tasks") out.add("deployments");
  }
  return out;
}

function taskStats(tasks: readonly TaskRecord[], app: AppRecord): JsonObject {
  const def = app.def;
  const groups: Record<string, TaskRecord[]> = {
    startedAfterLastScaling: tasks.filter((t) => t.version >= def.versionInfo.lastScalingAt),
    withLatestConfig: tasks.filter((t) => t.configVersion === def.versionInfo.lastConfigChangeAt),
    withOutdatedConfig: tasks.filter((t) => t.configVersion !== def.versionInfo.lastConfigChangeAt),
    totalSummary: [...tasks],
  };
  const out: JsonObject = {};
  const now = Date.now();
  for (const [name, list] of Object.entries(groups)) {
    if (list.length === 0) continue;
    const lifetimes = list.filter((t) => t.startedAtMs !== undefined).map((t) =>
      (now - t.startedAtMs!) / 1000
    ).sort((a, b) => a - b);
    const stats: JsonObject = { counts: counts(list, def) };
    if (lifetimes.length > 0) {
      const mid = Math.floor(lifetimes.length / 2);
      stats.lifeTime = {
        averageSeconds: lifetimes.reduce((a, b) => a + b, 0) / lifetimes.length,
        medianSeconds: lifetimes.length % 2 === 1
          ? lifetimes[mid]!
          : (lifetimes[mid - 1]! + lifetimes[mid]!) / 2,
      };
    }
    out[name] = { stats };
  }
  return out;
}

/** Readiness results of an app's running deployment (`[]` without one). */
export function readinessResults(state: SimState, appId: string): JsonObject[] {
  if (state.deploymentsOf(appId).length === 0) return [];
  return state.tasksOf(appId).flatMap((t) => t.readiness ? [{ ...t.readiness }] : []);
}

/**
 * An `AppInfo`: the definition plus the requested embeds, in Marathon's order.
 *
 * @param state Cluster state.
 * @param app The app.
 * @param embeds Resolved embeds.
 * @param options Output shape.
 */
export function renderAppInfo(
  state: SimState,
  app: AppRecord,
  embeds: ReadonlySet<Embed>,
  options: RenderOptions,
): JsonObject {
  const out = renderApp(app.def, options);
  const tasks = state.tasksOf(app.def.id);
  if (embeds.has("counts")) {
    const c = counts(tasks, app.def);
    out.tasksStaged = c.staged;
    out.tasksRunning = c.running;
    out.tasksHealthy = c.healthy;
    out.tasksUnhealthy = c.unhealthy;
  }
  if (embeds.has("deployments")) {
    out.deployments = state.deploymentsOf(app.def.id).map((d) => ({ id: d.id }));
  }
  if (embeds.has("readiness")) out.readinessCheckResults = readinessResults(state, app.def.id);
  if (embeds.has("tasks")) {
    out.tasks = tasks.map((t) => renderTask(t, { ...options, servicePorts: false }));
  }
  if (embeds.has("lastTaskFailure") && app.lastTaskFailure) {
    out.lastTaskFailure = app.lastTaskFailure;
  }
  if (embeds.has("taskStats")) out.taskStats = taskStats(tasks, app);
  return out;
}

/** One `/v2/deployments` entry. */
export function renderDeployment(state: SimState, d: DeploymentRecord): JsonObject {
  const current = d.steps[d.currentStep] ?? [];
  return {
    id: d.id,
    version: d.version,
    affectedApps: [...d.affectedApps],
    affectedPods: [],
    steps: d.steps.map((actions) => ({ actions: actions.map(actionJson) })),
    currentActions: current.map((a) => ({
      ...actionJson(a),
      readinessCheckResults: state.tasksOf(a.app).flatMap((t) =>
        t.readiness ? [{ ...t.readiness }] : []
      ),
    })),
    currentStep: d.currentStep + 1,
    totalSteps: d.steps.length,
  };
}
