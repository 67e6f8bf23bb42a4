import assert from "node:assert/strict";
import { app, call, EventRecorder, fastCluster, sampleText } from "../_helpers/sim.ts";

/** Asserts `expected` appears in `actual` in this order (other items may sit between). */
function assertSubsequence(actual: string[], expected: string[]): void {
  let i = 0;
  for (const item of actual) if (item === expected[i]) i++;
  assert.equal(
    i,
    expected.length,
    `expected in order:\n  ${expected.join("\n  ")}\ngot:\n  ${actual.join("\n  ")}`,
  );
}

Deno.test("/v2/events answers 405 HTML unless Accept is exactly text/event-stream", async () => {
  await using sim = await fastCluster();
  const sample = await sampleText("errors/405_events_without_accept_header.html");
  for (const accept of [undefined, "*/*", "text/event-stream, */*", "application/json"]) {
    const res = await call(`${sim.leaderUrl}/v2/events`, {
      headers: accept === undefined ? {} : { Accept: accept },
    });
    assert.equal(res.status, 405, String(accept));
    assert.match(res.headers.get("content-type")!, /^text\/html/);
    // Same page as Jetty's, up to the version banner and indentation (the fixture is fmt'ed).
    const strip = (s: string) =>
      s.replace(/Jetty:\/\/[^<]*/, "Jetty://").replace(/\s+/g, " ").replace(/ ?\/>/g, "/>")
        .replace(/> </g, "><").trim();
    assert.equal(strip(res.text), strip(sample));
  }
});

Deno.test("/v2/events: headers, CRLF frames as on the wire, attached event first, no ids", async () => {
  await using sim = await fastCluster();
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    const h = rec.response.headers;
    assert.equal(h.get("content-type"), "text/event-stream;charset=UTF-8");
    assert.equal(h.get("cache-control"), "no-cache, no-store, must-revalidate");
    assert.equal(h.get("x-marathon-leader"), sim.leaderUrl);
    assert.equal(h.get("content-length"), null);
    await rec.waitFor((e) => e.event === "event_stream_attached");
    const sample = await sampleText("events/async-worker_single-event_crlf.txt");
    // A real capture: "event: <type>\r\ndata: <json>\r\n\r\n".
    const frame = /^event: (\w+)\r\ndata: (\{.*\})\r\n\r\n$/;
    const [, sampleType, sampleData] = frame.exec(sample)!;
    const [, type, data] = frame.exec(rec.raw)!;
    assert.equal(type, sampleType);
    assert.deepEqual(
      Object.keys(JSON.parse(data!)).sort(),
      Object.keys(JSON.parse(sampleData!)).sort(),
    );
    const attached = JSON.parse(data!);
    assert.equal(attached.remoteAddress, "127.0.0.1");
    assert.match(attached.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);

    await sim.api.deploy(app("/a", { instances: 0 }));
    await rec.waitFor((e) => e.event === "deployment_success");
    assert.doesNotMatch(rec.raw, /^id:/m);
    assert.doesNotMatch(rec.raw, /^retry:/m);
    assert.doesNotMatch(rec.raw.replaceAll("\r\n", ""), /\n/, "every line ends with CRLF");
    for (const e of rec.events) assert.equal(e.event, e.data.eventType);
  } finally {
    await rec.close();
  }
});

Deno.test("/v2/events writes a bare CRLF keep-alive every keepAliveMs", async () => {
  await using sim = await fastCluster({ keepAliveMs: 60 });
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await rec.waitFor((e) => e.event === "event_stream_attached");
    await new Promise((r) => setTimeout(r, 400));
    const afterFrame = rec.raw.slice(rec.raw.indexOf("\r\n\r\n") + 4);
    assert.match(afterFrame, /^(\r\n)+$/);
    const beats = afterFrame.length / 2;
    assert.ok(beats >= 2 && beats <= 8, `${beats} keep-alives in 400 ms at 60 ms`);
  } finally {
    await rec.close();
  }
});

Deno.test("/v2/events?event_type= sends only the listed types", async () => {
  await using sim = await fastCluster();
  const rec = await EventRecorder.open(sim.leaderUrl, {
    eventTypes: ["status_update_event", "deployment_success"],
  });
  try {
    await sim.api.deploy(app("/a"));
    await rec.waitFor((e) => e.event === "deployment_success");
    const types = new Set(rec.events.map((e) => e.event));
    assert.deepEqual([...types].sort(), ["deployment_success", "status_update_event"]);
  } finally {
    await rec.close();
  }
});

Deno.test("a deployment publishes its steps and every task transition, in order", async () => {
  await using sim = await fastCluster();
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    const ref = await sim.api.deploy(app("/g/a"));
    await rec.waitFor((e) => e.event === "group_change_success");
    const seq = rec.events.map((e) => {
      const d = e.data;
      if (e.event === "status_update_event") return `status ${d.taskStatus}`;
      if (e.event === "instance_changed_event") return `instance ${d.condition}`;
      if (e.event.startsWith("deployment_") && d.currentStep) {
        return `${e.event} ${
          (d.currentStep as { actions: { action: string }[] }).actions[0]!.action
        }`;
      }
      return e.event;
    });
    assertSubsequence(seq, [
      "event_stream_attached",
      "api_post_event",
      "deployment_info StartApplication",
      "deployment_step_success StartApplication",
      "deployment_info ScaleApplication",
      "status TASK_STAGING",
      "instance Staging",
      "status TASK_STARTING",
      "instance Starting",
      "status TASK_RUNNING",
      "instance Running",
      "deployment_step_success ScaleApplication",
      "deployment_success",
      "group_change_success",
    ]);
    const [task] = sim.api.tasks("/g/a");
    const running = rec.ofType("status_update_event").find((e) =>
      e.data.taskStatus === "TASK_RUNNING"
    )!;
    assert.equal(running.data.taskId, task!.id);
    assert.equal(running.data.appId, "/g/a");
    assert.equal(running.data.host, task!.host);
    assert.deepEqual(running.data.ports, task!.ports);
    assert.equal(running.data.version, ref.version);
    const success = rec.ofType("deployment_success")[0]!;
    assert.equal(success.data.id, ref.deploymentId);
    assert.equal(rec.ofType("group_change_success")[0]!.data.groupId, "/g");
    const post = rec.ofType("api_post_event")[0]!;
    assert.equal(post.data.uri, "/v2/apps");
    assert.equal((post.data.appDefinition as { id: string }).id, "/g/a");
  } finally {
    await rec.close();
  }
});

Deno.test("api_post_event carries the client address, URI and full definition of a PUT", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/a", { instances: 0 }));
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await call(`${sim.leaderUrl}/v2/apps//a`, { method: "PUT", json: { labels: { x: "1" } } });
    const e = await rec.waitFor((ev) => ev.event === "api_post_event");
    assert.equal(e.data.clientIp, "127.0.0.1");
    assert.equal(e.data.uri, "/v2/apps//a");
    const def = e.data.appDefinition as Record<string, unknown>;
    assert.deepEqual(def.labels, { x: "1" });
    assert.equal(def.cmd, "sim-task");
  } finally {
    await rec.close();
  }
});

Deno.test("attach and detach are announced to every client", async () => {
  await using sim = await fastCluster();
  const first = await EventRecorder.open(sim.leaderUrl);
  try {
    await first.waitFor((e) => e.event === "event_stream_attached");
    const second = await EventRecorder.open(sim.leaderUrl);
    await second.waitFor((e) => e.event === "event_stream_attached");
    await first.waitFor((e) => first.ofType("event_stream_attached").length === 2 && !!e);
    await second.close();
    const detached = await first.waitFor((e) => e.event === "event_stream_detached");
    assert.equal(detached.data.remoteAddress, "127.0.0.1");
  } finally {
    await first.close();
  }
});

Deno.test("deleting an app kills its tasks, then publishes app_terminated_event", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 300 });
  await sim.api.deploy(app("/a"));
  const [task] = await sim.api.waitForRunning("/a");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await sim.api.remove("/a");
    await rec.waitFor((e) => e.event === "app_terminated_event");
    const seq = rec.events.map((e) =>
      e.event === "status_update_event" ? `status ${e.data.taskStatus}` : e.event
    );
    assertSubsequence(seq, [
      "deployment_info",
      "status TASK_KILLING",
      "status TASK_KILLED",
      "app_terminated_event",
      "deployment_step_success",
      "deployment_success",
    ]);
    assert.equal(rec.ofType("app_terminated_event")[0]!.data.appId, "/a");
    assert.equal(rec.ofType("status_update_event").at(-1)!.data.taskId, task!.id);
  } finally {
    await rec.close();
  }
});
