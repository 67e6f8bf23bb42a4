import assert from "node:assert/strict";
import { cluster, simApp, startLivePacer, until } from "./_live.ts";

const READY_AFTER_MS = 500;

function readyApp(version: string): Record<string, unknown> {
  return simApp("/rolling", {
    instances: 2,
    readinessChecks: [{
      name: "ready",
      protocol: "HTTP",
      path: "/ready",
      portName: "http",
      intervalSeconds: 0.05,
      timeoutSeconds: 0.04,
      httpStatusCodesForReady: [200],
    }],
    // Every task answers /ready with 503 for its first 500 ms.
    // Old tasks keep serving 300 ms after SIGTERM, so only readiness can make a request fail.
    env: { SIM_READY_AFTER_MS: String(READY_AFTER_MS), SIM_ON_SIGTERM: "drain:300", V: version },
    taskKillGracePeriodSeconds: 1,
  });
}

/**
 * Restarts /rolling into a new version and asks `/ready` through Pacer until the deployment is
 * over. Each answer comes from the task itself: 503 means Pacer sent a request to an unready task.
 */
async function rollAndAsk(respectReadinessChecks: boolean) {
  await using sim = await cluster({ hostPortRange: [36600, 36699] });
  await sim.api.deploy(readyApp("1"));
  await sim.api.waitForDeployments();
  const oldTasks = new Set(sim.api.tasks("/rolling").map((t) => t.id));
  await using live = await startLivePacer(sim, {
    provider: { respectReadinessChecks, resyncInterval: "1h" },
    throttleMs: 0,
  });
  await until(() => live.servers("rolling").length === 2, "the old tasks routed");

  await sim.api.update("/rolling", readyApp("2"));
  const answers: { status: number; taskId: string; ready: unknown }[] = [];
  while (sim.api.deployments().length > 0) {
    const a = await live.ask("rolling", "/ready");
    answers.push({ status: a.status, taskId: a.taskId, ready: a.body?.ready });
  }
  // A few more once the deployment is over: the new version now takes all the traffic.
  for (let i = 0; i < 4; i++) {
    const a = await live.ask("rolling", "/ready");
    answers.push({ status: a.status, taskId: a.taskId, ready: a.body?.ready });
  }
  return { answers, oldTasks, newTasks: new Set(sim.api.tasks("/rolling").map((t) => t.id)) };
}

Deno.test("respectReadinessChecks: during a rolling restart no request reaches a task before it is ready", async () => {
  const { answers, oldTasks, newTasks } = await rollAndAsk(true);
  const unready = answers.filter((a) => a.status !== 200 || a.ready !== true);
  assert.deepEqual(unready, [], "no answer from an unready task");
  assert.ok(answers.length > 20, `${answers.length} requests during the deployment`);
  assert.ok(answers.some((a) => oldTasks.has(a.taskId)), "old tasks served meanwhile");
  assert.ok(answers.some((a) => newTasks.has(a.taskId)), "new tasks served once ready");
});

Deno.test("without respectReadinessChecks the same restart sends requests to unready tasks", async () => {
  const { answers, newTasks } = await rollAndAsk(false);
  const unready = answers.filter((a) => a.status === 503 && newTasks.has(a.taskId));
  assert.ok(unready.length > 0, "the check above can fail: new tasks answered 503 meanwhile");
});
