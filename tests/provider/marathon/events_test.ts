import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  isRelevantEvent,
  readEventStream,
  RELEVANT_EVENTS,
  taskLeftRunning,
} from "../../../src/provider/marathon/events.ts";

const encoder = new TextEncoder();

/** A body the test writes to chunk by chunk. */
function pushStream() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(c) {
      controller = c;
    },
    cancel() {
      cancelled = true;
    },
  });
  return {
    body,
    push: (text: string) => controller.enqueue(encoder.encode(text)),
    end: () => controller.close(),
    fail: (error: Error) => controller.error(error),
    get cancelled() {
      return cancelled;
    },
  };
}

function frame(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\r\ndata: ${JSON.stringify({ eventType: type, ...data })}\r\n\r\n`;
}

Deno.test("readEventStream() parses Marathon's CRLF frames split anywhere, and ignores keep-alives", async () => {
  const text = "\r\n" +
    frame("status_update_event", { taskId: "a.1", taskStatus: "TASK_KILLING" }) +
    "\r\n\r\n" + frame("api_post_event", { uri: "/v2/apps/a" }) + "\r\n" +
    frame("deployment_success", { id: "d1" });
  // Every split point, including between \r and \n.
  for (let cut = 1; cut < text.length; cut++) {
    const s = pushStream();
    const events: [string, unknown][] = [];
    const reading = readEventStream(s.body, {
      idleTimeoutMs: 60_000,
      onEvent: (type, data) => events.push([type, data]),
    });
    s.push(text.slice(0, cut));
    s.push(text.slice(cut));
    s.end();
    assert.equal(await reading, "eof");
    assert.deepEqual(events.map(([t]) => t), [
      "status_update_event",
      "api_post_event",
      "deployment_success",
    ], `cut at ${cut}`);
    assert.deepEqual(events[0]![1], {
      eventType: "status_update_event",
      taskId: "a.1",
      taskStatus: "TASK_KILLING",
    });
  }
});

Deno.test("readEventStream() takes the type from JSON without an event: line; non-JSON data is undefined", async () => {
  const s = pushStream();
  const events: [string, unknown][] = [];
  const reading = readEventStream(s.body, {
    idleTimeoutMs: 60_000,
    onEvent: (type, data) => events.push([type, data]),
  });
  s.push('data: {"eventType":"app_terminated_event","appId":"/a"}\n\n');
  s.push("event: status_update_event\ndata: not json\n\n");
  s.push("\r\n\r\n\r\n");
  s.end();
  assert.equal(await reading, "eof");
  assert.deepEqual(events, [
    ["app_terminated_event", { eventType: "app_terminated_event", appId: "/a" }],
    ["status_update_event", undefined],
  ]);
});

Deno.test("readEventStream() declares a stream silent for idleTimeoutMs dead; keep-alives keep it open", async () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const s = pushStream();
    let end: string | undefined;
    readEventStream(s.body, { idleTimeoutMs: 30_000, onEvent: () => {} }).then((e) => (end = e));
    // Marathon's bare CRLF every 10 s, for a minute.
    for (let i = 0; i < 6; i++) {
      await clock.tickAsync(10_000);
      s.push("\r\n");
    }
    await clock.tickAsync(29_999);
    assert.equal(end, undefined, "alive: a byte arrived less than 30 s ago");
    await clock.tickAsync(1);
    assert.equal(end, "idle");
    assert.ok(s.cancelled, "the body is cancelled");
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("readEventStream() ends as aborted on its signal, and throws on a reset or a huge event", async () => {
  const abort = new AbortController();
  const s1 = pushStream();
  const reading = readEventStream(s1.body, {
    idleTimeoutMs: 60_000,
    signal: abort.signal,
    onEvent: () => {},
  });
  abort.abort();
  assert.equal(await reading, "aborted");
  assert.ok(s1.cancelled);

  const s2 = pushStream();
  const failing = readEventStream(s2.body, { idleTimeoutMs: 60_000, onEvent: () => {} });
  s2.fail(new Error("connection reset"));
  await assert.rejects(failing, /connection reset/);

  const s3 = pushStream();
  const huge = readEventStream(s3.body, {
    idleTimeoutMs: 60_000,
    maxEventSize: 1_000,
    onEvent: () => {},
  });
  s3.push(`event: deployment_info\r\ndata: {"plan":"${"x".repeat(2_000)}"}`);
  await assert.rejects(huge, /buffer/i);
  assert.ok(s3.cancelled);
});

Deno.test("relevant events: Traefik's set plus api_post_event and instance_changed_event", () => {
  for (
    const type of [
      "status_update_event",
      "health_status_changed_event",
      "failed_health_check_event",
      "app_terminated_event",
      "add_health_check_event",
      "deployment_info",
      "deployment_success",
      "deployment_failed",
      "deployment_step_success",
      "deployment_step_failure",
      "api_post_event",
      "instance_changed_event",
    ]
  ) {
    assert.ok(isRelevantEvent(type), type);
    assert.ok(RELEVANT_EVENTS.includes(type));
  }
  for (
    const type of ["event_stream_attached", "event_stream_detached", "framework_message_event", ""]
  ) {
    assert.equal(isRelevantEvent(type), false, type);
  }
});

Deno.test("taskLeftRunning(): every state but TASK_RUNNING takes a task out of rotation", () => {
  for (
    const state of [
      "TASK_KILLING",
      "TASK_KILLED",
      "TASK_FAILED",
      "TASK_LOST",
      "TASK_GONE",
      "TASK_GONE_BY_OPERATOR",
      "TASK_UNREACHABLE",
      "TASK_ERROR",
      "TASK_DROPPED",
      "TASK_FINISHED",
      "TASK_UNKNOWN",
    ]
  ) {
    assert.deepEqual(
      taskLeftRunning({ taskId: "a.1", appId: "/a", taskStatus: state }),
      { taskId: "a.1", appId: "/a", state },
    );
  }
  assert.equal(taskLeftRunning({ taskId: "a.1", taskStatus: "TASK_RUNNING" }), undefined);
  assert.equal(taskLeftRunning({ taskId: "a.1" }), undefined);
  assert.equal(taskLeftRunning({ taskStatus: "TASK_KILLED" }), undefined);
  assert.equal(taskLeftRunning(undefined), undefined);
  assert.deepEqual(taskLeftRunning({ taskId: "a.1", taskStatus: "TASK_KILLED", appId: 3 }), {
    taskId: "a.1",
    appId: undefined,
    state: "TASK_KILLED",
  });
});
