/**
 * Shape tests: the simulator's answers and events carry every field the real
 * Marathon payloads in tests/fixtures/sim/ carry, with the same JSON types.
 */
import assert from "node:assert/strict";
import type { SimCluster } from "../../src/sim/mod.ts";
import { app, assertSameShape, call, EventRecorder, fastCluster, sample } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const MAPS = { freeMaps: ["labels", "env"] };

/** A bridge app like marathon-lb's samples, with a Marathon HTTP health check. */
function bridgeApp(id: string, healthCheck: Record<string, unknown> = {}) {
  return app(id, {
    cmd: "python -m http.server 80",
    acceptedResourceRoles: ["*", "slave_public"],
    container: {
      type: "DOCKER",
      docker: { image: "python:3", forcePullImage: false },
      portMappings: [{ containerPort: 80, hostPort: 0, name: "web", protocol: "tcp" }],
    },
    networks: [{ mode: "container/bridge" }],
    env: { LANG: "C" },
    labels: { HAPROXY_GROUP: "external" },
    healthChecks: [{
      protocol: "HTTP",
      path: "/health",
      portIndex: 0,
      gracePeriodSeconds: 0.05,
      intervalSeconds: 0.05,
      timeoutSeconds: 0.5,
      maxConsecutiveFailures: 2,
      delaySeconds: 15,
      ...healthCheck,
    }],
  });
}

async function readinessApp(sim: SimCluster, id: string): Promise<void> {
  await sim.api.deploy(app(id, {
    portDefinitions: [{ port: 0, name: "http" }],
    env: { SIM_READY_AFTER_MS: "600000" },
    readinessChecks: [{
      name: "myReadyCheck",
      path: "/ready",
      portName: "http",
      intervalSeconds: 0.05,
      timeoutSeconds: 0.04,
      preserveLastResponse: true,
    }],
  }));
  await sim.api.waitFor(
    () => sim.api.tasks(id).some((t) => t.ready === false),
    10_000,
    "a readiness result",
  );
}

Deno.test("assertSameShape() reports missing fields and changed types, allows nullable ones", () => {
  const s = { a: 1, b: "x", c: null, d: [{ e: true }], f: { g: [] } };
  assertSameShape({ a: 2, b: "y", c: "now set", d: [{ e: false }], f: { g: [1] }, extra: 1 }, s);
  assert.throws(() => assertSameShape({ b: "y", c: null, d: [], f: { g: [] } }, s), /\.a: missing/);
  assert.throws(() => assertSameShape({ ...s, a: "1" }, s), /\.a: expected number, got string/);
  assert.throws(() => assertSameShape({ ...s, d: [{ e: 1 }] }, s), /\.d\[\]\.e: expected boolean/);
  assert.throws(() => assertSameShape({ ...s, d: [] }, s), /\.d: empty array/);
  assertSameShape({ ...s, labels: { any: "thing" } }, { labels: { k: "v" } }, MAPS);
});

Deno.test("apps, tasks, deployments, info and errors have Marathon's 1.5+ shapes", async () => {
  await using sim = await fastCluster();
  const url = sim.leaderUrl;
  await sim.api.deploy(bridgeApp("/shape/web"));
  await sim.api.waitFor(() => sim.api.tasks("/shape/web")[0]?.healthy, 10_000, "health");
  await sim.api.waitForDeployments();
  await sim.api.deploy(app("/shape/crash", { backoffSeconds: 0.05 }));
  const [victim] = await sim.api.waitForRunning("/shape/crash");
  sim.api.crashTask(victim!.id);
  await sim.api.waitFor(() => sim.api.tasks("/shape/crash").some((t) => t.id !== victim!.id));
  await sim.api.waitForRunning("/shape/crash");
  await sim.api.waitForDeployments();

  const web = (await call(`${url}/v2/apps?embed=apps.tasks&id=web`)).body as Json;
  assertSameShape(web, await sample("apps/marathon-lb_marathon15_apps.json"), MAPS);
  assertSameShape(web, await sample("apps/marathon-lb_zdd_app_blue_marathon1.5.json"), MAPS);
  const stats = (await call(`${url}/v2/apps?embed=apps.taskStats&id=web`)).body;
  assertSameShape(stats, await sample("apps/go-marathon_GET_v2_apps_embed_taskStats.json"));
  const crash = (await call(`${url}/v2/apps/shape/crash`)).body as Json;
  assertSameShape(
    crash.app.lastTaskFailure,
    ((await sample("apps/go-marathon_GET_v2_apps_fake-app.json")) as Json).app.lastTaskFailure,
  );
  assertSameShape(
    (await call(`${url}/v2/tasks`)).body,
    await sample("tasks/marathon-docs_tasks.json"),
  );
  assertSameShape(
    (await call(`${url}/v2/info`)).body,
    await sample("info/marathon-docs_info_1.5.json"),
  );
  assertSameShape(
    (await call(`${url}/v2/leader`)).body,
    await sample("info/go-marathon_GET_v2_leader.json"),
  );

  await readinessApp(sim, "/shape/ready");
  const readiness = (await call(`${url}/v2/apps?embed=apps.readiness&id=ready`)).body;
  assertSameShape(readiness, await sample("apps/go-marathon_GET_v2_apps_embed_readiness.json"));
  const deployments = (await call(`${url}/v2/deployments`)).body;
  assertSameShape(deployments, await sample("deployments/marathon-docs_deployments.json"), {
    ignore: ["[].affectedPods"],
  });
  const restart = (await call(`${url}/v2/apps/shape/web/restart`, { method: "POST" })).body;
  assertSameShape(restart, await sample("deployments/marathon-docs_deployments_result.json"));

  // Errors.
  const err = async (res: Promise<{ body: unknown }>, file: string) =>
    assertSameShape((await res).body, await sample(`errors/${file}`));
  await err(
    call(`${url}/v2/apps`, { method: "POST", json: { id: 1, cmd: "x" } }),
    "400_invalid_json.json",
  );
  await err(call(`${url}/v2/apps/not_existent`), "404_app_not_found.json");
  await err(
    call(`${url}/v2/apps/shape/ready`, { method: "PUT", json: { instances: 2 } }),
    "409_app_locked.json",
  );
  await err(
    call(`${url}/v2/apps`, {
      method: "POST",
      json: app("/x", { upgradeStrategy: { minimumHealthCapacity: 2 } }),
    }),
    "422_object_not_valid.json",
  );
  await sim.api.remove("/shape/ready", { force: true });
});

Deno.test("error answers of auth and elections have Marathon's shapes", async () => {
  await using sim = await fastCluster({ members: 2, auth: { token: "t" }, noLeaderMs: 300 });
  const denied = await call(`${sim.leaderUrl}/v2/apps`);
  assertSameShape(denied.body, await sample("errors/401_unauthorized.json"));
  const election = sim.api.abdicate();
  const noLeader = await call(`${sim.urls[1]}/v2/leader`, {
    headers: { Authorization: "token=t" },
  });
  assert.equal(noLeader.status, 404);
  assertSameShape(noLeader.body, await sample("errors/404_no_leader.json"));
  await election;
});

Deno.test("events have the shapes of real Marathon events", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  const rec = await EventRecorder.open(sim.leaderUrl);
  try {
    await sim.api.deploy(bridgeApp("/shape/web"));
    const [task] = await sim.api.waitForRunning("/shape/web");
    await sim.api.waitFor(() => sim.api.tasks("/shape/web")[0]?.healthy, 10_000, "health");
    const e = task!.endpoints[0]!;
    await (await fetch(`http://${e.hostname}:${e.port}/_sim/health?fail=1`, { method: "POST" }))
      .body?.cancel();
    await rec.waitFor((ev) => ev.event === "unhealthy_instance_kill_event");
    await readinessApp(sim, "/shape/ready");
    await sim.api.remove("/shape/ready", { force: true });
    await rec.waitFor((ev) => ev.event === "app_terminated_event");

    const first = (type: string) => {
      const hit = rec.ofType(type)[0];
      assert.ok(hit, `no ${type} recorded`);
      return hit.data;
    };
    const check = async (type: string, file: string, options = {}) =>
      assertSameShape(first(type), await sample(`events/${file}`), options);

    const running = rec.ofType("status_update_event").find((ev) =>
      ev.data.taskStatus === "TASK_RUNNING"
    )!;
    assertSameShape(running.data, await sample("events/status_update_event.real-1.4.json"));
    await check("instance_changed_event", "instance_changed_event.real-1.4.json");
    await check("api_post_event", "api_post_event.real-1.4.json", {
      // The 1.4 sample's appDefinition is the legacy shape; compared in the legacy test.
      ignore: [".appDefinition"],
    });
    await check("health_status_changed_event", "health_status_changed_event.marathon-docs.json");
    await check("failed_health_check_event", "failed_health_check_event.marathon-docs.json");
    await check(
      "unhealthy_instance_kill_event",
      "unhealthy_instance_kill_event.marathon-docs.json",
    );
    await check(
      "instance_health_changed_event",
      "instance_health_changed_event.marathon-docs.json",
    );
    const heavy = { ignore: [".plan.original", ".plan.target"] };
    await check("deployment_info", "deployment_info.mock-1.4.json", heavy);
    await check("deployment_step_success", "deployment_info.mock-1.4.json", heavy);
    await check("deployment_success", "deployment_success.mock-1.4.json", heavy);
    await check("deployment_failed", "deployment_failed.marathon-docs.json");
    await check("app_terminated_event", "app_terminated_event.marathon-docs.json");
    await check("event_stream_attached", "event_stream_attached.real-1.4.json");
    await check("group_change_success", "group_change_success.real-1.4.json");
  } finally {
    await rec.close();
  }
});

Deno.test("legacyNetworking answers in the pre-1.5 shapes of real payloads", async () => {
  await using sim = await fastCluster({ legacyNetworking: true });
  const rec = await EventRecorder.open(sim.leaderUrl, { eventTypes: ["api_post_event"] });
  try {
    await sim.api.deploy(bridgeApp("/shape/web", { protocol: "HTTP" }));
    await sim.api.waitFor(() => sim.api.tasks("/shape/web")[0]?.healthy, 10_000, "health");
    await sim.api.waitForDeployments();
    const apps = (await call(`${sim.leaderUrl}/v2/apps?embed=apps.tasks`)).body as Json;
    assertSameShape(apps, await sample("apps/marathon-lb_zdd_app_blue.json"), {
      ...MAPS,
      // Pre-1.4 health results keyed by taskId; 1.4 (simulated here) uses instanceId.
      ignore: [".apps[].tasks[].healthCheckResults[].taskId"],
    });
    const result = apps.apps[0].tasks[0].healthCheckResults[0];
    assert.match(result.instanceId, /^shape_web\.marathon-[0-9a-f-]{36}$/);
    const post = await rec.waitFor((e) => e.event === "api_post_event");
    assertSameShape(post.data, await sample("events/api_post_event.real-1.4.json"), {
      ...MAPS,
      // The sample's bridge app had no port mappings, so 1.4 filled in a default port
      // definition; with mappings (ours) the definitions are empty.
      ignore: [".appDefinition.portDefinitions"],
    });
  } finally {
    await rec.close();
  }
});
