import assert from "node:assert/strict";
import { closedPort } from "../../_helpers/upstream.ts";
import { cluster, pause, simApp, startLivePacer, until } from "./_live.ts";

/**
 * Serves `target` on a fixed port from now on: Marathon "coming up" there with its state ready
 * (the simulator itself lists its apps before their tasks run, which would race a single list).
 */
function comeUp(port: number, target: string): Deno.HttpServer {
  const client = Deno.createHttpClient({});
  const server = Deno.serve({ hostname: "127.0.0.1", port, onListen() {} }, async (req) => {
    const url = new URL(req.url);
    const res = await fetch(`${target}${url.pathname}${url.search}`, {
      headers: req.headers,
      redirect: "manual",
      signal: req.signal,
      client,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });
  server.finished.then(() => client.close());
  return server;
}

for (const watch of [false, true]) {
  Deno.test(`Marathon down at start-up, then up: routes appear without any event (watch: ${watch})`, async () => {
    await using sim = await cluster({ hostPortRange: [36100, 36199] });
    await sim.api.deploy(simApp("/web"));
    await sim.api.waitForDeployments();
    const port = closedPort();
    let server: Deno.HttpServer | undefined;
    try {
      await using live = await startLivePacer(undefined, {
        provider: { endpoint: `http://127.0.0.1:${port}`, watch, resyncInterval: "1h" },
      });
      await until(() => live.counter.apps >= 3, "retries while Marathon is down");
      assert.equal(live.logged(/Cannot list Marathon apps/, "error").length, 1, "logged once");
      assert.deepEqual(live.routers(), []);

      // Marathon comes up with /web running: no event about it will ever be sent.
      server = comeUp(port, sim.leaderUrl);
      await until(() => live.routers().length === 1, "/web routed");
      assert.equal((await live.ask("web")).taskId, sim.api.tasks("/web")[0]!.id);
      assert.equal(live.logged(/Marathon apps listed again/).length, 1);
      if (!watch) {
        const lists = live.counter.apps;
        await sim.api.scale("/web", 2);
        await sim.api.waitForRunning("/web", 2);
        await pause(100);
        assert.equal(live.counter.apps, lists, "watch: false lists once, never again");
        assert.equal(live.counter.events, 0);
        assert.equal(live.servers("web").length, 1);
      }
    } finally {
      await server?.shutdown();
    }
  });
}

Deno.test("5xx, no leader and malformed JSON keep the last good configuration; one log per state", async () => {
  await using sim = await cluster({ hostPortRange: [36200, 36299] });
  await sim.api.deploy(simApp("/web"));
  await sim.api.waitForDeployments();
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "100ms" } });
  await until(() => live.routers().length === 1, "/web routed");
  const webTask = sim.api.tasks("/web")[0]!.id;

  const errors = () => live.logged(/Cannot list Marathon apps/, "error");
  sim.api.faults.failResponses({ path: "/v2/apps", status: 503, body: "html" });
  await sim.api.deploy(simApp("/new"));
  await until(() => errors().length === 1, "the 503 to be logged");
  const attempts = live.counter.apps;
  for (let i = 0; i < 5; i++) assert.equal((await live.ask("web")).taskId, webTask);
  await until(() => live.counter.apps >= attempts + 3, "more retries");
  assert.equal(errors().length, 1, "one log for the 503 state, not one per retry");
  assert.match(String(errors()[0]!.error), /HTTP 503: Injected fault/);
  assert.deepEqual(live.routers(), ["web@marathon"], "the last good configuration stays");

  sim.api.faults.failResponses({ path: "/v2/apps", body: "malformed" });
  await until(() => errors().length === 2, "the new failure state to be logged");
  assert.match(String(errors()[1]!.error), /not valid JSON/);
  for (let i = 0; i < 5; i++) assert.equal((await live.ask("web")).taskId, webTask);

  sim.api.faults.failResponses({ path: "/v2/apps", status: 502, body: "html" });
  await until(() => errors().length === 3, "the 502 state to be logged");
  assert.deepEqual(live.routers(), ["web@marathon"]);

  sim.api.faults.clear();
  await until(() => live.routers().length === 2, "/new routed once Marathon answers");
  assert.equal(live.logged(/Marathon apps listed again/).length, 1);
  assert.equal(errors().length, 3);
});

Deno.test("during an election (no leader: 502) routes stay and come back in step", async () => {
  await using sim = await cluster({
    members: 2,
    hostPortRange: [36300, 36399],
    noLeaderMs: 400,
    leaderWaitMs: 50,
  });
  await sim.api.deploy(simApp("/web"));
  await sim.api.waitForDeployments();
  await using live = await startLivePacer(sim, {
    provider: { endpoint: sim.urls.join(","), resyncInterval: "50ms" },
  });
  await until(() => live.routers().length === 1, "/web routed");
  const election = sim.api.abdicate();
  await until(
    () => live.logged(/Cannot list Marathon apps/, "error")[0],
    "the election to be noticed",
  );
  assert.equal((await live.ask("web")).status, 200, "requests keep flowing");
  await election;
  await sim.api.scale("/web", 2);
  await until(() => live.servers("web").length === 2, "the new leader's state");
});

Deno.test("a member that refuses connections is marked down; the next one serves (scheme inherited)", async () => {
  await using sim = await cluster({ hostPortRange: [36400, 36499] });
  await sim.api.deploy(simApp("/web"));
  await sim.api.waitForDeployments();
  const dead = closedPort();
  const port = new URL(sim.leaderUrl).port;
  await using live = await startLivePacer(sim, {
    provider: { endpoint: `http://127.0.0.1:${dead},127.0.0.1:${port}` },
  });
  await until(() => live.routers().length === 1, "/web routed through the second member");
  const down = live.logged(/Marathon member is down/, "warn");
  assert.equal(down.length, 1);
  assert.equal(down[0]!.member, `http://127.0.0.1:${dead}`);
  // The dead member is re-probed with /ping, and later calls go to the member that answered.
  await until(() => live.counter.pings >= 2, "probes of the dead member");
  const before = live.counter.urls.length;
  await sim.api.scale("/web", 2);
  await until(() => live.servers("web").length === 2, "scaled");
  const later = live.counter.urls.slice(before).filter((u) => !u.endsWith("/ping"));
  assert.ok(later.length > 0 && later.every((u) => u.includes(`:${port}/`)), later.join(" "));
});

Deno.test("a burst of events costs one or two lists, not one per event", async () => {
  await using sim = await cluster({ hostPortRange: [36500, 36599] });
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  await until(() => live.logged(/event stream connected/).length === 1, "the stream");
  await until(() => live.counter.apps >= 2, "the start-up lists");
  await pause(50);
  // Each list takes 400 ms: everything below arrives while the first one runs.
  sim.api.faults.delayResponses(400, { path: "/v2/apps" });
  const lists = live.counter.apps;
  const eventsBefore = sim.api.events().length;
  for (let i = 0; i < 8; i++) await sim.api.deploy(simApp(`/burst-${i}`, { instances: 0 }));
  await sim.api.waitForDeployments();
  const relevant = sim.api.events().slice(eventsBefore).filter((e) =>
    e.eventType === "api_post_event" || e.eventType.startsWith("deployment_")
  );
  assert.ok(relevant.length >= 16, `a burst of ${relevant.length} relevant events`);
  await pause(900);
  const burstLists = live.counter.apps - lists;
  assert.ok(burstLists >= 1 && burstLists <= 2, `${burstLists} lists for the burst`);
  sim.api.faults.clear();
  // The lists did see the apps: each is reported (no task, so no route) as a diagnostic.
  const diagnostics = (live.pacer.pacer.rawdata().diagnostics as Record<string, unknown[]>)
    .marathon ?? [];
  assert.equal(diagnostics.length, 8, JSON.stringify(diagnostics));
});
