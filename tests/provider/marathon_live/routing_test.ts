import assert from "node:assert/strict";
import { askMany, cluster, simApp, startLivePacer, until } from "./_live.ts";

Deno.test("start-up: host, bridge and container (IP-per-task) apps reach their own task processes", async () => {
  await using sim = await cluster({ hostPortRange: [35100, 35199] });
  await sim.api.deploy(simApp("/host", { instances: 2 }));
  await sim.api.deploy(simApp("/bridge", {
    portDefinitions: undefined,
    container: {
      type: "DOCKER",
      docker: { image: "nginx" },
      portMappings: [{ containerPort: 80, hostPort: 0, name: "http" }],
    },
    networks: [{ mode: "container/bridge" }],
  }));
  await sim.api.deploy(simApp("/ippc", {
    portDefinitions: undefined,
    container: { type: "MESOS", portMappings: [{ containerPort: 8080, name: "http" }] },
    networks: [{ mode: "container", name: "dcos" }],
  }));
  await sim.api.waitForDeployments();
  await using live = await startLivePacer(sim);

  await until(() => live.routers().length === 3, "three Marathon routers");
  assert.deepEqual(live.routers(), ["bridge@marathon", "host@marathon", "ippc@marathon"]);
  for (const id of ["/host", "/bridge", "/ippc"]) {
    const expected = sim.api.tasks(id).map((t) => t.id).sort();
    const seen = [...new Set(await askMany(live, id.slice(1), 6))].sort();
    assert.deepEqual(seen, expected, `${id} answered by its own tasks`);
  }
  // The container app is dialled on its own IP and container port, the bridge app on the agent.
  const ippc = sim.api.tasks("/ippc")[0]!;
  assert.deepEqual(live.servers("ippc"), [`http://${ippc.ipAddresses[0]!.ipAddress}:8080`]);
  const bridge = sim.api.tasks("/bridge")[0]!;
  assert.deepEqual(live.servers("bridge"), [`http://${bridge.host}:${bridge.ports[0]}`]);
});

Deno.test("a newly deployed app is routed; scaling it 1 → 3 sends traffic to all three tasks", async () => {
  await using sim = await cluster({ hostPortRange: [35200, 35299] });
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  assert.equal((await live.ask("late")).status, 404);

  await sim.api.deploy(simApp("/late"));
  const [first] = await sim.api.waitForRunning("/late");
  await until(async () => (await live.ask("late")).taskId === first!.id, "/late to be routed");

  await sim.api.scale("/late", 3);
  const tasks = await sim.api.waitForRunning("/late", 3);
  const expected = tasks.map((t) => t.id).sort();
  await until(() => live.servers("late").length === 3, "three servers");
  const seen = [...new Set(await askMany(live, "late", 9))].sort();
  assert.deepEqual(seen, expected);
  // Events, not the periodic resync (1h here), carried the changes.
  assert.equal(live.logged(/event stream connected/).length, 1);
});

Deno.test("an app deleted from Marathon loses its routes; the others stay", async () => {
  await using sim = await cluster({ hostPortRange: [35300, 35399] });
  await sim.api.deploy(simApp("/keep"));
  await sim.api.deploy(simApp("/gone"));
  await sim.api.waitForDeployments();
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  await until(() => live.routers().length === 2, "two routers");

  await sim.api.remove("/gone");
  await until(() => live.routers().length === 1, "/gone's router to go");
  assert.deepEqual(live.routers(), ["keep@marathon"]);
  assert.equal((await live.ask("gone")).status, 404);
  assert.equal((await live.ask("keep")).status, 200);
});
