/** Clean shutdown, the CLI, and the guarantee that no task process outlives the simulator. */
import assert from "node:assert/strict";
import { demoApps, type SimCluster, simCommand, startCluster } from "../../src/sim/mod.ts";
import { app, call, childPids, FAST, pidAlive } from "../_helpers/sim.ts";
import { within } from "../_helpers/within.ts";

// deno-lint-ignore no-explicit-any
type Json = Record<string, any>;

const MAIN = new URL("../../src/sim/main.ts", import.meta.url).pathname;
const HOST = new URL("./_signal_host.ts", import.meta.url).pathname;

async function waitGone(pids: number[], timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(pidAlive)) {
    if (Date.now() > deadline) throw new Error(`still alive: ${pids.filter(pidAlive).join(",")}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Spawns a Deno script and reads its stdout until a line matches. */
async function spawnUntil(args: string[], pattern: RegExp) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...args],
    stdin: "null",
    stdout: "piped",
    stderr: "null",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  const deadline = Date.now() + 30_000;
  let match: RegExpExecArray | null = null;
  while (!(match = pattern.exec(out))) {
    const { value, done } = await reader.read();
    if (done || Date.now() > deadline) throw new Error(`no ${pattern} in: ${out}`);
    out += value;
  }
  return {
    child,
    match,
    /** Drains stdout and waits for the exit status. */
    async finish() {
      for (;;) if ((await reader.read()).done) break;
      return await child.status;
    },
  };
}

Deno.test("close() stops every task process, is idempotent, and runs on await using", async () => {
  const sim = await startCluster({ ...FAST, apps: [app("/a", { instances: 3 })] });
  await sim.api.waitForRunning("/a");
  const pids = sim.api.pids();
  assert.equal(pids.length, 3);
  assert.ok(pids.every(pidAlive));
  await Promise.all([sim.close(), sim.close()]);
  assert.ok(!pids.some(pidAlive), "every task process is gone once close() resolves");
  await sim.close();
  await assert.rejects(() => fetch(`${sim.leaderUrl}/ping`));

  let inner: number[] = [];
  {
    await using scoped = await startCluster({ ...FAST, apps: [app("/b")] });
    await scoped.api.waitForRunning("/b");
    inner = scoped.api.pids();
    assert.equal(inner.length, 1);
  }
  assert.ok(!inner.some(pidAlive), "await using stopped it");
});

Deno.test("simCommand serves until stopped: member URLs, --apps, --auth; no task left", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify({ apps: [app("/cli", { instances: 2 })] }));
    const lines: string[] = [];
    const stop = new AbortController();
    let cluster: SimCluster | undefined;
    const done = simCommand(
      ["--listen", "127.0.0.1:0", "--members", "2", "--apps", file, "--auth", "token:T"],
      { print: (l) => lines.push(l), signal: stop.signal, onStarted: (c) => (cluster = c) },
    );
    await new Promise<void>((resolve) => {
      const t = setInterval(() => cluster && (clearInterval(t), resolve()), 10);
    });
    const urls = lines.flatMap((l) => /(http:\/\/\S+)/.exec(l)?.[1] ?? []);
    assert.deepEqual(urls, [...cluster!.urls]);
    assert.ok(lines.some((l) => l.includes(`${cluster!.leaderUrl} (leader)`)));
    const tasks = await cluster!.api.waitForRunning("/cli");
    const pids = cluster!.api.pids();
    const listed = await call(`${urls[1]}/v2/tasks`, { headers: { Authorization: "token=T" } });
    assert.deepEqual(
      (listed.body as Json).tasks.map((t: Json) => t.id).sort(),
      tasks.map((t) => t.id).sort(),
    );
    stop.abort();
    assert.equal(await done, 0);
    assert.ok(!pids.some(pidAlive));
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("simCommand --demo runs one app per networking mode, each reachable, with Traefik rules", async () => {
  const stop = new AbortController();
  let cluster: SimCluster | undefined;
  const done = simCommand(["--listen", "127.0.0.1:0", "--demo"], {
    print: () => {},
    signal: stop.signal,
    onStarted: (c) => (cluster = c),
  });
  try {
    await new Promise<void>((resolve) => {
      const t = setInterval(() => cluster && (clearInterval(t), resolve()), 10);
    });
    await cluster!.api.waitForDeployments(20_000);
    const apps = ((await call(`${cluster!.leaderUrl}/v2/apps?embed=apps.tasks`)).body as Json)
      .apps as Json[];
    assert.equal(apps.length, demoApps().length);
    const modes = new Set(apps.map((a) => a.networks[0].mode));
    assert.deepEqual([...modes].sort(), ["container", "container/bridge", "host"]);
    assert.ok(apps.some((a) => a.readinessChecks?.length === 1 && a.env.SIM_READY_AFTER_MS));
    assert.ok(apps.some((a) => a.env.SIM_ON_SIGTERM === "exit"));
    for (const a of apps) {
      const rule = Object.entries(a.labels as Record<string, string>).find(([k]) =>
        /^traefik\.http\.routers\.[\w-]+\.rule$/.test(k)
      );
      assert.match(rule?.[1] ?? "", /^Host\(`[\w.-]+\.localhost`\)$/, a.id);
      assert.equal(a.tasks.length, a.instances);
      for (const t of a.tasks) {
        // API.md §4: IP-per-task without host port is dialled on its IP, the rest on host:port.
        const [host, port] = a.networks[0].mode === "container"
          ? [t.ipAddresses[0].ipAddress, a.container.portMappings[0].containerPort]
          : [t.host, t.ports[0]];
        const res = await fetch(`http://${host}:${port}/`);
        assert.equal((await res.json()).taskId, t.id);
      }
    }
  } finally {
    stop.abort();
    assert.equal(await done, 0);
  }
});

Deno.test("startCluster() refuses non-loopback addresses and bad sizes", async () => {
  await assert.rejects(() => startCluster({ hostname: "0.0.0.0" }), RangeError);
  await assert.rejects(() => startCluster({ members: 0 }), RangeError);
  await assert.rejects(() => startCluster({ agents: 0 }), RangeError);
  await assert.rejects(() => startCluster({ hostPortRange: [2000, 1000] }), RangeError);
});

Deno.test("simCommand refuses bad usage with exit code 2", async () => {
  const run = (args: string[]) => simCommand(args, { print: () => {} });
  for (
    const args of [
      ["--members", "0"],
      ["--listen", "10.0.0.1:80"],
      ["--auth", "nope"],
      ["--bogus"],
      ["--time-scale", "-1"],
    ]
  ) {
    assert.equal(await run(args), 2, args.join(" "));
  }
  assert.equal(await run(["--help"]), 0);
  assert.equal(await run(["--apps", "/nonexistent/apps.json"]), 1);
});

Deno.test("the simulator process stops every task on SIGTERM before exiting", async () => {
  const file = await Deno.makeTempFile({ suffix: ".json" });
  try {
    await Deno.writeTextFile(file, JSON.stringify([app("/p", { instances: 2 })]));
    const p = await spawnUntil(
      [MAIN, "--listen", "127.0.0.1:0", "--apps", file],
      /(http:\/\/127\.0\.0\.1:\d+) \(leader\)/,
    );
    const url = p.match[1]!;
    let children: number[] = [];
    const deadline = Date.now() + 20_000;
    for (;;) {
      const tasks = ((await call(`${url}/v2/tasks?status=running`)).body as Json).tasks;
      children = childPids(p.child.pid);
      if (tasks.length === 2 && children.length === 2) break;
      if (Date.now() > deadline) throw new Error("tasks did not start");
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(children.every(pidAlive));
    p.child.kill("SIGTERM");
    const status = await p.finish();
    assert.equal(status.code, 0);
    assert.ok(!children.some(pidAlive), "no task outlives the simulator");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("a SIGKILLed simulator leaves no orphans: tasks exit when their stdin closes", async () => {
  const p = await spawnUntil([HOST], /READY (\S+) ([\d,]+)/);
  const pids = p.match[2]!.split(",").map(Number);
  assert.equal(pids.length, 2);
  assert.ok(pids.every(pidAlive));
  p.child.kill("SIGKILL");
  await p.finish();
  await waitGone(pids);
});

Deno.test("handleSignals: SIGINT kills every task and exits 130", async () => {
  const p = await spawnUntil([HOST, "--handle-signals"], /READY (\S+) ([\d,]+)/);
  const pids = p.match[2]!.split(",").map(Number);
  p.child.kill("SIGINT");
  const status = await p.finish();
  assert.equal(status.code, 130);
  await waitGone(pids, 1000);
});

Deno.test("close() ends an event stream that a client opens while the cluster is closing", async () => {
  const sim = await startCluster({ ...FAST, apps: [app("/a", { instances: 2 })] });
  await sim.api.waitForRunning("/a");
  const client = Deno.createHttpClient({});
  try {
    // A provider reconnecting in a loop: its next stream lands mid-close.
    const closing = sim.close();
    const late = await fetch(`${sim.leaderUrl}/v2/events`, {
      headers: { accept: "text/event-stream" },
      client,
    }).catch(() => undefined);
    const ended = late?.body ? late.body.pipeTo(new WritableStream()).catch(() => {}) : undefined;
    const outcome = await within(closing.then(() => "closed"), 5_000, "hung");
    assert.equal(outcome, "closed", "close() must not wait on a stream opened while closing");
    await ended;
  } finally {
    client.close();
  }
});
