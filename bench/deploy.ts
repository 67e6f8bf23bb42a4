/**
 * `deno task bench:deploy`: rolling deploys and a crash under load, through
 * Pacer with its full chain (retry → health-gate → drain) and with the chain
 * turned off (what a proxy without it does), side by side in one run:
 *
 * 1. rolling restart of an app without a termination handler;
 * 2. rolling restart with the recommended termination handler (drain);
 * 4. a task crashing (SIGKILL) while serving.
 *
 * Prints failed requests by method and p99 latency per scenario and chain,
 * and the time from a task's `TASK_KILLING` event to its removal from
 * rotation. A benchmark, not a test: nothing is asserted.
 *
 * Usage: deno task bench:deploy [--rps 400] [--rounds 2]
 *
 * @module
 */
import type { ChainStages } from "../src/server/build.ts";
import { type LoadStats, startLoad } from "../tests/_helpers/load.ts";
import { APP, type Stack, startStack, zddApp } from "../tests/zero_downtime/_stack.ts";

const args = Deno.args;
const option = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const RPS = option("rps", 400);
const ROUNDS = option("rounds", 2);

const FULL: ChainStages = { retry: true, healthGate: true, drain: true };
const NONE: ChainStages = { retry: false, healthGate: false, drain: false };

/** Watches the simulator's events and Pacer's live servers: TASK_KILLING → out of rotation. */
function watchRemovals(stack: Stack): { stop(): number[] } {
  const killedAt = new Map<string, number>();
  const removedAt = new Map<string, number>();
  let seen = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const events = stack.sim.api.events();
      for (; seen < events.length; seen++) {
        const e = events[seen] as Record<string, unknown>;
        if (e.eventType === "status_update_event" && e.taskStatus === "TASK_KILLING") {
          const ports = e.ports as number[];
          killedAt.set(`http://${e.host}:${ports[0]}`, Date.parse(String(e.timestamp)));
        }
      }
      const live = new Set([...stack.pacer.pacer.generation?.servers ?? []].map((s) => s.rawUrl));
      for (const [url, at] of killedAt) {
        if (!removedAt.has(url) && !live.has(url)) removedAt.set(url, Date.now() - at);
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  })();
  return {
    stop() {
      running = false;
      void loop;
      return [...removedAt.values()];
    },
  };
}

interface Row {
  scenario: string;
  chain: string;
  stats: LoadStats;
  removalMs: number[];
}

async function scenario(
  name: string,
  chain: ChainStages,
  env: Record<string, string>,
  act: (stack: Stack) => Promise<void>,
): Promise<Row> {
  await using stack = await startStack({ app: zddApp({ env }), chain });
  const removals = watchRemovals(stack);
  const load = startLoad(stack.send, { rps: RPS, postEvery: 4 });
  await new Promise((r) => setTimeout(r, 300));
  await act(stack);
  await new Promise((r) => setTimeout(r, 500));
  const stats = await load.stop();
  return {
    scenario: name,
    chain: chain === FULL ? "full chain" : "chain off",
    stats,
    removalMs: removals.stop(),
  };
}

const restart = async (stack: Stack) => {
  await stack.sim.api.restart(APP);
  await stack.sim.api.waitForDeployments(60_000);
};
const crash = async (stack: Stack) => {
  stack.sim.api.crashTask(stack.sim.api.tasks(APP)[1]!.id);
  await new Promise((r) => setTimeout(r, 1500));
};

const rows: Row[] = [];
for (let round = 0; round < ROUNDS; round++) {
  for (const chain of [FULL, NONE]) {
    rows.push(
      await scenario("1 restart, no handler", chain, {
        SIM_ON_SIGTERM: "exit",
        SIM_READY_AFTER_MS: "1000",
      }, restart),
    );
    rows.push(
      await scenario("2 restart, drain handler", chain, {
        SIM_ON_SIGTERM: "drain:1000",
        SIM_READY_AFTER_MS: "1000",
      }, restart),
    );
    rows.push(
      await scenario("4 crash (SIGKILL)", chain, {
        SIM_ON_SIGTERM: "exit",
        SIM_RESPONSE_DELAY_MS: "10",
      }, crash),
    );
  }
}

const head = ["scenario", "chain", "sent GET", "failed GET", "sent POST", "failed POST", "p99 ms"];
const table = rows.map((r) => [
  r.scenario,
  r.chain,
  String(r.stats.sent.GET),
  String(r.stats.failed("GET")),
  String(r.stats.sent.POST),
  String(r.stats.failed("POST")),
  r.stats.percentile(99).toFixed(1),
]);
const widths = head.map((h, i) => Math.max(h.length, ...table.map((t) => t[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log(
  `\n${RPS} requests/s (1 in 4 a POST), ${ROUNDS} rounds; 3 instances, readiness after 1 s\n`,
);
console.log(line(head));
for (const t of table) console.log(line(t));
const removals = rows.flatMap((r) => r.removalMs).sort((a, b) => a - b);
const pct = (p: number) =>
  removals[Math.min(removals.length - 1, Math.floor((p / 100) * removals.length))];
console.log(
  `\nTASK_KILLING → out of rotation over ${removals.length} kills: p50 ${pct(50)} ms, p99 ${
    pct(99)
  } ms, max ${removals.at(-1)} ms`,
);
