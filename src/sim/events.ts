/**
 * The event bus, Marathon's event shapes (compare `samples/events/json/`),
 * and the SSE wire format of `/v2/events`: one CRLF-terminated
 * `event:`/`data:` frame per event, a bare `\r\n` keep-alive, no `id:`, no
 * replay, and slow consumers disconnected (Marathon 1.8+).
 *
 * @module
 */

import { isoTime } from "./ids.ts";
import type { HealthCheck } from "./app_def.ts";
import type { DeploymentAction, DeploymentRecord, TaskRecord, TaskState } from "./state.ts";
import type { JsonObject } from "./json_reader.ts";

/** A Marathon event: `eventType`, `timestamp` and its own fields. */
export interface MarathonEvent {
  /** The event type, also the SSE `event:` name. */
  readonly eventType: string;
  /** When it was published (ISO-8601, milliseconds). */
  readonly timestamp: string;
  /** The type's own fields. */
  readonly [field: string]: unknown;
}

/** Fan-out of events to subscribers, with a short history for tests. */
export class EventBus {
  readonly #subscribers = new Set<(event: MarathonEvent) => void>();
  readonly #history: MarathonEvent[] = [];
  readonly #historyLimit: number;

  /** @param historyLimit How many past events {@linkcode history} keeps. */
  constructor(historyLimit = 5000) {
    this.#historyLimit = historyLimit;
  }

  /** Adds a subscriber; returns the unsubscribe function. */
  subscribe(fn: (event: MarathonEvent) => void): () => void {
    this.#subscribers.add(fn);
    return () => this.#subscribers.delete(fn);
  }

  /** Publishes an event to every subscriber. */
  publish(eventType: string, fields: JsonObject): MarathonEvent {
    const event: MarathonEvent = { ...fields, eventType, timestamp: isoTime() };
    this.#history.push(event);
    if (this.#history.length > this.#historyLimit) this.#history.shift();
    for (const fn of [...this.#subscribers]) {
      try {
        fn(event);
      } catch {
        // One broken subscriber must not stop the others or the publisher.
      }
    }
    return event;
  }

  /** Events published so far (at most the history limit), oldest first. */
  history(): readonly MarathonEvent[] {
    return this.#history;
  }
}

/** One SSE frame, exactly as Marathon's Jetty servlet writes it. */
export function sseFrame(event: MarathonEvent): string {
  return `event: ${event.eventType}\r\ndata: ${JSON.stringify(event)}\r\n\r\n`;
}

/** The Marathon instance condition for a task state. */
export function conditionOf(state: TaskState): string {
  switch (state) {
    case "TASK_STAGING":
      return "Staging";
    case "TASK_STARTING":
      return "Starting";
    case "TASK_RUNNING":
      return "Running";
    case "TASK_KILLING":
      return "Killing";
    case "TASK_KILLED":
      return "Killed";
    case "TASK_FAILED":
      return "Failed";
    case "TASK_FINISHED":
      return "Finished";
    case "TASK_UNREACHABLE":
      return "Unreachable";
  }
}

/** Fields of `status_update_event`. */
export function statusUpdateFields(task: TaskRecord, message: string): JsonObject {
  return {
    slaveId: task.agent.id,
    taskId: task.id,
    taskStatus: task.state,
    message,
    appId: task.appId,
    host: task.net.host,
    ipAddresses: task.net.ipAddresses.map((a) => ({ ...a })),
    ports: [...task.net.ports],
    version: task.version,
  };
}

/** Fields of `instance_changed_event`. */
export function instanceChangedFields(task: TaskRecord): JsonObject {
  return {
    instanceId: task.instanceId,
    condition: task.state === "TASK_UNREACHABLE" && task.unreachable?.inactive
      ? "UnreachableInactive"
      : conditionOf(task.state),
    runSpecId: task.appId,
    agentId: task.agent.id,
    host: task.net.host,
    runSpecVersion: task.version,
  };
}

/** Fields of `health_status_changed_event` (1.4+: keyed by instance). */
export function healthStatusChangedFields(task: TaskRecord, alive: boolean): JsonObject {
  return { appId: task.appId, instanceId: task.instanceId, version: task.version, alive };
}

/** Fields of `instance_health_changed_event`. */
export function instanceHealthChangedFields(task: TaskRecord, healthy: boolean | null): JsonObject {
  return {
    instanceId: task.instanceId,
    runSpecId: task.appId,
    runSpecVersion: task.version,
    healthy,
  };
}

/** The health check as events carry it. */
export function healthCheckJson(hc: HealthCheck): JsonObject {
  return { ...hc };
}

/**
 * Fields of `failed_health_check_event`: 1.4 keyed it `instanceId`; from 1.5
 * the key is `taskId` again but holds the instance id.
 */
export function failedHealthCheckFields(
  task: TaskRecord,
  hc: HealthCheck,
  legacy: boolean,
): JsonObject {
  return {
    appId: task.appId,
    ...(legacy ? { instanceId: task.instanceId } : { taskId: task.instanceId }),
    healthCheck: healthCheckJson(hc),
  };
}

/** Fields of `unhealthy_instance_kill_event`. */
export function unhealthyKillFields(task: TaskRecord, reason: string): JsonObject {
  return {
    appId: task.appId,
    taskId: task.id,
    instanceId: task.instanceId,
    version: task.version,
    reason,
    host: task.net.host,
    slaveId: task.agent.id,
  };
}

/** A deployment plan in the light format (1.7+ default). */
export function planJson(d: DeploymentRecord): JsonObject {
  return {
    id: d.id,
    steps: d.steps.map((actions) => ({ actions: actions.map(actionJson) })),
    version: d.version,
  };
}

/** One step action. */
export function actionJson(a: DeploymentAction): JsonObject {
  return { action: a.action, app: a.app };
}

/** Fields of `deployment_info` / `deployment_step_success` / `deployment_step_failure`. */
export function deploymentStepFields(d: DeploymentRecord): JsonObject {
  return {
    plan: planJson(d),
    currentStep: { actions: (d.steps[d.currentStep] ?? []).map(actionJson) },
  };
}

/** Options of {@linkcode openEventStream}. */
export interface EventStreamOptions {
  /** Event types to send; empty = all. */
  readonly eventTypes: ReadonlySet<string>;
  /** Keep-alive period. */
  readonly keepAliveMs: number;
  /** Queued events after which a slow client is disconnected. */
  readonly maxOutstanding: number;
  /** While true, nothing is written: no events, no keep-alives. */
  readonly stalled: () => boolean;
  /**
   * Fault: close the stream after `limit` events counted from when the fault
   * was set (`generation` changes each time it is set), or null.
   */
  readonly closeAfter: () => { readonly limit: number; readonly generation: number } | null;
  /** Called once when the stream ends, whoever ended it. */
  readonly onClose: () => void;
}

/** One open SSE connection. */
export interface EventStream {
  /** The response body. */
  readonly body: ReadableStream<Uint8Array>;
  /** Ends the stream (the client sees EOF). */
  close(): void;
}

const encoder = new TextEncoder();

/**
 * Subscribes a new SSE client to the bus. The caller publishes
 * `event_stream_attached` after this, so the new client receives it too.
 *
 * @param bus The event bus.
 * @param options Filter, timing and fault hooks.
 */
export function openEventStream(bus: EventBus, options: EventStreamOptions): EventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let sent = 0;
  let generation = -1;
  let timer: ReturnType<typeof setInterval> | undefined;
  let unsubscribe = (): void => {};

  const finish = () => {
    if (closed) return;
    closed = true;
    unsubscribe();
    clearInterval(timer);
    options.onClose();
  };
  const close = () => {
    if (closed) return;
    finish();
    try {
      controller.close();
    } catch {
      // Already cancelled by the client.
    }
  };
  const write = (text: string) => {
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      // The body errored under us (client gone): treat as closed.
      finish();
      return;
    }
    // Marathon 1.8+ disconnects consumers that fall behind instead of dropping events.
    if ((controller.desiredSize ?? 0) < -options.maxOutstanding) close();
  };

  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
      unsubscribe = bus.subscribe((event) => {
        if (closed || options.stalled()) return;
        if (options.eventTypes.size > 0 && !options.eventTypes.has(event.eventType)) return;
        write(sseFrame(event));
        const fault = options.closeAfter();
        if (fault === null) return;
        if (fault.generation !== generation) {
          generation = fault.generation;
          sent = 0;
        }
        if (++sent >= fault.limit) close();
      });
      timer = setInterval(() => {
        if (!closed && !options.stalled()) write("\r\n");
      }, options.keepAliveMs);
    },
    cancel() {
      finish();
    },
  });
  return { body, close };
}
