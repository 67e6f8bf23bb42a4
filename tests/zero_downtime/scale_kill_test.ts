import { equal, ok } from "node:assert/strict";
import { describeFailures, startLoad } from "../_helpers/load.ts";
import { APP, startStack, zddApp } from "./_stack.ts";

Deno.test("scale down 3 → 1, then kill a task with DELETE: 0 failed GETs", async () => {
  await using stack = await startStack({ app: zddApp({ env: { SIM_ON_SIGTERM: "exit" } }) });
  const load = startLoad(stack.send, { rps: 200 });
  await new Promise((r) => setTimeout(r, 300));
  await stack.sim.api.scale(APP, 1);
  await stack.sim.api.waitForDeployments(20_000);
  await stack.sim.api.scale(APP, 2);
  await stack.sim.api.waitForDeployments(20_000);
  await stack.sim.api.waitForRunning(APP, 2);
  const victim = stack.sim.api.tasks(APP)[0]!;
  await stack.sim.api.killTask(APP, victim.id);
  await new Promise((r) => setTimeout(r, 800));
  const stats = await load.stop();
  ok(stats.sent.GET > 120, describeFailures(stats));
  equal(stats.failed("GET"), 0, describeFailures(stats));
});

Deno.test("a task crashing (SIGKILL) while serving: 0 failed GETs, retried on another server", async () => {
  await using stack = await startStack({
    app: zddApp({ env: { SIM_ON_SIGTERM: "exit", SIM_RESPONSE_DELAY_MS: "20" } }),
  });
  const load = startLoad(stack.send, { rps: 200 });
  await new Promise((r) => setTimeout(r, 300));
  const victim = stack.sim.api.tasks(APP)[1]!;
  stack.sim.api.crashTask(victim.id);
  await new Promise((r) => setTimeout(r, 1500));
  const stats = await load.stop();
  ok((stats.answeredBy.get(victim.id) ?? 0) > 0, "the crashed task was serving before");
  ok(stats.sent.GET > 150, describeFailures(stats));
  equal(stats.failed("GET"), 0, describeFailures(stats));
});
