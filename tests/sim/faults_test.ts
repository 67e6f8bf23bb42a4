import assert from "node:assert/strict";
import { app, call, EventRecorder, fastCluster } from "../_helpers/sim.ts";

Deno.test("faults.dropEventStreams() ends every stream; clients can reconnect", async () => {
  await using sim = await fastCluster();
  const a = await EventRecorder.open(sim.leaderUrl);
  const b = await EventRecorder.open(sim.leaderUrl);
  try {
    await b.waitFor((e) => e.event === "event_stream_attached");
    assert.equal(sim.api.faults.dropEventStreams(), 2);
    await Promise.all([a.ended, b.ended]);
    const c = await EventRecorder.open(sim.leaderUrl);
    await c.waitFor((e) => e.event === "event_stream_attached");
    await c.close();
  } finally {
    await a.close();
    await b.close();
  }
});

Deno.test("faults.stallEventStreams(): no events and no keep-alives until released", async () => {
  await using sim = await fastCluster({ keepAliveMs: 40 });
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await rec.waitFor((e) => e.event === "event_stream_attached");
    sim.api.faults.stallEventStreams(true);
    const before = rec.raw.length;
    await sim.api.deploy(app("/a", { instances: 0 }));
    await new Promise((r) => setTimeout(r, 250));
    assert.equal(rec.raw.length, before, "silence while stalled");
    sim.api.faults.stallEventStreams(false);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(rec.raw.length > before, "keep-alives resume");
    assert.equal(rec.ofType("api_post_event").length, 0, "events during the stall are lost");
  } finally {
    await rec.close();
  }
});

Deno.test("faults.closeEventStreamsAfter(n) closes a stream after n more events", async () => {
  await using sim = await fastCluster();
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await rec.waitFor((e) => e.event === "event_stream_attached");
    sim.api.faults.closeEventStreamsAfter(2);
    await sim.api.deploy(app("/a", { instances: 0 }));
    await rec.ended;
    assert.deepEqual(rec.events.map((e) => e.event), [
      "event_stream_attached",
      "api_post_event",
      "deployment_info",
    ]);
  } finally {
    await rec.close();
  }
});

Deno.test("faults.delayResponses() slows matching paths only", async () => {
  await using sim = await fastCluster();
  sim.api.faults.delayResponses(400, { path: "/v2/apps" });
  let t = performance.now();
  assert.equal((await call(`${sim.leaderUrl}/v2/apps`)).status, 200);
  assert.ok(performance.now() - t >= 390);
  t = performance.now();
  await call(`${sim.leaderUrl}/ping`);
  assert.ok(performance.now() - t < 300, "other paths are not delayed");
  sim.api.faults.delayResponses(0);
  t = performance.now();
  await call(`${sim.leaderUrl}/v2/apps`);
  assert.ok(performance.now() - t < 300, "cleared");
});

Deno.test("faults.failResponses(): HTML or JSON 5xx, malformed JSON, a count, one member", async () => {
  await using sim = await fastCluster({ members: 2 });
  const url = `${sim.leaderUrl}/v2/apps`;
  sim.api.faults.failResponses({ status: 503, body: "html", count: 2 });
  for (let i = 0; i < 2; i++) {
    const res = await call(url);
    assert.equal(res.status, 503);
    assert.match(res.headers.get("content-type")!, /text\/html/);
    assert.match(res.text, /HTTP ERROR: 503/);
  }
  assert.equal((await call(url)).status, 200, "the count ran out");

  sim.api.faults.failResponses({ status: 500, body: "json" });
  const json = await call(url);
  assert.equal(json.status, 500);
  assert.deepEqual(json.body, { message: "Injected fault" });

  sim.api.faults.failResponses({ body: "malformed" });
  const bad = await fetch(url);
  assert.equal(bad.status, 200);
  assert.equal(bad.headers.get("content-type"), "application/json");
  await assert.rejects(() => bad.json(), SyntaxError);

  sim.api.faults.failResponses({ status: 502, body: "json", member: 1 });
  assert.equal((await call(url)).status, 200, "member 0 unaffected");
  assert.equal((await call(`${sim.urls[1]}/v2/apps`)).status, 502);
  sim.api.faults.clear();
  assert.equal((await call(`${sim.urls[1]}/v2/apps`)).status, 200);
});

Deno.test("the /_sim admin endpoints drive faults, crashes, kills, partitions and abdication over HTTP", async () => {
  await using sim = await fastCluster({ members: 2, auth: { token: "t" } });
  const admin = `${sim.urls[1]}/_sim`;
  await sim.api.deploy(app("/a", { backoffSeconds: 0.05 }));
  const [t] = await sim.api.waitForRunning("/a");

  const state = await call(`${admin}/state`);
  assert.equal(state.status, 200, "no auth on admin paths");
  const tasks = (state.body as { tasks: { id: string; pid: number }[] }).tasks;
  assert.deepEqual(tasks.map((x) => x.id), [t!.id]);
  assert.equal(tasks[0]!.pid, t!.pid);

  const faults = await call(`${admin}/faults`, {
    method: "POST",
    json: { failResponses: { status: 500, body: "json", count: 1 } },
  });
  assert.equal(faults.status, 200);
  const failed = await call(`${sim.leaderUrl}/ping`, { headers: { Authorization: "token=t" } });
  assert.equal(failed.status, 500);

  assert.equal((await call(`${admin}/tasks/${t!.id}/crash`, { method: "POST" })).status, 200);
  await sim.api.waitFor(() =>
    sim.api.events().some((e) => e.taskId === t!.id && e.taskStatus === "TASK_FAILED")
  );
  const [next] = await sim.api.waitForRunning("/a");
  const kill = await call(`${admin}/tasks/${next!.id}/kill?hard=1`, { method: "POST" });
  assert.equal(kill.status, 200);
  await sim.api.waitFor(() =>
    sim.api.events().some((e) => e.taskId === next!.id && e.taskStatus === "TASK_KILLED")
  );
  assert.equal((await call(`${admin}/tasks/nope/crash`, { method: "POST" })).status, 404);

  const [third] = await sim.api.waitForRunning("/a");
  const cut = await call(`${admin}/agents/${third!.host}/partition`, { method: "POST" });
  assert.deepEqual(cut.body, { unreachable: [third!.id] });
  assert.equal(sim.api.tasks("/a")[0]!.state, "TASK_UNREACHABLE");
  const back = await call(`${admin}/agents/${third!.host}/reconnect`, { method: "POST" });
  assert.deepEqual(back.body, { reconnected: [third!.id] });
  assert.equal(sim.api.tasks("/a")[0]!.state, "TASK_RUNNING");
  assert.equal((await call(`${admin}/agents/127.9.9.9/partition`, { method: "POST" })).status, 404);

  assert.equal((await call(`${admin}/abdicate?noLeaderMs=50`, { method: "POST" })).status, 200);
  await sim.api.waitFor(() => sim.leaderUrl === sim.urls[1]);
});

Deno.test("a consumer that stops reading is disconnected; one that reads is not (1.8+)", async () => {
  await using sim = await fastCluster({ eventStreamMaxOutstanding: 64 });
  const reader = await EventRecorder.open(sim.leaderUrl, { eventTypes: ["api_post_event"] });
  const abort = new AbortController();
  // Connect, then never read the body.
  const res = await fetch(`${sim.leaderUrl}/v2/events`, {
    headers: { Accept: "text/event-stream" },
    signal: abort.signal,
  });
  try {
    assert.equal(res.status, 200);
    // api_post_event carries the definition: ~64 KiB each, enough to fill the socket buffers.
    const big = "x".repeat(64 * 1024);
    const detached = () => sim.api.events().some((e) => e.eventType === "event_stream_detached");
    let deployed = 0;
    while (!detached() && deployed < 600) {
      await sim.api.deploy(app(`/big/a${deployed++}`, { instances: 0, labels: { big } }));
      // Let the server write between deployments, as a real sequence of API calls would.
      await new Promise((r) => setTimeout(r, 1));
    }
    assert.ok(detached(), `the stalled stream was closed (after ${deployed} deployments)`);
    assert.ok(deployed > 10, "not on the first burst");
    await reader.waitFor(() => reader.ofType("api_post_event").length === deployed);
    assert.ok(!reader.isEnded, "the reading client stays connected");
  } finally {
    abort.abort();
    await res.body?.cancel().catch(() => {});
    await reader.close();
  }
});
