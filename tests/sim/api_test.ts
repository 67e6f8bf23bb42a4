import assert from "node:assert/strict";
import { app, call, fastCluster } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("GET /ping answers pong as text, JSON or 204 depending on Accept", async () => {
  await using sim = await fastCluster();
  const url = `${sim.leaderUrl}/ping`;
  const text = await call(url);
  assert.equal(text.status, 200);
  assert.equal(text.text, "pong");
  assert.match(text.headers.get("content-type")!, /^text\/plain/);
  const json = await call(url, { headers: { Accept: "application/json" } });
  assert.equal(json.status, 200);
  assert.equal(json.text, '"pong"');
  const none = await call(url, { headers: { Accept: "image/png" } });
  assert.equal(none.status, 204);
});

Deno.test("every response carries the cache-control trio and the leader header", async () => {
  await using sim = await fastCluster();
  for (const path of ["/ping", "/v2/apps", "/v2/info", "/v2/leader", "/v2/apps/missing", "/nope"]) {
    const res = await call(`${sim.leaderUrl}${path}`);
    assert.equal(res.headers.get("cache-control"), "no-cache, no-store, must-revalidate", path);
    assert.equal(res.headers.get("pragma"), "no-cache", path);
    assert.equal(res.headers.get("expires"), "0", path);
    assert.equal(res.headers.get("x-marathon-leader"), sim.leaderUrl, path);
  }
});

Deno.test("GET /v2/info and /v2/leader describe the leader and the task_killing feature", async () => {
  await using sim = await fastCluster({ taskKilling: true });
  const host = sim.leaderUrl.replace("http://", "");
  const info = (await call(`${sim.leaderUrl}/v2/info`)).body as Json;
  assert.equal(info.name, "marathon");
  assert.equal(info.leader, host);
  assert.equal(info.elected, true);
  assert.equal(info.http_config.http_port, Number(host.split(":")[1]));
  assert.deepEqual(info.marathon_config.features, ["task_killing"]);
  sim.api.setTaskKilling(false);
  const off = (await call(`${sim.leaderUrl}/v2/info`)).body as Json;
  assert.deepEqual(off.marathon_config.features, []);
  const leader = await call(`${sim.leaderUrl}/v2/leader`);
  assert.deepEqual(leader.body, { leader: host });
});

Deno.test("GET /v2/info on a cluster started without task_killing lists no features", async () => {
  await using sim = await fastCluster({ taskKilling: false, legacyNetworking: true });
  const info = (await call(`${sim.leaderUrl}/v2/info`)).body as Json;
  assert.deepEqual(info.marathon_config.features, []);
  assert.equal(info.version, "1.4.12");
});

Deno.test("POST /v2/apps creates an app: 201, Location, deployment header, AppInfo body", async () => {
  await using sim = await fastCluster();
  const res = await call(`${sim.leaderUrl}/v2/apps`, {
    method: "POST",
    json: app("group/web", { instances: 0, labels: { a: "b" } }),
  });
  assert.equal(res.status, 201);
  const body = res.body as Json;
  assert.equal(body.id, "/group/web");
  assert.equal(res.headers.get("location"), "/v2/apps/group/web");
  const depId = res.headers.get("marathon-deployment-id");
  assert.match(depId!, /^[0-9a-f-]{36}$/);
  assert.deepEqual(body.deployments, [{ id: depId }]);
  assert.deepEqual(body.tasks, []);
  assert.equal(body.tasksRunning, 0);
  assert.match(body.version, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepEqual(body.labels, { a: "b" });
  // Defaults a client would see.
  assert.deepEqual(body.networks, [{ mode: "host" }]);
  assert.equal(body.portDefinitions.length, 1);
  assert.ok(body.portDefinitions[0].port >= 10000 && body.portDefinitions[0].port <= 20000);
  assert.deepEqual(body.upgradeStrategy, { minimumHealthCapacity: 1, maximumOverCapacity: 1 });

  const dup = await call(`${sim.leaderUrl}/v2/apps`, { method: "POST", json: app("/group/web") });
  assert.equal(dup.status, 409);
  assert.match((dup.body as Json).message, /already exists/);
});

Deno.test("GET /v2/apps embeds: counts and deployments always, tasks brings deployments", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/a", { instances: 0 }));
  await sim.api.waitForDeployments();
  const keys = async (query: string) => {
    const res = await call(`${sim.leaderUrl}/v2/apps${query}`);
    return Object.keys(((res.body as Json).apps as Json[])[0]!);
  };
  const base = await keys("");
  for (
    const k of ["tasksStaged", "tasksRunning", "tasksHealthy", "tasksUnhealthy", "deployments"]
  ) {
    assert.ok(base.includes(k), `always embedded: ${k}`);
  }
  for (const k of ["tasks", "readinessCheckResults", "lastTaskFailure", "taskStats"]) {
    assert.ok(!base.includes(k), `not embedded by default: ${k}`);
  }
  assert.ok((await keys("?embed=apps.tasks")).includes("tasks"));
  assert.ok((await keys("?embed=app.tasks")).includes("tasks"), "app. prefix");
  assert.ok((await keys("?embed=group.apps.tasks")).includes("tasks"), "group.apps. prefix");
  assert.ok((await keys("?embed=tasks")).includes("tasks"), "no prefix");
  assert.ok((await keys("?embed=apps.readiness")).includes("readinessCheckResults"));
  assert.ok((await keys("?embed=apps.taskStats")).includes("taskStats"));
  const failures = await keys("?embed=apps.failures");
  assert.ok(failures.includes("tasks") && failures.includes("deployments"));
  const unknown = await call(`${sim.leaderUrl}/v2/apps?embed=apps.bogus`);
  assert.equal(unknown.status, 200, "unknown embeds are ignored");
});

Deno.test("GET /v2/apps/{id} always embeds tasks, counts, deployments; readiness only on request", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/a", { instances: 0 }));
  const res = await call(`${sim.leaderUrl}/v2/apps/a`);
  assert.equal(res.status, 200);
  const a = (res.body as Json).app;
  for (const k of ["tasks", "tasksRunning", "deployments"]) assert.ok(k in a, k);
  assert.ok(!("readinessCheckResults" in a));
  const r = (await call(`${sim.leaderUrl}/v2/apps/a?embed=app.readiness`)).body as Json;
  assert.deepEqual(r.app.readinessCheckResults, []);
  const missing = await call(`${sim.leaderUrl}/v2/apps/nope`);
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { message: "App '/nope' does not exist" });
});

Deno.test("GET /v2/apps filters by id (case-insensitive substring) and label selectors", async () => {
  await using sim = await fastCluster();
  const defs: [string, Record<string, string>][] = [
    ["/prod/api", { tier: "backend", env: "prod", "traefik.enable": "true" }],
    ["/prod/web", { tier: "frontend", env: "prod" }],
    ["/dev/api", { tier: "backend", env: "dev", "a b": "x,y" }],
    ["/dev/tools", {}],
  ];
  for (const [id, labels] of defs) await sim.api.deploy(app(id, { instances: 0, labels }));
  const ids = async (query: string) => {
    const res = await call(`${sim.leaderUrl}/v2/apps?${query}`);
    assert.equal(res.status, 200, `${query}: ${res.text}`);
    return ((res.body as Json).apps as Json[]).map((a) => a.id).sort();
  };
  const cases: [string, string[]][] = [
    ["id=API", ["/dev/api", "/prod/api"]],
    ["id=prod/", ["/prod/api", "/prod/web"]],
    ["label=tier", ["/dev/api", "/prod/api", "/prod/web"]],
    ["label=tier==backend", ["/dev/api", "/prod/api"]],
    ["label=tier!=backend", ["/prod/web"]],
    ["label=env in (prod, dev),tier==backend", ["/dev/api", "/prod/api"]],
    ["label=env notin (prod)", ["/dev/api"]],
    [`label=${encodeURIComponent("traefik.enable==true")}`, ["/prod/api"]],
    [`label=${encodeURIComponent("a\\ b==x\\,y")}`, ["/dev/api"]],
    ["id=api&label=env==prod", ["/prod/api"]],
  ];
  for (const [query, expected] of cases) assert.deepEqual(await ids(query), expected, query);
  const bad = await call(`${sim.leaderUrl}/v2/apps?label=${encodeURIComponent("a==")}`);
  assert.equal(bad.status, 422);
});

Deno.test("validation errors: 400 for JSON syntax and types, 422 with details for semantics", async () => {
  await using sim = await fastCluster();
  const post = (body: string) =>
    call(`${sim.leaderUrl}/v2/apps`, {
      method: "POST",
      body,
      headers: { "Content-Type": "application/json" },
    });
  const syntax = await post("{not json");
  assert.equal(syntax.status, 400);
  assert.equal((syntax.body as Json).message, "Invalid JSON");

  const types = await post(JSON.stringify({ id: 5, cmd: "x", instances: "two" }));
  assert.equal(types.status, 400);
  assert.deepEqual((types.body as Json).details, [
    { path: "/id", errors: ["error.expected.jsstring"] },
    { path: "/instances", errors: ["error.expected.jsnumber"] },
  ]);

  const cases: [unknown, string, RegExp][] = [
    [app("/UPPER"), "/id", /must fully match regular expression/],
    [
      app("/x", { upgradeStrategy: { minimumHealthCapacity: 1.5 } }),
      "/upgradeStrategy/minimumHealthCapacity",
      /is greater than 1/,
    ],
    [app("/x", { instances: -1 }), "/instances", /expected 0 or more/],
    [{ id: "/x" }, "/", /must either contain one of 'cmd' or 'args'/],
    [app("/x", { healthChecks: [{ portIndex: 3 }] }), "/healthChecks(0)", /port indices/],
    [
      app("/x", { readinessChecks: [{ portName: "nope" }] }),
      "/readinessChecks(0)/portName",
      /named 'nope'/,
    ],
    [
      app("/x", {
        networks: [{ mode: "host" }],
        container: {
          type: "DOCKER",
          docker: { image: "i" },
          portMappings: [{ containerPort: 80 }],
        },
      }),
      "/container/portMappings",
      /not allowed with host networking/,
    ],
  ];
  for (const [body, path, message] of cases) {
    const res = await post(JSON.stringify(body));
    assert.equal(res.status, 422, JSON.stringify(body));
    const b = res.body as Json;
    assert.equal(b.message, "Object is not valid");
    const detail = (b.details as Json[]).find((d) => d.path === path);
    assert.ok(detail, `${path} in ${JSON.stringify(b.details)}`);
    assert.match(detail.errors.join(" "), message);
  }
});

Deno.test("PUT /v2/apps/{id}: partial update, scale vs restart, upsert, 409 lock and force", async () => {
  await using sim = await fastCluster();
  const created = await call(`${sim.leaderUrl}/v2/apps/g/app`, {
    method: "PUT",
    json: app("/ignored", { instances: 0, env: { A: "1" } }),
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get("location"), "/v2/apps/g/app");
  await sim.api.waitForDeployments();

  const before = ((await call(`${sim.leaderUrl}/v2/apps/g/app`)).body as Json).app;
  const scaled = await call(`${sim.leaderUrl}/v2/apps/g/app`, {
    method: "PUT",
    json: { instances: 0 },
  });
  assert.equal(scaled.status, 200);
  assert.deepEqual(Object.keys(scaled.body as Json).sort(), ["deploymentId", "version"]);
  assert.equal(scaled.headers.get("marathon-deployment-id"), (scaled.body as Json).deploymentId);
  await sim.api.waitForDeployments();
  const afterScale = ((await call(`${sim.leaderUrl}/v2/apps/g/app`)).body as Json).app;
  assert.equal(afterScale.env.A, "1", "partial update keeps fields not sent");
  assert.equal(afterScale.versionInfo.lastConfigChangeAt, before.versionInfo.lastConfigChangeAt);
  assert.notEqual(afterScale.version, before.version);

  await call(`${sim.leaderUrl}/v2/apps/g/app`, { method: "PUT", json: { env: { A: "2" } } });
  const afterChange = ((await call(`${sim.leaderUrl}/v2/apps/g/app`)).body as Json).app;
  assert.equal(afterChange.env.A, "2");
  assert.notEqual(
    afterChange.versionInfo.lastConfigChangeAt,
    before.versionInfo.lastConfigChangeAt,
  );
  const replaced = await call(`${sim.leaderUrl}/v2/apps/g/app?partialUpdate=false`, {
    method: "PUT",
    json: { cmd: "other", instances: 0 },
  });
  assert.equal(replaced.status, 200);
  const afterReplace = ((await call(`${sim.leaderUrl}/v2/apps/g/app`)).body as Json).app;
  assert.equal(afterReplace.env, undefined, "partialUpdate=false replaces the definition");

  // A deployment that cannot finish (its task never listens) holds the lock.
  await sim.api.update("/g/app", { instances: 1, env: { SIM_STARTUP_DELAY_MS: "60000" } });
  const locked = await call(`${sim.leaderUrl}/v2/apps/g/app`, {
    method: "PUT",
    json: { instances: 2 },
  });
  assert.equal(locked.status, 409);
  const lockBody = locked.body as Json;
  assert.match(lockBody.message, /locked by one or more deployments/);
  assert.equal(lockBody.deployments.length, 1);
  const forced = await call(`${sim.leaderUrl}/v2/apps/g/app?force=true`, {
    method: "PUT",
    json: { instances: 0, env: {} },
  });
  assert.equal(forced.status, 200);
  await sim.api.waitForDeployments();
  assert.equal(sim.api.tasks("/g/app").length, 0);
});

Deno.test("task endpoints: /v2/tasks (servicePorts, status filter, text), /v2/apps/{id}/tasks", async () => {
  await using sim = await fastCluster();
  await sim.api.deploy(app("/g/web", { instances: 2 }));
  const running = await sim.api.waitForRunning("/g/web");
  const all = (await call(`${sim.leaderUrl}/v2/tasks`)).body as Json;
  assert.equal(all.tasks.length, 2);
  for (const t of all.tasks) {
    assert.deepEqual(t.servicePorts, running[0]!.servicePorts);
    assert.equal(t.state, "TASK_RUNNING");
  }
  const staging = (await call(`${sim.leaderUrl}/v2/tasks?status=staging`)).body as Json;
  assert.deepEqual(staging.tasks, []);
  const run = (await call(`${sim.leaderUrl}/v2/tasks?status[]=running`)).body as Json;
  assert.equal(run.tasks.length, 2);
  const appTasks = (await call(`${sim.leaderUrl}/v2/apps/g/web/tasks`)).body as Json;
  assert.deepEqual(appTasks.tasks.map((t: Json) => t.id).sort(), running.map((t) => t.id).sort());
  const embedded = ((await call(`${sim.leaderUrl}/v2/apps/g/web`)).body as Json).app.tasks;
  assert.ok(!("servicePorts" in embedded[0]), "tasks embedded in apps have no servicePorts");
  const text = await call(`${sim.leaderUrl}/v2/tasks`, { headers: { Accept: "text/plain" } });
  const [line] = text.text.trim().split("\n");
  const cols = line!.split("\t");
  assert.equal(cols[0], "g_web");
  assert.equal(Number(cols[1]), running[0]!.servicePorts[0]);
  assert.deepEqual(
    cols.slice(2).sort(),
    running.map((t) => `${t.host}:${t.ports[0]}`).sort(),
  );
  const missing = await call(`${sim.leaderUrl}/v2/apps/nope/tasks`);
  assert.equal(missing.status, 404);
});

Deno.test("DELETE /v2/apps/{id}/tasks/{taskId}: replaced without scale, instances lowered with scale", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  await sim.api.deploy(app("/g/web", { instances: 2 }));
  const [first, second] = await sim.api.waitForRunning("/g/web");

  const killed = await call(`${sim.leaderUrl}/v2/apps/g/web/tasks/${first!.id}`, {
    method: "DELETE",
  });
  assert.equal(killed.status, 200);
  assert.equal((killed.body as Json).task.id, first!.id);
  await sim.api.waitFor(
    () => {
      const tasks = sim.api.tasks("/g/web");
      return tasks.length === 2 && !tasks.some((t) => t.id === first!.id) &&
        tasks.every((t) => t.state === "TASK_RUNNING");
    },
    10_000,
    "a replacement",
  );

  const scaled = await call(`${sim.leaderUrl}/v2/apps/g/web/tasks/${second!.id}?scale=true`, {
    method: "DELETE",
  });
  assert.equal(scaled.status, 200);
  assert.equal(scaled.headers.get("marathon-deployment-id"), (scaled.body as Json).deploymentId);
  await sim.api.waitForDeployments();
  const after = ((await call(`${sim.leaderUrl}/v2/apps/g/web`)).body as Json).app;
  assert.equal(after.instances, 1);
  assert.equal(after.tasks.length, 1);
  assert.notEqual(after.tasks[0].id, second!.id);

  const unknown = await call(`${sim.leaderUrl}/v2/apps/g/web/tasks/g_web.nope`, {
    method: "DELETE",
  });
  assert.equal(unknown.status, 404);
});

Deno.test("POST /v2/apps/{id}/restart replaces every task; DELETE /v2/apps/{id} removes the app", async () => {
  await using sim = await fastCluster({ defaultKillGraceMs: 200 });
  await sim.api.deploy(app("/g/web", { instances: 1 }));
  const [old] = await sim.api.waitForRunning("/g/web");
  const restart = await call(`${sim.leaderUrl}/v2/apps/g/web/restart`, { method: "POST" });
  assert.equal(restart.status, 200);
  assert.ok(restart.headers.get("marathon-deployment-id"));
  await sim.api.waitForDeployments();
  const [fresh] = sim.api.tasks("/g/web");
  assert.notEqual(fresh!.id, old!.id);
  assert.equal(fresh!.version, (restart.body as Json).version);

  const del = await call(`${sim.leaderUrl}/v2/apps/g/web`, { method: "DELETE" });
  assert.equal(del.status, 200);
  assert.ok(del.headers.get("marathon-deployment-id"));
  assert.equal((await call(`${sim.leaderUrl}/v2/apps/g/web`)).status, 404, "gone at once");
  await sim.api.waitForDeployments();
  assert.deepEqual(sim.api.tasks(), []);
  assert.equal((await call(`${sim.leaderUrl}/v2/apps/g/web`, { method: "DELETE" })).status, 404);
});

Deno.test("GET /v2/deployments lists a running deployment with steps and current actions", async () => {
  await using sim = await fastCluster();
  const ref = await sim.api.deploy(
    app("/slow", { env: { SIM_STARTUP_DELAY_MS: "60000" } }),
  );
  const res = await call(`${sim.leaderUrl}/v2/deployments`);
  const [d] = res.body as Json[];
  assert.equal(d!.id, ref.deploymentId);
  assert.equal(d!.version, ref.version);
  assert.deepEqual(d!.affectedApps, ["/slow"]);
  assert.deepEqual(d!.steps, [
    { actions: [{ action: "StartApplication", app: "/slow" }] },
    { actions: [{ action: "ScaleApplication", app: "/slow" }] },
  ]);
  await sim.api.waitFor(async () => {
    const [cur] = (await call(`${sim.leaderUrl}/v2/deployments`)).body as Json[];
    return cur?.currentStep === 2;
  });
  const [now] = (await call(`${sim.leaderUrl}/v2/deployments`)).body as Json[];
  assert.deepEqual(now!.currentActions, [
    { action: "ScaleApplication", app: "/slow", readinessCheckResults: [] },
  ]);
  assert.equal(now!.totalSteps, 2);
  const cancel = await call(`${sim.leaderUrl}/v2/deployments/${ref.deploymentId}?force=true`, {
    method: "DELETE",
  });
  assert.equal(cancel.status, 202);
  assert.deepEqual((await call(`${sim.leaderUrl}/v2/deployments`)).body, []);
});

Deno.test("unknown paths answer 404 JSON; unsupported methods 405", async () => {
  await using sim = await fastCluster();
  const res = await call(`${sim.leaderUrl}/v2/nothing`);
  assert.equal(res.status, 404);
  assert.deepEqual(res.body, { message: "HTTP 404 Not Found" });
  await sim.api.deploy(app("/a", { instances: 0 }));
  const post = await call(`${sim.leaderUrl}/v2/apps/a`, { method: "POST", json: {} });
  assert.equal(post.status, 405);
});
