import assert from "node:assert/strict";
import { app, call, fastCluster } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

/** Fetches a task through an address and returns the task id it reports. */
async function whoAnswers(host: string, port: number): Promise<string> {
  const res = await fetch(`http://${host}:${port}/whoami`);
  const body = await res.json();
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("x-sim-task-id"), body.taskId);
  return body.taskId;
}

async function refused(host: string, port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: host, port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

// deno-lint-ignore no-explicit-any
async function tasksOf(url: string, id: string): Promise<any[]> {
  const res = await call(`${url}/v2/apps${id}`);
  return (res.body as Json).app.tasks;
}

Deno.test("host mode: task.host:task.ports reaches the task on its agent's address", async () => {
  await using sim = await fastCluster({ hostPortRange: [34100, 34199] });
  await sim.api.deploy(app("/host", {
    instances: 2,
    portDefinitions: [{ port: 0, name: "http" }, { port: 0, name: "admin" }],
  }));
  await sim.api.waitForRunning("/host");
  const tasks = await tasksOf(sim.leaderUrl, "/host");
  assert.equal(tasks.length, 2);
  assert.notEqual(tasks[0].host, tasks[1].host, "spread over agents");
  for (const t of tasks) {
    assert.match(t.host, /^127\.0\.0\.([2-9])$/);
    assert.equal(t.ports.length, 2);
    for (const p of t.ports) assert.ok(p >= 34100 && p <= 34199, `port ${p} in range`);
    assert.deepEqual(t.ipAddresses, [{ ipAddress: t.host, protocol: "IPv4" }]);
    assert.equal(await whoAnswers(t.host, t.ports[0]), t.id);
    assert.equal(await whoAnswers(t.host, t.ports[1]), t.id);
  }
});

Deno.test("host mode with requirePorts binds the service port itself", async () => {
  await using sim = await fastCluster({ hostPortRange: [34200, 34299] });
  await sim.api.deploy(app("/fixed", { requirePorts: true, portDefinitions: [{ port: 34250 }] }));
  await sim.api.waitForRunning("/fixed");
  const [t] = await tasksOf(sim.leaderUrl, "/fixed");
  assert.deepEqual(t.ports, [34250]);
  assert.equal(await whoAnswers(t.host, 34250), t.id);
});

Deno.test("container/bridge: host port on the agent, unreachable Docker IP in ipAddresses", async () => {
  await using sim = await fastCluster({ hostPortRange: [34300, 34399] });
  await sim.api.deploy(app("/bridge", {
    container: {
      type: "DOCKER",
      docker: { image: "nginx" },
      portMappings: [{ containerPort: 80, hostPort: 0, name: "http" }],
    },
    networks: [{ mode: "container/bridge" }],
  }));
  await sim.api.waitForRunning("/bridge");
  const [t] = await tasksOf(sim.leaderUrl, "/bridge");
  assert.match(t.host, /^127\.0\.0\.\d+$/);
  assert.equal(t.ports.length, 1);
  assert.match(t.ipAddresses[0].ipAddress, /^172\.17\.\d+\.\d+$/);
  assert.equal(await whoAnswers(t.host, t.ports[0]), t.id);
  assert.ok(await refused(t.host, 80), "nothing on the container port at the agent");
});

Deno.test("container (IP-per-task) without hostPort: ipAddresses[0]:containerPort, no task.ports", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/ippc", {
    instances: 2,
    container: { type: "MESOS", portMappings: [{ containerPort: 8080, name: "http" }] },
    networks: [{ mode: "container", name: "dcos" }],
  }));
  await sim.api.waitForRunning("/ippc");
  const tasks = await tasksOf(sim.leaderUrl, "/ippc");
  const ips = new Set<string>();
  for (const t of tasks) {
    assert.deepEqual(t.ports, []);
    const ip = t.ipAddresses[0].ipAddress;
    assert.match(ip, /^127\.0\.(\d+)\.(\d+)$/);
    assert.ok(!ip.startsWith("127.0.0."), "own address, not an agent's");
    ips.add(ip);
    assert.equal(await whoAnswers(ip, 8080), t.id);
    assert.ok(await refused(t.host, 8080), "nothing on the agent");
  }
  assert.equal(ips.size, 2, "one address per task");
  const def = ((await call(`${sim.leaderUrl}/v2/apps/ippc`)).body as Json).app;
  assert.deepEqual(def.networks, [{ mode: "container", name: "dcos" }]);
  assert.equal(def.container.portMappings[0].hostPort, undefined);
});

Deno.test("container with a hostPort: reachable on task.host:port and on its own IP", async () => {
  await using sim = await fastCluster({ hostPortRange: [34400, 34499] });
  await sim.api.deploy(app("/ippc-hp", {
    container: {
      type: "DOCKER",
      docker: { image: "x" },
      portMappings: [{ containerPort: 9000, hostPort: 0, name: "http" }],
    },
    networks: [{ mode: "container" }],
  }));
  await sim.api.waitForRunning("/ippc-hp");
  const [t] = await tasksOf(sim.leaderUrl, "/ippc-hp");
  assert.equal(t.ports.length, 1);
  assert.ok(t.ports[0] >= 34400 && t.ports[0] <= 34499);
  assert.equal(await whoAnswers(t.host, t.ports[0]), t.id);
  assert.equal(await whoAnswers(t.ipAddresses[0].ipAddress, 9000), t.id);
  const def = ((await call(`${sim.leaderUrl}/v2/apps/ippc-hp`)).body as Json).app;
  assert.deepEqual(def.networks, [{ mode: "container", name: "dcos" }], "default network name");
});

Deno.test("legacy input is normalized: docker BRIDGE, ipAddress discovery, top-level ports", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/legacy-bridge", {
    container: {
      type: "DOCKER",
      docker: {
        image: "nginx",
        network: "BRIDGE",
        portMappings: [{ containerPort: 80, hostPort: 0, servicePort: 0, protocol: "tcp" }],
      },
    },
  }));
  await sim.api.deploy(app("/legacy-ippc", {
    ipAddress: {
      networkName: "dcos",
      discovery: { ports: [{ number: 7000, name: "api", protocol: "tcp" }] },
    },
  }));
  await sim.api.deploy(app("/legacy-ports", { ports: [0, 0] }));
  await sim.api.waitForDeployments(10_000);
  const apps = ((await call(`${sim.leaderUrl}/v2/apps?embed=apps.tasks`)).body as Json)
    .apps as Json[];
  const byId = Object.fromEntries(apps.map((a) => [a.id, a]));

  const bridge = byId["/legacy-bridge"];
  assert.deepEqual(bridge.networks, [{ mode: "container/bridge" }]);
  assert.equal(bridge.container.docker.network, undefined, "1.5 output drops docker.network");
  assert.equal(bridge.container.portMappings[0].containerPort, 80);
  assert.equal(bridge.container.portMappings[0].hostPort, 0);
  assert.ok(bridge.container.portMappings[0].servicePort >= 10000);
  assert.equal(bridge.ports, undefined);
  assert.equal(bridge.ipAddress, undefined);
  const bt = bridge.tasks[0];
  assert.equal(await whoAnswers(bt.host, bt.ports[0]), bt.id);

  const ippc = byId["/legacy-ippc"];
  assert.deepEqual(ippc.networks, [{ mode: "container", name: "dcos" }]);
  assert.equal(ippc.container.type, "MESOS");
  assert.equal(ippc.container.portMappings[0].containerPort, 7000);
  assert.equal(ippc.container.portMappings[0].name, "api");
  const it = ippc.tasks[0];
  assert.deepEqual(it.ports, []);
  assert.equal(await whoAnswers(it.ipAddresses[0].ipAddress, 7000), it.id);

  const ports = byId["/legacy-ports"];
  assert.deepEqual(ports.networks, [{ mode: "host" }]);
  assert.equal(ports.portDefinitions.length, 2);
  assert.equal(ports.tasks[0].ports.length, 2);
});

Deno.test("legacyNetworking output: ports, ipAddress, docker.network and docker.portMappings", async () => {
  await using sim = await fastCluster({ legacyNetworking: true });
  await sim.api.deploy(app("/b", {
    instances: 0,
    container: { type: "DOCKER", docker: { image: "x" }, portMappings: [{ containerPort: 80 }] },
    networks: [{ mode: "container/bridge" }],
  }));
  await sim.api.deploy(app("/i", {
    container: { type: "MESOS", portMappings: [{ containerPort: 8080, name: "http" }] },
    networks: [{ mode: "container", name: "overlay" }],
  }));
  await sim.api.deploy(app("/h", { instances: 0, portDefinitions: [{ port: 0, name: "web" }] }));
  await sim.api.waitForDeployments();
  const apps = ((await call(`${sim.leaderUrl}/v2/apps?embed=apps.tasks`)).body as Json)
    .apps as Json[];
  const byId = Object.fromEntries(apps.map((a) => [a.id, a]));
  for (const a of apps) assert.equal(a.networks, undefined, `${a.id} has no networks`);

  const b = byId["/b"];
  assert.equal(b.container.docker.network, "BRIDGE");
  assert.equal(b.container.docker.portMappings[0].containerPort, 80);
  assert.equal(b.container.docker.portMappings[0].hostPort, 0);
  assert.deepEqual(b.ports, [b.container.docker.portMappings[0].servicePort]);
  assert.equal(b.ipAddress, null);

  const i = byId["/i"];
  assert.equal(i.ipAddress.networkName, "overlay");
  assert.deepEqual(i.ipAddress.discovery.ports, [
    { number: 8080, name: "http", protocol: "tcp", labels: {} },
  ]);
  const it = i.tasks[0];
  assert.equal(await whoAnswers(it.ipAddresses[0].ipAddress, 8080), it.id);
  assert.match(it.id, /^i\.[0-9a-f-]{36}$/, "1.4 task id format");

  const h = byId["/h"];
  assert.equal(h.container, null);
  assert.deepEqual(h.ports, [h.portDefinitions[0].port]);
  assert.equal(h.portDefinitions[0].name, "web");
});

Deno.test("host ports come from the configured range and skip ports already bound", async () => {
  // Two ports in the range; one is taken by someone else on every agent address.
  const busy = [2, 3].map((n) => Deno.listen({ hostname: `127.0.0.${n}`, port: 34500 }));
  try {
    await using sim = await fastCluster({ hostPortRange: [34500, 34501], agents: 2 });
    await sim.api.deploy(app("/a", { instances: 2 }));
    await sim.api.waitForRunning("/a");
    for (const t of sim.api.tasks("/a")) assert.deepEqual(t.ports, [34501]);
  } finally {
    busy.forEach((l) => l.close());
  }
});

Deno.test("service ports are unique across apps and a conflicting fixed one is refused", async () => {
  await using sim = await fastCluster({ servicePortRange: [10100, 10103] });
  await sim.api.deploy(app("/a", { instances: 0, portDefinitions: [{ port: 0 }, { port: 0 }] }));
  await sim.api.deploy(app("/b", { instances: 0, portDefinitions: [{ port: 0 }, { port: 0 }] }));
  const apps = ((await call(`${sim.leaderUrl}/v2/apps`)).body as Json).apps as Json[];
  const ports = apps.flatMap((a) => a.portDefinitions.map((p: Json) => p.port));
  assert.deepEqual([...new Set(ports)].sort(), [10100, 10101, 10102, 10103]);
  const clash = await call(`${sim.leaderUrl}/v2/apps`, {
    method: "POST",
    json: app("/c", { portDefinitions: [{ port: ports[0] }] }),
  });
  assert.equal(clash.status, 422);
  assert.match(JSON.stringify(clash.body), /conflicts with a service port/);
});
