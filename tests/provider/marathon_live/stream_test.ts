import assert from "node:assert/strict";
import { cluster, pause, simApp, startLivePacer, until } from "./_live.ts";

Deno.test("a dropped event stream reconnects, and a change made while disconnected is picked up", async () => {
  await using sim = await cluster({ hostPortRange: [35600, 35699] });
  await sim.api.deploy(simApp("/a"));
  await sim.api.waitForDeployments();
  await using live = await startLivePacer(sim, { provider: { resyncInterval: "1h" } });
  await until(() => live.routers().length === 1, "/a routed");
  await until(() => live.logged(/event stream connected/).length === 1, "a stream");

  // Reconnects fail for now, so the deploy below happens while no stream is open.
  sim.api.faults.failResponses({ path: "/v2/events", status: 503 });
  assert.equal(sim.api.faults.dropEventStreams(), 1);
  await sim.api.deploy(simApp("/b"));
  await sim.api.waitForRunning("/b");
  await until(() => live.counter.events >= 3, "a few reconnect attempts");
  assert.deepEqual(live.routers(), ["a@marathon"], "/b's events were lost");

  sim.api.faults.clear();
  await until(() => live.routers().length === 2, "/b routed after the reconnect");
  assert.equal((await live.ask("b")).taskId, sim.api.tasks("/b")[0]!.id);
  assert.equal(live.logged(/event stream ended; reconnecting/).length, 1);
  assert.equal(
    live.logged(/Cannot open the Marathon event stream/).length,
    1,
    "the failing reconnects are logged once",
  );
  assert.equal(live.logged(/event stream reconnected/).length, 1);
});

Deno.test("a silent event stream (no keep-alive) is declared dead after eventsIdleTimeout and reopened", async () => {
  await using sim = await cluster({ hostPortRange: [35700, 35799], keepAliveMs: 50 });
  await using live = await startLivePacer(sim, {
    provider: { resyncInterval: "1h", eventsIdleTimeout: "600ms" },
  });
  await until(() => live.logged(/event stream connected/).length === 1, "a stream");
  // Keep-alives every 50 ms keep a quiet stream alive.
  await pause(500);
  assert.equal(live.counter.events, 1, "no reconnect while keep-alives flow");

  sim.api.faults.stallEventStreams(true);
  await sim.api.deploy(simApp("/quiet"));
  await sim.api.waitForRunning("/quiet");
  // The stalled stream delivers nothing: only the reconnect's re-list can find /quiet.
  await until(() => live.routers().length === 1, "/quiet routed after the idle reconnect", 3_000);
  const ended = live.logged(/event stream ended; reconnecting/);
  assert.ok(ended.length >= 1);
  assert.match(String(ended[0]!.reason), /nothing received for 600 ms/);
  sim.api.faults.stallEventStreams(false);
});

Deno.test("pointed at a standby, the provider follows the 302 to the leader, also after an abdication", async () => {
  await using sim = await cluster({ members: 3, hostPortRange: [35800, 35899], noLeaderMs: 100 });
  const [leader, standby, third] = sim.urls as [string, string, string];
  await using live = await startLivePacer(sim, {
    provider: { endpoint: standby, resyncInterval: "1h" },
  });
  const connected = await until(
    () => live.logged(/event stream connected/)[0],
    "the stream to connect",
  );
  assert.equal(connected.url, `${leader}/v2/events`);
  assert.ok(live.counter.urls.includes(`${leader}/v2/events?${eventsQuery(live.counter.urls)}`));
  // Events flow through the redirected stream: a deploy is routed without any resync.
  await sim.api.deploy(simApp("/one"));
  await until(() => live.routers().includes("one@marathon"), "/one routed");

  await sim.api.abdicate({ next: 2 });
  assert.equal(sim.leaderUrl, third);
  const reconnected = await until(
    () => live.logged(/event stream reconnected/)[0],
    "the stream to reconnect",
  );
  assert.equal(reconnected.url, `${third}/v2/events`);
  await sim.api.deploy(simApp("/two"));
  await until(() => live.routers().includes("two@marathon"), "/two routed");
  assert.ok(
    live.counter.urls.every((u) => !u.startsWith(leader) || u.includes("/v2/events")),
    "REST calls go to the configured member; only the stream follows redirects",
  );
});

/** The query the provider sent to /v2/events (from the first events URL it requested). */
function eventsQuery(urls: string[]): string {
  const first = urls.find((u) => u.includes("/v2/events"))!;
  return new URL(first).search.slice(1);
}
