import assert from "node:assert/strict";
import type { SimCluster, SimTaskView } from "../../src/sim/mod.ts";
import { app, call, EventRecorder, fastCluster } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const READINESS = {
  name: "ready",
  protocol: "HTTP",
  path: "/ready",
  portName: "http",
  intervalSeconds: 0.05,
  timeoutSeconds: 0.04,
  httpStatusCodesForReady: [200],
  preserveLastResponse: true,
};

/** Samples the app's tasks every few ms, as long as a deployment runs. */
function sampler(sim: SimCluster, appId: string) {
  const samples: SimTaskView[][] = [];
  const timer = setInterval(() => {
    // Readiness results vanish with the deployment; only samples taken during it count.
    if (sim.api.deployments().length > 0) samples.push(sim.api.tasks(appId));
  }, 3);
  return {
    samples,
    stop: () => clearInterval(timer),
  };
}

function oldUp(t: SimTaskView, oldVersion: string): boolean {
  return t.version === oldVersion && t.state === "TASK_RUNNING" && !t.killing;
}

Deno.test("rolling restart (1, 1): new tasks start alongside, old ones go as new ones get ready", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 300 });
  const def = app("/roll", {
    instances: 2,
    portDefinitions: [{ port: 0, name: "http" }],
    readinessChecks: [READINESS],
    // Old tasks drain a while, so ready results stay visible until the deployment ends.
    env: { SIM_READY_AFTER_MS: "300", SIM_ON_SIGTERM: "drain:300" },
  });
  await sim.api.deploy(def);
  await sim.api.waitForDeployments(10_000);
  const oldVersion = sim.api.tasks("/roll")[0]!.version;
  const s = sampler(sim, "/roll");
  const rec = await EventRecorder.open(sim.leaderUrl);
  let sawReadinessFalse = false;
  let sawReadinessTrue = false;
  try {
    const ref = await sim.api.update("/roll", {
      env: { SIM_READY_AFTER_MS: "300", SIM_ON_SIGTERM: "drain:300", V: "2" },
    });
    // Poll what a provider polls while the deployment runs.
    await sim.api.waitFor(
      async () => {
        const apps = ((await call(`${sim.leaderUrl}/v2/apps?embed=apps.tasks&embed=apps.readiness`))
          .body as Json).apps as Json[];
        const a = apps[0]!;
        const deps = (await call(`${sim.leaderUrl}/v2/deployments`)).body as Json[];
        if (a.deployments.length > 0) {
          assert.deepEqual(a.deployments, [{ id: ref.deploymentId }]);
          const oldIds = new Set(
            a.tasks.filter((t: Json) => t.version === oldVersion).map((t: Json) => t.id),
          );
          for (const r of a.readinessCheckResults) {
            assert.ok(!oldIds.has(r.taskId), "old tasks never get readiness results");
            assert.equal(r.name, "ready");
            if (r.ready === false) {
              sawReadinessFalse = true;
              assert.equal(r.lastResponse.status, 503);
            } else {
              sawReadinessTrue = true;
              assert.equal(r.lastResponse.status, 200);
            }
          }
          for (const r of deps[0]?.currentActions[0].readinessCheckResults ?? []) {
            assert.ok(!oldIds.has(r.taskId), "nor in /v2/deployments");
          }
          // Taken in one tick, both views hold the same results.
          const [dep] = sim.api.deployments() as Json[];
          const [now] = sim.api.apps();
          if (dep && now) {
            assert.deepEqual(
              dep.currentActions[0].readinessCheckResults,
              now.readinessCheckResults,
            );
          }
          return false;
        }
        assert.deepEqual(a.readinessCheckResults, [], "results end with the deployment");
        return true;
      },
      10_000,
      "the restart",
    );
    await rec.waitFor((e) => e.event === "deployment_success");
  } finally {
    s.stop();
    await rec.close();
  }
  assert.ok(sawReadinessFalse && sawReadinessTrue, "readiness results flipped during the deploy");

  // minHealthy = ceil(2 × 1) = 2, maxCapacity = floor(2 × 2) = 4.
  let maxActive = 0;
  for (const tasks of s.samples) {
    const up = tasks.filter((t) =>
      oldUp(t, oldVersion) || (t.version !== oldVersion && t.ready === true && !t.killing)
    );
    assert.ok(up.length >= 2, `healthy capacity never below 2: ${JSON.stringify(tasks)}`);
    maxActive = Math.max(maxActive, tasks.filter((t) => !t.killing).length);
  }
  assert.equal(maxActive, 4, "both new tasks ran next to both old ones");
  const final = sim.api.tasks("/roll");
  assert.equal(final.length, 2);
  assert.ok(final.every((t) => t.version !== oldVersion && t.state === "TASK_RUNNING"));
  const kills = rec.ofType("status_update_event").filter((e) =>
    e.data.taskStatus === "TASK_KILLING"
  );
  assert.equal(kills.length, 2, "each old task killed once");
});

Deno.test("rolling restart (0.5, 0): one old killed at once, capacity never above 2", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 300 });
  await sim.api.deploy(app("/half", {
    instances: 2,
    portDefinitions: [{ port: 0, name: "http" }],
    readinessChecks: [READINESS],
    env: { SIM_READY_AFTER_MS: "150" },
    upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 },
  }));
  await sim.api.waitForDeployments(10_000);
  const oldVersion = sim.api.tasks("/half")[0]!.version;
  const s = sampler(sim, "/half");
  try {
    await sim.api.update("/half", { env: { SIM_READY_AFTER_MS: "150", V: "2" } });
    await sim.api.waitForDeployments(10_000);
  } finally {
    s.stop();
  }
  // minHealthy = 1, maxCapacity = 2.
  let sawOneOldKilledEarly = false;
  for (const tasks of s.samples) {
    const active = tasks.filter((t) => !t.killing);
    assert.ok(active.length <= 2, `over capacity: ${JSON.stringify(active)}`);
    const up = tasks.filter((t) =>
      oldUp(t, oldVersion) || (t.version !== oldVersion && t.ready === true && !t.killing)
    );
    assert.ok(up.length >= 1, "at least one instance up");
    const oldActive = tasks.filter((t) => t.version === oldVersion && !t.killing);
    const newReady = tasks.some((t) => t.version !== oldVersion && t.ready);
    if (!newReady && oldActive.length === 1) sawOneOldKilledEarly = true;
  }
  assert.ok(sawOneOldKilledEarly, "one old instance went before any new one was ready");
  assert.equal(sim.api.tasks("/half").filter((t) => t.version !== oldVersion).length, 2);
});

Deno.test("rolling restart (1, 0) of one instance gets one extra instance to make progress", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 300 });
  await sim.api.deploy(app("/one", {
    instances: 1,
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0 },
  }));
  const [old] = await sim.api.waitForRunning("/one");
  const s = sampler(sim, "/one");
  try {
    await sim.api.restart("/one");
    await sim.api.waitForDeployments(10_000);
  } finally {
    s.stop();
  }
  // minHealthy = maxCapacity = 1, so Marathon allows one extra instance.
  const extra = s.samples.some((tasks) => tasks.filter((t) => !t.killing).length === 2);
  assert.ok(extra, "old and new existed together");
  assert.ok(s.samples.every((tasks) => tasks.filter((t) => !t.killing).length <= 2));
  for (const tasks of s.samples) {
    const oldTask = tasks.find((t) => t.id === old!.id);
    if (oldTask?.killing) {
      assert.ok(
        tasks.some((t) => t.id !== old!.id && t.state === "TASK_RUNNING"),
        "the old task is killed only once the new one runs",
      );
    }
  }
});

Deno.test("health checks gate a rollout: an unhealthy new task holds the old ones", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 300 });
  const healthCheck = {
    protocol: "HTTP",
    path: "/health",
    portIndex: 0,
    gracePeriodSeconds: 30,
    intervalSeconds: 0.05,
    timeoutSeconds: 0.5,
    maxConsecutiveFailures: 0,
  };
  await sim.api.deploy(app("/hc", { healthChecks: [healthCheck] }));
  await sim.api.waitForDeployments(10_000);
  const [old] = sim.api.tasks("/hc");
  assert.equal(old!.healthy, true);
  await sim.api.update("/hc", { env: { SIM_HEALTH_FAIL: "1" } });
  const fresh = await sim.api.waitFor(
    () => sim.api.tasks("/hc").find((t) => t.id !== old!.id && t.state === "TASK_RUNNING"),
  );
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(sim.api.deployments().length, 1, "still deploying");
  const now = sim.api.tasks("/hc");
  assert.ok(now.some((t) => t.id === old!.id && !t.killing), "old task kept");
  const app0 = ((await call(`${sim.leaderUrl}/v2/apps/hc`)).body as Json).app;
  const freshJson = app0.tasks.find((t: Json) => t.id === fresh.id);
  // Failures inside the grace period are not recorded.
  assert.equal(freshJson.healthCheckResults, undefined);
  assert.equal(app0.tasksHealthy, 1);

  const e = fresh.endpoints[0]!;
  await (await fetch(`http://${e.hostname}:${e.port}/_sim/health?fail=0`, { method: "POST" })).body
    ?.cancel();
  await sim.api.waitForDeployments(10_000);
  const done = sim.api.tasks("/hc");
  assert.deepEqual(done.map((t) => t.id), [fresh.id]);
});

Deno.test("scaling honours killSelection: YOUNGEST_FIRST keeps the oldest, OLDEST_FIRST the newest", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  for (const [id, selection] of [["/young", "YOUNGEST_FIRST"], ["/old", "OLDEST_FIRST"]]) {
    await sim.api.deploy(app(id!, { instances: 1, killSelection: selection }));
    const [first] = await sim.api.waitForRunning(id!);
    await sim.api.scale(id!, 3);
    await sim.api.waitForDeployments(10_000);
    const three = sim.api.tasks(id!).sort((a, b) => a.stagedAt.localeCompare(b.stagedAt));
    assert.equal(three.length, 3);
    await sim.api.scale(id!, 1);
    await sim.api.waitForDeployments(10_000);
    const [left] = sim.api.tasks(id!);
    if (selection === "YOUNGEST_FIRST") assert.equal(left!.id, first!.id);
    else assert.equal(left!.id, three.at(-1)!.id);
  }
});

Deno.test("a forced change cancels the running deployment with deployment_failed", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    const stuck = await sim.api.deploy(app("/f", { env: { SIM_STARTUP_DELAY_MS: "60000" } }));
    await assert.rejects(() => sim.api.update("/f", { instances: 0 }), /409/);
    const forced = await sim.api.update("/f", { instances: 0 }, { force: true });
    await rec.waitFor((e) => e.event === "deployment_success" && e.data.id === forced.deploymentId);
    const failed = rec.ofType("deployment_failed");
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.data.id, stuck.deploymentId);
    const types = rec.events.map((e) => e.event);
    assert.ok(types.indexOf("deployment_step_failure") < types.indexOf("deployment_failed"));
  } finally {
    await rec.close();
  }
});
