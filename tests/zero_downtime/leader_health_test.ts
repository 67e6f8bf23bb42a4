import { equal, ok } from "node:assert/strict";
import { describeFailures, startLoad } from "../_helpers/load.ts";
import { APP, startStack, zddApp } from "./_stack.ts";

Deno.test("a Marathon leader abdication in the middle of a rolling deploy: routes stay up, 0 failed GETs", async () => {
  await using stack = await startStack({
    sim: { members: 3 },
    app: zddApp({ env: { SIM_ON_SIGTERM: "exit", SIM_READY_AFTER_MS: "800" } }),
  });
  const load = startLoad(stack.send, { rps: 200 });
  await stack.sim.api.restart(APP);
  await new Promise((r) => setTimeout(r, 400));
  equal(
    stack.sim.api.deployments().length,
    1,
    "the deploy is still running when the leader abdicates",
  );
  const leader = stack.sim.leaderUrl;
  await stack.sim.api.abdicate({ noLeaderMs: 300 });
  await stack.sim.api.waitFor(
    () => stack.sim.leaderUrl !== "" && stack.sim.leaderUrl !== leader,
    10_000,
    "a new leader",
  );
  await stack.sim.api.waitForDeployments(30_000);
  await new Promise((r) => setTimeout(r, 500));
  const stats = await load.stop();
  ok(stats.sent.GET > 150, describeFailures(stats));
  equal(stats.failed("GET"), 0, describeFailures(stats));
});

Deno.test("all servers unhealthy: 503 with Retry-After within milliseconds, and recovery when one is back", async () => {
  await using stack = await startStack({
    app: zddApp({
      labels: {
        "traefik.http.services.zdd.loadbalancer.healthcheck.path": "/health",
        "traefik.http.services.zdd.loadbalancer.healthcheck.interval": "100ms",
        "traefik.http.services.zdd.loadbalancer.healthcheck.timeout": "50ms",
      },
    }),
  });
  const tasks = stack.sim.api.tasks(APP);
  const control = (t: (typeof tasks)[number], fail: 0 | 1) =>
    fetch(`http://${t.host}:${t.ports[0]}/_sim/health?fail=${fail}`, { method: "POST" }).then((r) =>
      r.body?.cancel()
    );
  for (const t of tasks) await control(t, 1);
  // Wait until the health checks took every server out.
  for (let i = 0; i < 100; i++) {
    const res = await stack.send("GET");
    await res.body?.cancel();
    if (res.status === 503) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const started = performance.now();
  const res = await stack.send("GET");
  const ms = performance.now() - started;
  equal(res.status, 503);
  ok(Number(res.headers.get("retry-after")) >= 1, "Retry-After tells clients when to come back");
  await res.body?.cancel();
  ok(ms < 100, `answered in ${ms.toFixed(1)} ms, not after a timeout`);

  await control(tasks[2]!, 0);
  let back = 0;
  for (let i = 0; i < 100 && back === 0; i++) {
    const r = await stack.send("GET");
    if (r.status === 200) back = 1;
    await r.body?.cancel();
    if (!back) await new Promise((r) => setTimeout(r, 20));
  }
  equal(back, 1, "routes again once a server passes its check");
  const load = startLoad(stack.send, { rps: 100 });
  await new Promise((r) => setTimeout(r, 500));
  const stats = await load.stop();
  equal(stats.failed(), 0, describeFailures(stats));
  equal(stats.answeredBy.size, 1, "only the healthy task answers");
});
