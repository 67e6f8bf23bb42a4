import assert from "node:assert/strict";
import { app, call, EventRecorder, fastCluster } from "../_helpers/sim.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

Deno.test("a standby proxies REST calls to the leader transparently", async () => {
  await using sim = await fastCluster({ members: 3 });
  const [leader, standby] = sim.urls;
  assert.equal(sim.leaderUrl, leader);
  const created = await call(`${standby}/v2/apps`, {
    method: "POST",
    json: app("/p", { instances: 0 }),
  });
  assert.equal(created.status, 201);
  assert.equal(created.headers.get("location"), "/v2/apps/p");
  assert.ok(created.headers.get("marathon-deployment-id"));
  assert.equal(created.headers.get("x-marathon-leader"), leader);
  for (const path of ["/v2/apps/p", "/v2/info", "/ping", "/v2/apps/missing"]) {
    const direct = await call(`${leader}${path}`);
    const proxied = await call(`${standby}${path}`);
    assert.equal(proxied.status, direct.status, path);
    assert.deepEqual(proxied.body, direct.body, path);
    assert.equal(proxied.headers.get("x-marathon-leader"), leader, path);
  }
  const leaderInfo = await call(`${sim.urls[2]}/v2/leader`);
  assert.deepEqual(leaderInfo.body, { leader: leader!.replace("http://", "") });
});

Deno.test("a proxying loop is detected through X-Marathon-Via", async () => {
  await using sim = await fastCluster({ members: 2 });
  const standby = sim.urls[1]!;
  const res = await call(`${standby}/v2/apps`, {
    headers: { "X-Marathon-Via": `1.1 ${standby.replace("http://", "")}` },
  });
  assert.equal(res.status, 502);
  assert.match(res.text, /Detected proxying loop\./);
  assert.match(res.headers.get("content-type")!, /text\/html/);
});

Deno.test("/v2/events on a standby redirects (302) to the leader with the same query", async () => {
  await using sim = await fastCluster({ members: 2 });
  const query = "event_type=status_update_event&event_type=api_post_event&plan-format=light";
  const res = await call(`${sim.urls[1]}/v2/events?${query}`, {
    headers: { Accept: "text/event-stream" },
  });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), `${sim.leaderUrl}/v2/events?${query}`);
});

Deno.test("abdication: streams close, no leader for a while (502, 404), then another member leads", async () => {
  await using sim = await fastCluster({ members: 3, noLeaderMs: 500, leaderWaitMs: 100 });
  const [first, second] = sim.urls;
  const rec = await EventRecorder.open(first!);
  await rec.waitFor((e) => e.event === "event_stream_attached");
  const res = await call(`${second}/v2/leader`, { method: "DELETE" });
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, { message: "Leadership abdicated" });
  await rec.ended;
  assert.ok(rec.isEnded, "the old leader closed its event stream");

  await sim.api.waitFor(() => sim.leaderUrl === "", 1000, "the election to start");
  for (const url of sim.urls) {
    const leader = await call(`${url}/v2/leader`);
    assert.equal(leader.status, 404);
    assert.deepEqual(leader.body, { message: "There is no leader" });
    const apps = await call(`${url}/v2/apps`);
    assert.equal(apps.status, 502);
    assert.match(apps.text, /Could not determine the current leader/);
    assert.match(apps.headers.get("content-type")!, /text\/html/);
  }

  await sim.api.waitFor(() => sim.leaderUrl === second, 2000, "member 1 to lead");
  const apps = await call(`${first}/v2/apps`);
  assert.equal(apps.status, 200);
  assert.equal(apps.headers.get("x-marathon-leader"), second);
  const redirect = await call(`${first}/v2/events`, { headers: { Accept: "text/event-stream" } });
  assert.equal(redirect.status, 302);
  assert.equal(redirect.headers.get("location"), `${second}/v2/events`);
});

Deno.test("a standby holds a request while a leader is elected within its wait", async () => {
  await using sim = await fastCluster({ members: 2, noLeaderMs: 200, leaderWaitMs: 2000 });
  const abdicated = sim.api.abdicate();
  const started = performance.now();
  const res = await call(`${sim.urls[0]}/v2/apps`);
  assert.equal(res.status, 200);
  assert.ok(performance.now() - started >= 150, "it waited for the election");
  await abdicated;
  assert.equal(sim.leaderUrl, sim.urls[1]);
});

Deno.test("a new leader forgets health results until it has probed again; deployments go on", async () => {
  await using sim = await fastCluster({ members: 2, noLeaderMs: 300 });
  await sim.api.deploy(app("/h", {
    healthChecks: [{
      protocol: "HTTP",
      path: "/health",
      portIndex: 0,
      gracePeriodSeconds: 5,
      intervalSeconds: 0.1,
      timeoutSeconds: 0.5,
      maxConsecutiveFailures: 0,
    }],
  }));
  await sim.api.waitForDeployments();
  const results = () => (sim.api.apps()[0]!.tasks as Json[])[0]!.healthCheckResults;
  assert.equal(results()[0].alive, true);
  const slow = await sim.api.deploy(app("/slow", { env: { SIM_STARTUP_DELAY_MS: "800" } }));

  const elected = sim.api.abdicate();
  assert.equal(results(), undefined, "results are gone with the leader");
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(results(), undefined, "nobody probes without a leader");
  await elected;
  assert.deepEqual(
    sim.api.deployments().map((d) => d.id),
    [slow.deploymentId],
    "still deploying at the election",
  );
  await sim.api.waitFor(() => results()?.[0]?.alive === true, 2000, "a new probe");
  const a = ((await call(`${sim.leaderUrl}/v2/apps/h`)).body as Json).app;
  assert.equal(a.tasks[0].healthCheckResults[0].alive, true);
  await sim.api.waitFor(
    () =>
      sim.api.events().some((e) =>
        e.eventType === "deployment_success" && e.id === slow.deploymentId
      ),
    5000,
    "the deployment to survive the failover",
  );
});
