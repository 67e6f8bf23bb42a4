/**
 * Event-to-route latency of the live Marathon provider, end to end: a
 * simulated Marathon (real task processes), a real Pacer fed by
 * `marathonProvider()`, and requests through Pacer. A plain script, not part
 * of the test run (`deno task bench:marathon` runs it after
 * `marathon_build.ts`):
 *
 *     deno run --allow-net --allow-read --allow-run --allow-env --allow-sys \
 *       bench/marathon_latency.ts [--rounds=100] [--throttle=0]
 *
 * Each round, on an app with two tasks and a sticky cookie:
 * - **removal**: a client pinned (by the cookie) to one task, which is then
 *   killed (`TASK_KILLING`, the fast path); the time from the kill to the
 *   first request through Pacer answered by the other task. The simulated
 *   executor waits 300 ms between `TASK_KILLING` and SIGTERM (a drain
 *   window), so no request fails and is retried meanwhile;
 * - **addition**: Marathon starts a replacement; the time from its
 *   `TASK_RUNNING` (the event's timestamp) to the first request answered by
 *   it (an event, a re-list, a rebuild).
 *
 * Target: p99 under 100 ms. `--throttle` is `providersThrottleDuration` in
 * ms (Traefik's default is 2000: additions then wait for it, removals never).
 *
 * @module
 */
import { parseArgs } from "node:util";
import { silentLogger } from "../src/log/logger.ts";
import { builtinRegistry } from "../src/middleware/builtins.ts";
import { marathonProvider } from "../src/provider/marathon/provider.ts";
import { Pacer } from "../src/server/pacer.ts";
import { startCluster } from "../src/sim/mod.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "100" },
    throttle: { type: "string", default: "0" },
  },
});
const rounds = Number(values.rounds);
const throttleMs = Number(values.throttle);

const sim = await startCluster({
  stagingMs: 5,
  defaultKillGraceMs: 1_000,
  hostPortRange: [37000, 37999],
  keepAliveMs: 10_000,
  killingNoticeMs: 300,
});
const registry = builtinRegistry();
const pacer = new Pacer({
  entryPoints: [{
    name: "web",
    hostname: "127.0.0.1",
    port: 0,
    isTrusted: () => false,
    graceTimeOutMs: 1_000,
  }],
  providers: [
    marathonProvider({ endpoint: sim.leaderUrl, resyncInterval: "1h" }, {
      log: silentLogger,
      registry,
    }),
  ],
  throttleMs,
  log: silentLogger,
  registry,
});
await pacer.start();
const client = Deno.createHttpClient({ allowHost: true });
const url = `http://127.0.0.1:${pacer.entryPoint("web").addr.port}/`;

interface Answer {
  status: number;
  taskId: string;
  /** The sticky cookie (`name=value`) Pacer set, if any. */
  cookie: string;
}

async function ask(cookie?: string): Promise<Answer> {
  const headers: Record<string, string> = { host: "bench" };
  if (cookie) headers.cookie = cookie;
  const res = await fetch(url, { headers, client });
  await res.body?.cancel();
  return {
    status: res.status,
    taskId: res.headers.get("x-sim-task-id") ?? "",
    cookie: res.headers.get("set-cookie")?.split(";")[0] ?? "",
  };
}

async function untilAnswer(
  test: (a: Answer) => boolean,
  what: string,
  cookie?: string,
): Promise<Answer> {
  const deadline = performance.now() + 10_000;
  for (;;) {
    const answer = await ask(cookie);
    if (test(answer)) return answer;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

function report(name: string, samples: number[]): void {
  const sorted = [...samples].sort((a, b) => a - b);
  console.log(
    `${name.padEnd(9)} ${String(sorted.length).padStart(4)} changes: p50 ${
      percentile(sorted, 50).toFixed(1)
    } ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms`,
  );
}

const removals: number[] = [];
const additions: number[] = [];
try {
  await sim.api.deploy({
    id: "/bench",
    cmd: "sim-task",
    instances: 2,
    cpus: 0.1,
    mem: 32,
    portDefinitions: [{ port: 0, name: "http" }],
    labels: { "traefik.http.services.bench.loadbalancer.sticky.cookie.name": "pin" },
  });
  const first = await sim.api.waitForRunning("/bench", 2);
  const seen = new Set<string>(first.map((t) => t.id));
  let task = first[0];
  await untilAnswer((a) => a.taskId === task!.id, "the first task to be routed");

  for (let round = -1; round < rounds; round++) {
    const old = task!;
    // A client pinned to the task about to be killed.
    const pinned = await untilAnswer((a) => a.taskId === old.id && a.cookie !== "", "a pin");
    const killedAt = performance.now();
    await sim.api.killTask("/bench", old.id);
    await untilAnswer(
      (a) => a.status === 200 && a.taskId !== old.id,
      "the killed task to leave rotation",
      pinned.cookie,
    );
    const removal = performance.now() - killedAt;

    // The replacement: find its TASK_RUNNING event, then the first answer it gives.
    const running = await sim.api.waitFor(
      () =>
        sim.api.events().findLast((e) =>
          e.eventType === "status_update_event" && e.taskStatus === "TASK_RUNNING" &&
          e.appId === "/bench" && !seen.has(String(e.taskId))
        ),
      10_000,
      "the replacement to run",
    );
    const newId = String(running.taskId);
    seen.add(newId);
    await untilAnswer((a) => a.taskId === newId, "the replacement to be routed");
    const addition = Date.now() - Date.parse(running.timestamp);
    if (round >= 0) {
      // Round -1 warms up the JIT and connection pools.
      removals.push(removal);
      additions.push(addition);
    }
    // Next round kills the older of the two.
    task = sim.api.tasks("/bench").find((t) => t.id !== newId && t.state === "TASK_RUNNING");
  }
  console.log(
    `Event-to-route latency (simulated Marathon, ${rounds} rounds, providersThrottleDuration ${throttleMs} ms):`,
  );
  report("removal", removals);
  report("addition", additions);
  report("all", [...removals, ...additions]);
} finally {
  await pacer.stop();
  client.close();
  await sim.close();
}
