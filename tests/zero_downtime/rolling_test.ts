import { equal, ok } from "node:assert/strict";
import { describeFailures, startLoad } from "../_helpers/load.ts";
import { APP, startStack, zddApp } from "./_stack.ts";

Deno.test("rolling restart of an app without a termination handler: 0 failed GETs", async () => {
  await using stack = await startStack({
    app: zddApp({ env: { SIM_ON_SIGTERM: "exit", SIM_READY_AFTER_MS: "1000" } }),
  });
  const before = new Set(stack.sim.api.tasks(APP).map((t) => t.id));
  const load = startLoad(stack.send, { rps: 200 });
  await stack.sim.api.restart(APP);
  await stack.sim.api.waitForDeployments(30_000);
  await new Promise((r) => setTimeout(r, 500));
  const stats = await load.stop();
  const after = stack.sim.api.tasks(APP).map((t) => t.id);
  ok(after.every((id) => !before.has(id)), "every task was replaced");
  ok(after.some((id) => stats.answeredBy.has(id)), "new tasks took traffic");
  ok(stats.sent.GET > 150, describeFailures(stats));
  equal(stats.failed("GET"), 0, describeFailures(stats));
});

Deno.test("rolling restart with the recommended termination handler: 0 failed requests of any method", async () => {
  await using stack = await startStack({
    app: zddApp({ env: { SIM_ON_SIGTERM: "drain:1000", SIM_READY_AFTER_MS: "1000" } }),
  });
  const load = startLoad(stack.send, { rps: 200, postEvery: 3 });
  await stack.sim.api.restart(APP);
  await stack.sim.api.waitForDeployments(30_000);
  await new Promise((r) => setTimeout(r, 500));
  const stats = await load.stop();
  ok(stats.sent.POST > 100, describeFailures(stats));
  equal(stats.failed(), 0, describeFailures(stats));
});
