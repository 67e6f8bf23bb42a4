/** The bundled task app, driven through the process supervisor that spawns it. */
import assert from "node:assert/strict";
import { spawnTask, type TaskProcess } from "../../src/sim/tasks.ts";
import { pidAlive } from "../_helpers/sim.ts";

let nextPort = 34600 + Math.floor(Math.random() * 300);

/** Spawns a task app on 127.0.0.2 with the given env; the caller must `stop()` it. */
async function task(env: Record<string, string> = {}, ports = 1) {
  const listen = Array.from({ length: ports }, () => ({ hostname: "127.0.0.2", port: nextPort++ }));
  const proc = spawnTask({
    taskId: "web.instance-1._app.1",
    listen,
    env: {
      MARATHON_APP_ID: "/web",
      MESOS_TASK_ID: "web.instance-1._app.1",
      MARATHON_APP_VERSION: "v1",
      ...env,
    },
  });
  await proc.listening;
  const base = `http://127.0.0.2:${listen[0]!.port}`;
  return {
    proc,
    base,
    listen,
    async stop() {
      proc.signal("SIGKILL");
      await proc.exited;
    },
  };
}

async function get(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) };
}

async function sha256(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", data);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("the task app answers every path with its identity, on every address it binds", async () => {
  const t = await task({}, 2);
  try {
    for (const { port } of t.listen) {
      const res = await get(`http://127.0.0.2:${port}/any/path?q=1`);
      assert.equal(res.status, 200);
      const body = res.json();
      assert.equal(body.appId, "/web");
      assert.equal(body.taskId, "web.instance-1._app.1");
      assert.equal(body.version, "v1");
      assert.equal(body.pid, t.proc.pid);
      assert.equal(body.port, port);
      assert.equal(body.path, "/any/path");
      assert.equal(res.headers.get("x-sim-task-id"), "web.instance-1._app.1");
      assert.equal(res.headers.get("x-sim-app-id"), "/web");
      assert.equal(res.headers.get("x-sim-version"), "v1");
    }
  } finally {
    await t.stop();
  }
});

Deno.test("SIM_STARTUP_DELAY_MS delays listening; SIM_READY_AFTER_MS gates /ready", async () => {
  const started = performance.now();
  const t = await task({ SIM_STARTUP_DELAY_MS: "300", SIM_READY_AFTER_MS: "800" });
  try {
    assert.ok(performance.now() - started >= 290, "listened only after the delay");
    const early = await get(`${t.base}/ready`);
    assert.equal(early.status, 503);
    assert.equal(early.json().ready, false);
    await new Promise((r) => setTimeout(r, 820));
    assert.equal((await get(`${t.base}/ready`)).status, 200);
    await get(`${t.base}/_sim/ready?ready=0`, { method: "POST" });
    assert.equal((await get(`${t.base}/ready`)).status, 503, "forced not ready");
    await get(`${t.base}/_sim/ready?ready=auto`, { method: "POST" });
    assert.equal((await get(`${t.base}/ready`)).status, 200);
  } finally {
    await t.stop();
  }
});

Deno.test("/health answers 200 until told to fail (POST /_sim/health or SIM_HEALTH_FAIL)", async () => {
  const t = await task();
  const sick = await task({ SIM_HEALTH_FAIL: "1" });
  try {
    assert.equal((await get(`${t.base}/health`)).status, 200);
    await get(`${t.base}/_sim/health?fail=1`, { method: "POST" });
    assert.equal((await get(`${t.base}/health`)).status, 503);
    await get(`${t.base}/_sim/health?fail=0`, { method: "POST" });
    assert.equal((await get(`${t.base}/health`)).status, 200);
    assert.equal((await get(`${sick.base}/health`)).status, 503);
  } finally {
    await t.stop();
    await sick.stop();
  }
});

Deno.test("SIM_FAIL_RATE answers that fraction of requests with 500", async () => {
  const all = await task({ SIM_FAIL_RATE: "1" });
  const half = await task({ SIM_FAIL_RATE: "0.5" });
  try {
    assert.equal((await get(`${all.base}/`)).status, 500);
    assert.equal((await get(`${all.base}/health`)).status, 200, "checks are not failed");
    let failures = 0;
    for (let i = 0; i < 200; i++) if ((await get(`${half.base}/x`)).status === 500) failures++;
    assert.ok(failures > 60 && failures < 140, `${failures} of 200 failed`);
  } finally {
    await all.stop();
    await half.stop();
  }
});

Deno.test("SIM_RESPONSE_DELAY_MS and ?delay= delay answers", async () => {
  const t = await task({ SIM_RESPONSE_DELAY_MS: "300" });
  try {
    let start = performance.now();
    await get(`${t.base}/`);
    assert.ok(performance.now() - start >= 290);
    start = performance.now();
    await get(`${t.base}/?delay=0`);
    assert.ok(performance.now() - start < 250, "per-request override");
    start = performance.now();
    await get(`${t.base}/_sim/info`);
    assert.ok(performance.now() - start < 250, "control paths are never delayed");
  } finally {
    await t.stop();
  }
});

Deno.test("request bodies: length and SHA-256 reported, /_sim/echo returns them unchanged", async () => {
  const t = await task();
  try {
    const body = new Uint8Array(1 << 20);
    // getRandomValues fills at most 64 KiB per call.
    for (let i = 0; i < body.length; i += 65536) {
      crypto.getRandomValues(body.subarray(i, i + 65536));
    }
    const res = await get(`${t.base}/upload`, { method: "POST", body });
    const json = res.json();
    assert.equal(json.bodyLength, body.length);
    assert.equal(json.bodySha256, await sha256(body));
    const echo = await fetch(`${t.base}/_sim/echo`, { method: "PUT", body });
    const back = new Uint8Array(await echo.arrayBuffer());
    assert.equal(await sha256(back), await sha256(body));
  } finally {
    await t.stop();
  }
});

Deno.test("SIM_ON_SIGTERM=drain:<ms>: keeps serving without keep-alive, finishes in-flight, exits 0", async () => {
  const t = await task({ SIM_ON_SIGTERM: "drain:300" });
  const slow = get(`${t.base}/?delay=500`);
  await new Promise((r) => setTimeout(r, 50));
  t.proc.signal("SIGTERM");
  await new Promise((r) => setTimeout(r, 50));
  const during = await get(`${t.base}/`);
  assert.equal(during.status, 200);
  assert.equal(during.headers.get("connection"), "close");
  assert.equal(during.json().draining, true);
  const finished = await slow;
  assert.equal(finished.status, 200, "the in-flight request completed");
  const exit = await t.proc.exited;
  assert.deepEqual(exit, { code: 0, signal: null });
  await assert.rejects(() => fetch(`${t.base}/`), "no longer accepting");
});

Deno.test("without a handler SIGTERM ends the process at once and resets in-flight requests", async () => {
  const t = await task({ SIM_ON_SIGTERM: "exit" });
  const slow = fetch(`${t.base}/?delay=2000`).then(async (r) => {
    await r.body?.cancel();
    return "answered";
  }, () => "reset");
  await new Promise((r) => setTimeout(r, 50));
  const start = performance.now();
  t.proc.signal("SIGTERM");
  const exit = await t.proc.exited;
  assert.equal(exit.signal, "SIGTERM");
  assert.ok(performance.now() - start < 500);
  assert.equal(await slow, "reset");
  assert.ok(!pidAlive(t.proc.pid));
});

Deno.test("a crashing task app exits with status 1 (SIM_CRASH_AFTER_MS, POST /_sim/crash)", async () => {
  const timed = await task({ SIM_CRASH_AFTER_MS: "100" });
  assert.deepEqual(await timed.proc.exited, { code: 1, signal: null });
  const t = await task();
  await get(`${t.base}/_sim/crash`, { method: "POST" });
  assert.deepEqual(await t.proc.exited, { code: 1, signal: null });
});

Deno.test("listening rejects when the port is taken, and the process exits", async () => {
  const port = nextPort++;
  const blocker = Deno.listen({ hostname: "127.0.0.2", port });
  let proc: TaskProcess | undefined;
  try {
    proc = spawnTask({ taskId: "x", listen: [{ hostname: "127.0.0.2", port }], env: {} });
    await assert.rejects(() => proc!.listening);
    assert.equal((await proc.exited).code, 1);
  } finally {
    blocker.close();
  }
});
