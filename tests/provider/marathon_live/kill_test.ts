import assert from "node:assert/strict";
import { pidAlive } from "../../_helpers/sim.ts";
import { askMany, cluster, simApp, startLivePacer, until } from "./_live.ts";

Deno.test("TASK_KILLING takes a task out of rotation before its process dies", async () => {
  await using sim = await cluster({ hostPortRange: [35400, 35499], taskKilling: true });
  await sim.api.deploy(simApp("/k", {
    instances: 2,
    // The process keeps serving 1.5 s after SIGTERM (Traefik's recommended handler).
    env: { SIM_ON_SIGTERM: "drain:1500" },
    taskKillGracePeriodSeconds: 5,
  }));
  const [victim, survivor] = await sim.api.waitForRunning("/k");
  // No resync and no throttle luck: only the event can remove it in time.
  await using live = await startLivePacer(sim, {
    provider: { resyncInterval: "1h" },
    throttleMs: 2_000,
  });
  await until(() => live.servers("k").length === 2, "both servers");
  const victimUrl = `http://${victim!.host}:${victim!.ports[0]}`;

  await sim.api.killTask("/k", victim!.id);
  // Within 1 s although the throttle (2 s, just used by the first configuration) holds
  // ordinary updates back: only the urgent fast path can do that.
  await until(() => !live.servers("k").includes(victimUrl), "the victim to leave rotation", 1_000);
  assert.ok(pidAlive(victim!.pid!), "the process is still alive (draining)");
  assert.equal(
    sim.api.tasks("/k").find((t) => t.id === victim!.id)?.state,
    "TASK_KILLING",
    "Marathon still lists it as TASK_KILLING",
  );
  const ids = await askMany(live, "k", 10);
  assert.ok(!ids.includes(victim!.id), `no request reaches the killed task: ${ids.join(", ")}`);
  assert.ok(ids.includes(survivor!.id));
  assert.ok(ids.every((id) => id !== ""), "every request was answered by a task");
});

Deno.test("a kill without TASK_KILLING (agent maintenance) removes the task once Marathon reports it", async () => {
  await using sim = await cluster({ hostPortRange: [35500, 35599], taskKilling: false });
  await sim.api.deploy(simApp("/hard", { instances: 2 }));
  const [victim] = await sim.api.waitForRunning("/hard");
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  await until(() => live.servers("hard").length === 2, "both servers");
  const victimUrl = `http://${victim!.host}:${victim!.ports[0]}`;

  await sim.api.killTask("/hard", victim!.id, { hard: true, scale: true });
  await until(() => !live.servers("hard").includes(victimUrl), "the victim to leave rotation");
  const ids = await askMany(live, "hard", 6);
  assert.ok(!ids.includes(victim!.id));
  assert.equal(new Set(ids).size, 1, "the remaining task answers everything");
});

Deno.test("TASK_UNREACHABLE takes a task out of rotation although it still answers, until its agent returns", async () => {
  await using sim = await cluster({ hostPortRange: [36800, 36899], taskKilling: true });
  await sim.api.deploy(simApp("/part", {
    instances: 2,
    unreachableStrategy: { inactiveAfterSeconds: 60, expungeAfterSeconds: 120 },
  }));
  const [cut, other] = await sim.api.waitForRunning("/part");
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  await until(() => live.servers("part").length === 2, "both servers");
  const cutUrl = `http://${cut!.host}:${cut!.ports[0]}`;

  // Marathon lost sight of the agent; the process still answers (marathon-lb would keep it).
  sim.api.partitionAgent(cut!.host);
  await until(() => !live.servers("part").includes(cutUrl), "the unreachable task to leave");
  assert.equal((await (await fetch(`${cutUrl}/`)).json()).taskId, cut!.id);
  const during = await askMany(live, "part", 6);
  assert.deepEqual(new Set(during), new Set([other!.id]), "only the reachable task answers");

  // The agent is back before inactiveAfterSeconds: the task runs on and is routed again.
  sim.api.reconnectAgent(cut!.host);
  await until(() => live.servers("part").includes(cutUrl), "the task to return");
  const after = await askMany(live, "part", 6);
  assert.deepEqual(new Set(after), new Set([cut!.id, other!.id]));
});
