/**
 * The cluster's model: apps, tasks and deployments, shared by every member
 * (one state, N HTTP listeners). Plain records; behaviour lives in
 * `scheduler.ts` and `deployments.ts`.
 *
 * @module
 */

import type { AppDef } from "./app_def.ts";
import type { JsonObject } from "./json_reader.ts";
import type { TaskNetwork } from "./networking.ts";
import type { TaskProcess } from "./tasks.ts";

/** Mesos task states the simulator produces. */
export type TaskState =
  | "TASK_STAGING"
  | "TASK_STARTING"
  | "TASK_RUNNING"
  | "TASK_KILLING"
  | "TASK_KILLED"
  | "TASK_FAILED"
  | "TASK_FINISHED"
  | "TASK_UNREACHABLE";

/** States after which a task is gone. */
export const TERMINAL_STATES: ReadonlySet<TaskState> = new Set([
  "TASK_KILLED",
  "TASK_FAILED",
  "TASK_FINISHED",
]);

/** A simulated Mesos agent. */
export interface Agent {
  /** Position, from 0. */
  readonly index: number;
  /** Mesos agent id (`slaveId`). */
  readonly id: string;
  /** Loopback address (127.0.0.2 upward); also its hostname. */
  readonly ip: string;
}

/** One Marathon health check result (`healthCheckResults[]`). */
export interface HealthResult {
  alive: boolean;
  consecutiveFailures: number;
  firstSuccess: string | null;
  lastSuccess: string | null;
  lastFailure: string | null;
  lastFailureCause: string | null;
}

/** One readiness check result (`readinessCheckResults[]`). */
export interface ReadinessResult {
  readonly name: string;
  readonly taskId: string;
  readonly ready: boolean;
  readonly lastResponse?: {
    readonly status: number;
    readonly contentType: string;
    readonly body: string;
  };
}

/** A task (one per instance in this simulator). */
export interface TaskRecord {
  readonly id: string;
  readonly instanceId: string;
  readonly appId: string;
  readonly agent: Agent;
  state: TaskState;
  readonly stagedAtMs: number;
  startedAtMs?: number;
  /** App version the task was launched with. */
  readonly version: string;
  /** `versionInfo.lastConfigChangeAt` at launch: tells old tasks from new in a restart. */
  readonly configVersion: string;
  readonly net: TaskNetwork;
  readonly servicePorts: readonly number[];
  /** Per health check; absent until the first result and after a leader change. */
  health?: (HealthResult | undefined)[];
  /** Latest readiness result while a deployment checks this task. */
  readiness?: ReadinessResult;
  /** Launched by a deployment of an app with readiness checks, not yet confirmed ready. */
  needsReadiness: boolean;
  /** The OS process, once spawned. */
  proc?: TaskProcess;
  /** Set once Marathon decided to kill it; `hard` skips TASK_KILLING and SIGTERM. */
  kill?: { readonly hard: boolean; readonly reason: string };
  /**
   * Set while its agent is partitioned (`TASK_UNREACHABLE`). `inactive` once
   * `inactiveAfterSeconds` passed: it no longer counts as an instance, so a
   * replacement is launched (Marathon's `UnreachableInactive`).
   */
  unreachable?: { inactive: boolean };
  /** Pending timers (staging, kill escalation), cleared when the task ends. */
  readonly timers: Set<ReturnType<typeof setTimeout>>;
}

/** An app and its bookkeeping. */
export interface AppRecord {
  def: AppDef;
  /** `lastTaskFailure`. */
  lastTaskFailure?: JsonObject;
  /** Failures since the last configuration change (launch backoff). */
  failures: number;
  /** No launches before this time (ms since epoch). */
  launchDelayUntil: number;
}

/** A deployment step action. */
export interface DeploymentAction {
  readonly action:
    | "StartApplication"
    | "ScaleApplication"
    | "RestartApplication"
    | "StopApplication";
  readonly app: string;
}

/** A deployment (one plan). */
export interface DeploymentRecord {
  readonly id: string;
  /** Target root version. */
  readonly version: string;
  readonly affectedApps: readonly string[];
  readonly steps: readonly (readonly DeploymentAction[])[];
  /** Index of the running step. */
  currentStep: number;
  status: "running" | "success" | "failed";
  /** Tasks this deployment launched. */
  readonly launched: Set<string>;
}

/** All mutable cluster state. */
export class SimState {
  /** Apps by id. */
  readonly apps: Map<string, AppRecord> = new Map();
  /** Live tasks by id (terminal tasks are removed). */
  readonly tasks: Map<string, TaskRecord> = new Map();
  /** Running deployments by id. */
  readonly deployments: Map<string, DeploymentRecord> = new Map();

  /** Live tasks of one app, oldest first. */
  tasksOf(appId: string): TaskRecord[] {
    return [...this.tasks.values()].filter((t) => t.appId === appId);
  }

  /** Running deployments affecting an app. */
  deploymentsOf(appId: string): DeploymentRecord[] {
    return [...this.deployments.values()].filter((d) => d.affectedApps.includes(appId));
  }
}
