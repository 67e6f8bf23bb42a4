import assert from "node:assert/strict";
import { app, call, EventRecorder, fastCluster, pidAlive } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

async function appJson(url: string, id: string): Promise<Json> {
  return ((await call(`${url}/v2/apps${id}`)).body as Json).app;
}

/** Polls a task until it answers as draining (its SIGTERM handler ran); returns that answer. */
async function drainingAnswer(host: string, port: number): Promise<Response> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const res = await fetch(`http://${host}:${port}/`);
    const body = await res.json();
    if (body.draining) return res;
    if (Date.now() > deadline) throw new Error("the task never started draining");
    await new Promise((r) => setTimeout(r, 10));
  }
}

function statuses(rec: EventRecorder, taskId: string): string[] {
  return rec.ofType("status_update_event").filter((e) => e.data.taskId === taskId).map((e) =>
    e.data.taskStatus as string
  );
}

Deno.test("a task is TASK_STARTING until its process listens, then TASK_RUNNING with startedAt", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/slow", { env: { SIM_STARTUP_DELAY_MS: "400" } }));
  const starting = await sim.api.waitFor(async () => {
    const a = await appJson(sim.leaderUrl, "/slow");
    return a.tasks[0]?.state === "TASK_STARTING" ? a : undefined;
  });
  assert.equal(starting.tasks[0].startedAt, undefined);
  assert.equal(starting.tasksStaged, 1);
  assert.equal(starting.tasksRunning, 0);
  const { host, ports } = starting.tasks[0];
  await assert.rejects(() => Deno.connect({ hostname: host, port: ports[0] }));
  const [t] = await sim.api.waitForRunning("/slow");
  const running = await appJson(sim.leaderUrl, "/slow");
  assert.match(running.tasks[0].startedAt, /Z$/);
  assert.equal(running.tasksRunning, 1);
  const res = await fetch(`http://${t!.host}:${t!.ports[0]}/`);
  assert.equal((await res.json()).taskId, t!.id);
});

Deno.test("kill with task_killing: TASK_KILLING while the task drains, then TASK_KILLED and a replacement", async () => {
  await using sim = await fastCluster({ taskKilling: true });
  await sim.api.deploy(app("/k", {
    env: { SIM_ON_SIGTERM: "drain:400" },
    taskKillGracePeriodSeconds: 5,
  }));
  const [t] = await sim.api.waitForRunning("/k");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    const res = await call(`${sim.leaderUrl}/v2/apps/k/tasks/${t!.id}`, { method: "DELETE" });
    assert.equal(res.status, 200);
    const listed = (await appJson(sim.leaderUrl, "/k")).tasks.find((x: Json) => x.id === t!.id);
    assert.equal(listed.state, "TASK_KILLING");
    // The task keeps serving during its drain, without keep-alive.
    const during = await drainingAnswer(t!.host, t!.ports[0]!);
    assert.equal(during.status, 200);
    assert.equal(during.headers.get("connection"), "close");
    const killed = await rec.waitFor((e) =>
      e.event === "status_update_event" && e.data.taskId === t!.id &&
      e.data.taskStatus === "TASK_KILLED"
    );
    const killing = rec.events.find((e) => e.data.taskStatus === "TASK_KILLING")!;
    assert.ok(killed.at - killing.at >= 350, `drained ${killed.at - killing.at} ms`);
    assert.equal(killed.data.message, "Command exited with status 0");
    assert.deepEqual(statuses(rec, t!.id), ["TASK_KILLING", "TASK_KILLED"]);
    assert.deepEqual(
      rec.ofType("instance_changed_event").filter((e) => e.data.instanceId === t!.instanceId)
        .map((e) => e.data.condition),
      ["Killing", "Killed"],
    );
    const [fresh] = await sim.api.waitForRunning("/k");
    assert.notEqual(fresh!.id, t!.id);
    assert.ok(!pidAlive(t!.pid!));
  } finally {
    await rec.close();
  }
});

Deno.test("kill without task_killing: the task stays TASK_RUNNING until it dies", async () => {
  await using sim = await fastCluster({ taskKilling: false });
  await sim.api.deploy(app("/k", { env: { SIM_ON_SIGTERM: "drain:600" } }));
  const [t] = await sim.api.waitForRunning("/k");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await sim.api.killTask("/k", t!.id);
    await new Promise((r) => setTimeout(r, 100));
    const listed = (await appJson(sim.leaderUrl, "/k")).tasks.find((x: Json) => x.id === t!.id);
    assert.equal(listed.state, "TASK_RUNNING", "no TASK_KILLING without the feature");
    const during = await drainingAnswer(t!.host, t!.ports[0]!);
    assert.equal(during.headers.get("connection"), "close", "the task drains meanwhile");
    await rec.waitFor((e) => e.data.taskId === t!.id && e.data.taskStatus === "TASK_KILLED");
    assert.deepEqual(statuses(rec, t!.id), ["TASK_KILLED"]);
  } finally {
    await rec.close();
  }
});

Deno.test("the grace period ends in SIGKILL for a task that drains too long", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/k", {
    env: { SIM_ON_SIGTERM: "drain:10000" },
    taskKillGracePeriodSeconds: 0.25,
  }));
  const [t] = await sim.api.waitForRunning("/k");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    const started = performance.now();
    await sim.api.killTask("/k", t!.id, { scale: true });
    const killed = await rec.waitFor((e) =>
      e.data.taskId === t!.id && e.data.taskStatus === "TASK_KILLED"
    );
    const took = killed.at - started;
    assert.ok(took >= 230 && took < 2000, `killed after ${took} ms`);
    assert.equal(killed.data.message, "Command terminated with signal Killed");
    await sim.api.waitForDeployments();
    assert.deepEqual(sim.api.tasks("/k"), [], "scale=true: no replacement");
  } finally {
    await rec.close();
  }
});

Deno.test("timeScale shrinks every duration taken from app definitions", async () => {
  await using sim = await fastCluster({ timeScale: 0.01 });
  await sim.api.deploy(app("/k", {
    env: { SIM_ON_SIGTERM: "drain:10000" },
    taskKillGracePeriodSeconds: 25, // 250 ms at this scale
  }));
  const [t] = await sim.api.waitForRunning("/k");
  const started = performance.now();
  await sim.api.killTask("/k", t!.id);
  await sim.api.waitFor(() =>
    sim.api.events().some((e) => e.taskId === t!.id && e.taskStatus === "TASK_KILLED")
  );
  const took = performance.now() - started;
  assert.ok(took >= 230 && took < 2000, `SIGKILL after ${took} ms`);
});

Deno.test("without a termination handler SIGTERM kills at once and resets in-flight requests", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/abrupt", { env: { SIM_ON_SIGTERM: "exit" } }));
  const [t] = await sim.api.waitForRunning("/abrupt");
  const inFlight = fetch(`http://${t!.host}:${t!.ports[0]}/?delay=3000`).then(
    async (r) => {
      await r.body?.cancel();
      return "answered";
    },
    () => "reset",
  );
  await new Promise((r) => setTimeout(r, 100));
  await sim.api.killTask("/abrupt", t!.id);
  assert.equal(await inFlight, "reset");
});

Deno.test("a hard kill goes straight from TASK_RUNNING to TASK_KILLED (agent maintenance)", async () => {
  await using sim = await fastCluster({ taskKilling: true });
  await sim.api.deploy(app("/m", { env: { SIM_ON_SIGTERM: "drain:5000" } }));
  const [t] = await sim.api.waitForRunning("/m");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await sim.api.killTask("/m", t!.id, { hard: true });
    const killed = await rec.waitFor((e) =>
      e.data.taskId === t!.id && e.data.taskStatus === "TASK_KILLED"
    );
    assert.deepEqual(statuses(rec, t!.id), ["TASK_KILLED"]);
    assert.equal(killed.data.message, "Command terminated with signal Killed");
    await sim.api.waitFor(() => sim.api.tasks("/m").some((x) => x.state === "TASK_RUNNING"));
  } finally {
    await rec.close();
  }
});

Deno.test("a partitioned agent: TASK_UNREACHABLE, a replacement once inactive, expunged later", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/u", {
    unreachableStrategy: { inactiveAfterSeconds: 0.3, expungeAfterSeconds: 0.8 },
  }));
  const [t] = await sim.api.waitForRunning("/u");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    assert.deepEqual(sim.api.partitionAgent(t!.host), [t!.id]);
    await rec.waitFor((e) => e.data.taskId === t!.id && e.data.taskStatus === "TASK_UNREACHABLE");
    // Listed as unreachable, its process alive and answering: only Marathon lost sight of it.
    const listed = await appJson(sim.leaderUrl, "/u");
    assert.deepEqual(listed.tasks.map((x: Json) => x.state), ["TASK_UNREACHABLE"]);
    assert.equal((await (await fetch(`http://${t!.host}:${t!.ports[0]}/`)).json()).taskId, t!.id);
    // Inactive: replaced, and still listed beside its replacement.
    const [fresh] = await sim.api.waitForRunning("/u", 1);
    assert.notEqual(fresh!.id, t!.id);
    assert.deepEqual(
      (await appJson(sim.leaderUrl, "/u")).tasks.map((x: Json) => x.id).sort(),
      [t!.id, fresh!.id].sort(),
    );
    const conditions = () =>
      rec.ofType("instance_changed_event")
        .filter((e) => e.data.instanceId === t!.instanceId).map((e) => e.data.condition);
    assert.deepEqual(conditions(), ["Unreachable", "UnreachableInactive"]);
    // Expunged: gone from the API, its process gone too.
    await sim.api.waitFor(() => !sim.api.tasks("/u").some((x) => x.id === t!.id), 3000, "expunge");
    await sim.api.waitFor(() => !pidAlive(t!.pid!), 3000, "the process to end");
    // As Marathon's forceExpunge: one instance_changed_event Killed, no Mesos status update.
    await rec.waitFor((e) => e.data.instanceId === t!.instanceId && e.data.condition === "Killed");
    assert.deepEqual(conditions(), ["Unreachable", "UnreachableInactive", "Killed"]);
    await new Promise((r) => setTimeout(r, 100)); // the process's exit is reported by nobody
    assert.deepEqual(statuses(rec, t!.id), ["TASK_UNREACHABLE"]);
  } finally {
    await rec.close();
  }
});

Deno.test("a scale deployment does not count an UnreachableInactive task as an instance", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/s", {
    unreachableStrategy: { inactiveAfterSeconds: 0.3, expungeAfterSeconds: 60 },
  }));
  const [lost] = await sim.api.waitForRunning("/s");
  sim.api.partitionAgent(lost!.host);
  // Inactive: the reconciler replaces it; it stays listed as TASK_UNREACHABLE.
  const [replacement] = await sim.api.waitForRunning("/s", 1);
  assert.notEqual(replacement!.id, lost!.id);
  await sim.api.scale("/s", 2);
  // The deployment launches a second instance instead of counting the lost one, and ends.
  await sim.api.waitForDeployments(5000);
  const tasks = sim.api.tasks("/s");
  assert.equal(tasks.filter((t) => t.state === "TASK_RUNNING").length, 2);
  assert.deepEqual(tasks.filter((t) => t.state !== "TASK_RUNNING").map((t) => t.id), [lost!.id]);
});

Deno.test("a reconnected agent: its task runs on if still active, is killed if already replaced", async () => {
  await using sim = await fastCluster({ taskKilling: true });
  await sim.api.deploy(app("/r", {
    instances: 2,
    unreachableStrategy: { inactiveAfterSeconds: 0.4, expungeAfterSeconds: 60 },
  }));
  const [a, b] = await sim.api.waitForRunning("/r");
  assert.notEqual(a!.host, b!.host, "the tasks run on different agents");
  const rec = await EventRecorder.open(sim.leaderUrl, { eventTypes: ["status_update_event"] });
  try {
    // Back before inactiveAfterSeconds: running again, nothing replaced.
    sim.api.partitionAgent(a!.host);
    assert.deepEqual(sim.api.reconnectAgent(a!.host), [a!.id]);
    await rec.waitFor((e) => e.data.taskId === a!.id && e.data.taskStatus === "TASK_RUNNING");
    assert.deepEqual(statuses(rec, a!.id), ["TASK_UNREACHABLE", "TASK_RUNNING"]);
    await new Promise((r) => setTimeout(r, 600));
    assert.deepEqual(sim.api.tasks("/r").map((x) => x.id).sort(), [a!.id, b!.id].sort());
    assert.ok(sim.api.tasks("/r").every((x) => x.state === "TASK_RUNNING"));
    // Back after its replacement started: killed.
    sim.api.partitionAgent(b!.host);
    await sim.api.waitFor(() =>
      sim.api.tasks("/r").filter((x) => x.state === "TASK_RUNNING").length === 2
    );
    sim.api.reconnectAgent(b!.host);
    await rec.waitFor((e) => e.data.taskId === b!.id && e.data.taskStatus === "TASK_KILLED");
    assert.deepEqual(statuses(rec, b!.id), [
      "TASK_UNREACHABLE",
      "TASK_RUNNING",
      "TASK_KILLING",
      "TASK_KILLED",
    ]);
    assert.throws(() => sim.api.partitionAgent("127.9.9.9"), /Agent '127.9.9.9' does not exist/);
  } finally {
    await rec.close();
  }
});

Deno.test("a crashed process becomes TASK_FAILED, is recorded as lastTaskFailure and replaced", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/c", { backoffSeconds: 0.05 }));
  const [t] = await sim.api.waitForRunning("/c");
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    sim.api.crashTask(t!.id);
    const failed = await rec.waitFor((e) =>
      e.data.taskId === t!.id && e.data.taskStatus === "TASK_FAILED"
    );
    assert.equal(failed.data.message, "Command terminated with signal Killed");
    const [fresh] = await sim.api.waitForRunning("/c");
    assert.notEqual(fresh!.id, t!.id);
    const a = await appJson(sim.leaderUrl, "/c");
    assert.equal(a.lastTaskFailure.taskId, t!.id);
    assert.equal(a.lastTaskFailure.state, "TASK_FAILED");
    assert.equal(a.lastTaskFailure.appId, "/c");
    assert.equal(
      rec.ofType("instance_changed_event").find((e) => e.data.instanceId === t!.instanceId)!.data
        .condition,
      "Failed",
    );
  } finally {
    await rec.close();
  }
});

Deno.test("a process that exits by itself is replaced with backoff", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/loop", {
    env: { SIM_CRASH_AFTER_MS: "50" },
    backoffSeconds: 0.1,
    backoffFactor: 2,
  }));
  const rec = await EventRecorder.open(sim.leaderUrl, { eventTypes: ["status_update_event"] });
  try {
    await rec.waitFor(() =>
      rec.events.filter((e) => e.data.taskStatus === "TASK_FAILED").length >= 3
    );
    const failures = rec.events.filter((e) => e.data.taskStatus === "TASK_FAILED");
    const stagings = rec.events.filter((e) => e.data.taskStatus === "TASK_STAGING");
    assert.equal(failures[0]!.data.message, "Command exited with status 1");
    // The relaunch after the n-th failure waits backoffSeconds × factor^(n-1).
    const gap = (n: number) => stagings.find((s) => s.at > failures[n]!.at)!.at - failures[n]!.at;
    assert.ok(gap(0) >= 90, `first backoff ${gap(0)} ms`);
    assert.ok(gap(1) >= 190, `second backoff ${gap(1)} ms`);
  } finally {
    await rec.close();
  }
});

Deno.test("health checks: results and events as the leader probes; failures kill and replace the task", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  const healthCheck = {
    protocol: "HTTP",
    path: "/health",
    portIndex: 0,
    gracePeriodSeconds: 0.1,
    intervalSeconds: 0.05,
    timeoutSeconds: 0.5,
    maxConsecutiveFailures: 3,
  };
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await sim.api.deploy(app("/h", { healthChecks: [healthCheck] }));
    const [t] = await sim.api.waitForRunning("/h");
    await sim.api.waitForDeployments();
    const a = await appJson(sim.leaderUrl, "/h");
    assert.equal(a.tasksHealthy, 1);
    const [result] = a.tasks[0].healthCheckResults;
    assert.equal(result.alive, true);
    assert.equal(result.instanceId, t!.instanceId);
    assert.equal(result.consecutiveFailures, 0);
    assert.equal(result.lastFailure, null);
    const up = await rec.waitFor((e) => e.event === "health_status_changed_event");
    assert.equal(up.data.alive, true);
    assert.equal(up.data.instanceId, t!.instanceId);
    await rec.waitFor((e) =>
      e.event === "instance_health_changed_event" && e.data.healthy === true
    );

    const e = t!.endpoints[0]!;
    await (await fetch(`http://${e.hostname}:${e.port}/_sim/health?fail=1`, { method: "POST" }))
      .body?.cancel();
    const down = await rec.waitFor((ev) =>
      ev.event === "health_status_changed_event" && ev.data.alive === false
    );
    assert.equal(down.data.instanceId, t!.instanceId);
    const unhealthy = await sim.api.waitFor(async () => {
      const now = await appJson(sim.leaderUrl, "/h");
      const res = now.tasks.find((x: Json) => x.id === t!.id)?.healthCheckResults?.[0];
      return res?.alive === false ? { now, res } : undefined;
    });
    assert.equal(unhealthy.now.tasksUnhealthy, 1);
    assert.match(unhealthy.res.lastFailureCause, /503/);
    const kill = await rec.waitFor((ev) => ev.event === "unhealthy_instance_kill_event");
    assert.equal(kill.data.taskId, t!.id);
    const failedChecks = rec.ofType("failed_health_check_event");
    assert.ok(failedChecks.length >= 3);
    assert.equal(failedChecks[0]!.data.taskId, t!.instanceId, "1.5+: taskId holds the instance id");
    await rec.waitFor((ev) => ev.data.taskId === t!.id && ev.data.taskStatus === "TASK_KILLED");
    const [fresh] = await sim.api.waitForRunning("/h");
    assert.notEqual(fresh!.id, t!.id);
  } finally {
    await rec.close();
  }
});
