/**
 * Marathon's event stream (`GET /v2/events`) as the provider reads it:
 * which events matter, the SSE reader with idle detection, and the
 * "a task left `TASK_RUNNING`" test of the fast path.
 *
 * Marathon writes one CRLF-terminated frame per event
 * (`event: <type>\r\ndata: <one-line JSON>\r\n\r\n`) and a bare `\r\n`
 * keep-alive every 10 s; there is no `id:` and no replay (API.md §6). The
 * parser is eventsource-parser, which handles CR, LF and CRLF line ends split
 * anywhere across chunks and never turns a keep-alive into an event
 * (Traefik PR 1810's bug). Any byte, keep-alives included, proves the stream
 * alive; none for `idleTimeoutMs` means it is dead (NOTES.md §1.4: a TCP
 * stream can look alive after a Marathon restart).
 *
 * @module
 */
import { createParser } from "eventsource-parser";

/**
 * Events after which the provider re-lists apps: Traefik's set
 * (`status_update_event`, `health_status_changed_event`,
 * `failed_health_check_event`, `app_terminated_event`,
 * `add_health_check_event` and the five `deployment_*`), plus label and
 * port edits (`api_post_event`), 1.4+ instance events
 * (`instance_changed_event`, `instance_health_changed_event`) and
 * `remove_health_check_event`.
 */
export const RELEVANT_EVENTS: readonly string[] = [
  "status_update_event",
  "health_status_changed_event",
  "failed_health_check_event",
  "app_terminated_event",
  "add_health_check_event",
  "remove_health_check_event",
  "deployment_info",
  "deployment_success",
  "deployment_failed",
  "deployment_step_success",
  "deployment_step_failure",
  "api_post_event",
  "instance_changed_event",
  "instance_health_changed_event",
];

const RELEVANT = new Set(RELEVANT_EVENTS);

/** Whether an event type makes the provider re-list apps. */
export function isRelevantEvent(type: string): boolean {
  return RELEVANT.has(type);
}

/** A task that left `TASK_RUNNING`, from a `status_update_event`. */
export interface TaskLeftRunning {
  readonly taskId: string;
  /** The app id, when the event has one. */
  readonly appId: string | undefined;
  /** The new Mesos state (`TASK_KILLING`, `TASK_KILLED`, `TASK_LOST`, ...). */
  readonly state: string;
}

/**
 * Reads a `status_update_event` payload: a task in any state other than
 * `TASK_RUNNING` (`TASK_KILLING`, `TASK_KILLED`, `TASK_FAILED`, `TASK_LOST`,
 * `TASK_GONE`, `TASK_UNREACHABLE`, `TASK_ERROR`, `TASK_DROPPED`,
 * `TASK_FINISHED`, ...) must not receive traffic.
 *
 * @returns The task and its state, or `undefined` for `TASK_RUNNING` and
 *   malformed payloads.
 */
export function taskLeftRunning(data: unknown): TaskLeftRunning | undefined {
  if (typeof data !== "object" || data === null) return undefined;
  const { taskId, taskStatus, appId } = data as Record<string, unknown>;
  if (typeof taskId !== "string" || taskId === "") return undefined;
  if (typeof taskStatus !== "string" || taskStatus === "" || taskStatus === "TASK_RUNNING") {
    return undefined;
  }
  return { taskId, appId: typeof appId === "string" ? appId : undefined, state: taskStatus };
}

/** How a stream ended without an error. */
export type StreamEnd =
  /** Marathon closed it (leader change, slow consumer, restart). */
  | "eof"
  /** Nothing arrived for `idleTimeoutMs`. */
  | "idle"
  /** `signal` aborted. */
  | "aborted";

/** Options of {@linkcode readEventStream}. */
export interface ReadEventStreamOptions {
  /** No byte for this long ends the stream as `idle` (ms). */
  readonly idleTimeoutMs: number;
  /** Ends the stream as `aborted`. */
  readonly signal?: AbortSignal;
  /**
   * Called for each event: its type (the `event:` field, else the JSON's
   * `eventType`) and the parsed `data` (`undefined` if it is not JSON).
   */
  readonly onEvent: (type: string, data: unknown) => void;
  /** Largest event accepted (characters); beyond it the stream fails. @default {64 MiB} */
  readonly maxEventSize?: number;
}

/**
 * Reads an SSE body until it ends, goes silent or `signal` aborts. The body
 * is cancelled in every case.
 *
 * @returns Why it ended.
 * @throws {Error} On a read error (connection reset) or an event larger than `maxEventSize`.
 */
export async function readEventStream(
  body: ReadableStream<Uint8Array>,
  options: ReadEventStreamOptions,
): Promise<StreamEnd> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let parseError: Error | undefined;
  const parser = createParser({
    maxBufferSize: options.maxEventSize ?? 64 * 1024 * 1024,
    onEvent(message) {
      let data: unknown;
      try {
        data = JSON.parse(message.data);
      } catch {
        data = undefined;
      }
      const fromData = typeof data === "object" && data !== null
        ? (data as Record<string, unknown>).eventType
        : undefined;
      const type = message.event ?? (typeof fromData === "string" ? fromData : "");
      options.onEvent(type, data);
    },
    onError(error) {
      if (error.type === "max-buffer-size-exceeded") parseError = error;
    },
  });
  let end: StreamEnd | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = (why: StreamEnd) => {
    end ??= why;
    reader.cancel().catch(() => {});
  };
  const arm = () => {
    clearTimeout(timer);
    timer = setTimeout(() => stop("idle"), options.idleTimeoutMs);
  };
  const onAbort = () => stop("aborted");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) stop("aborted");
  arm();
  try {
    for (;;) {
      let chunk: ReadableStreamReadResult<Uint8Array>;
      try {
        chunk = await reader.read();
      } catch (error) {
        if (end) return end;
        throw error;
      }
      if (end) return end;
      if (chunk.done) return "eof";
      arm();
      parser.feed(decoder.decode(chunk.value, { stream: true }));
      if (parseError) throw parseError;
      if (end) return end;
    }
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    if (!end) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}
