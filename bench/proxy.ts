/**
 * `deno task bench`: Pacer against a minimal `Deno.serve` + `fetch` proxy,
 * side by side in one run, loaded through loopback with `wrk`.
 *
 * Prints requests/s, p50/p99 latency and the proxy's CPU time per request
 * (utime + stime of the proxy process from /proc, divided by the requests
 * served) for a 13-byte and a 64 KiB response, then Pacer with 10 routers vs
 * 10,000 routers. Targets: Pacer's CPU per request at most 1.15x the minimal
 * proxy's; 10,000 routers within 1.1x of 10.
 *
 * wrk sends only `Host` by default. A browser sends a dozen headers, and on
 * Deno 2.9 each pass over a `Headers` object that way costs quadratically
 * more (src/util/headers.ts), so the 13-byte case is also run with a
 * browser's request headers.
 *
 * A third proxy, the floor (`_floor_proxy.ts`), is the minimal one plus only
 * what every forwarded request must get (X-Forwarded-* headers, hop-by-hop
 * stripping, an abort signal). It is not a target: it shows how much of
 * Pacer's ratio the requirements alone cost, and how much Pacer adds.
 * The resident memory of Pacer with 10 and with 10,000 routers is printed
 * at the end.
 *
 * Every process (upstream, proxies, wrk) shares the machine's cores, so
 * absolute numbers vary between runs. To keep the ratios honest on a busy
 * machine, scenarios are interleaved over several rounds and each ratio is
 * the median of the per-round ratios.
 *
 * Usage: deno task bench [--duration 3] [--rounds 3] [--connections 32]
 *
 * @module
 */
import {
  cpuSeconds,
  freePort,
  memoryMiB,
  numberOption,
  pacerArgs,
  pacerConfig,
  type Proc,
  spawn,
  spawnHelper,
} from "./_processes.ts";

const DURATION = numberOption("duration", 3);
const ROUNDS = numberOption("rounds", 3);
const CONNECTIONS = numberOption("connections", 32);

interface Result {
  name: string;
  rps: number;
  p50: string;
  p99: string;
  cpuUsPerReq: number;
  errors: number;
}

/** The headers a browser sends on a page load, besides Host and Connection. */
const BROWSER_HEADERS = [
  "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
  "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
  "Accept-Language: en-US,en;q=0.9",
  "Accept-Encoding: gzip, deflate, br, zstd",
  "Cache-Control: max-age=0",
  "Cookie: session=4f2a9c; theme=dark",
  "Upgrade-Insecure-Requests: 1",
  "Sec-Fetch-Dest: document",
  "Sec-Fetch-Mode: navigate",
  "Sec-Fetch-Site: none",
  "Sec-Fetch-User: ?1",
];

async function load(
  name: string,
  port: number,
  path: string,
  host: string,
  pid: number,
  extraHeaders: readonly string[] = [],
): Promise<Result> {
  // One unmeasured second of the same load first (JIT and connection pools
  // on the first round): a V8 left idle while the other scenarios ran has
  // shrunk its heap, and the first second after idle pays for growing it
  // back (most for the large heap of 10,000 routers).
  await new Deno.Command("wrk", {
    args: ["-t1", "-c8", "-d1s", "-H", `Host: ${host}`, `http://127.0.0.1:${port}${path}`],
    stdout: "null",
  }).output();
  const before = await cpuSeconds(pid);
  const out = await new Deno.Command("wrk", {
    args: [
      "-t2",
      `-c${CONNECTIONS}`,
      `-d${DURATION}s`,
      "--latency",
      "-H",
      `Host: ${host}`,
      ...extraHeaders.flatMap((h) => ["-H", h]),
      `http://127.0.0.1:${port}${path}`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const cpu = (await cpuSeconds(pid)) - before;
  const text = new TextDecoder().decode(out.stdout);
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? 0);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? 0);
  const p50 = /\s50%\s+(\S+)/.exec(text)?.[1] ?? "?";
  const p99 = /\s99%\s+(\S+)/.exec(text)?.[1] ?? "?";
  const errs = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const errors = Number(errs?.[1] ?? 0) +
    (socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0);
  return { name, rps, p50, p99, cpuUsPerReq: requests ? (cpu / requests) * 1e6 : NaN, errors };
}

function print(results: Result[]): void {
  const head = ["scenario", "req/s", "p50", "p99", "CPU µs/req", "errors"];
  const rows = results.map((r) => [
    r.name,
    r.rps.toFixed(0),
    r.p50,
    r.p99,
    r.cpuUsPerReq.toFixed(1),
    String(r.errors),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(head));
  for (const row of rows) console.log(line(row));
}

const dir = await Deno.makeTempDir({ prefix: "pacer-bench-" });
const upstreamPort = freePort();
const baselinePort = freePort();
const floorPort = freePort();
const pacerPort = freePort();
const pacerManyPort = freePort();
const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
const procs: Proc[] = [];
try {
  procs.push(await spawnHelper("_upstream.ts", upstreamPort));
  const baseline = await spawnHelper("_minimal_proxy.ts", baselinePort, upstreamOrigin);
  procs.push(baseline);
  const floor = await spawnHelper("_floor_proxy.ts", floorPort, upstreamOrigin);
  procs.push(floor);
  const pacer = await spawn(pacerArgs(pacerConfig(dir, pacerPort, upstreamOrigin, 10)), pacerPort);
  procs.push(pacer);
  const many = await spawn(
    pacerArgs(pacerConfig(dir, pacerManyPort, upstreamOrigin, 10_000)),
    pacerManyPort,
  );
  procs.push(many);
  console.log(
    `\nwrk: 2 threads, ${CONNECTIONS} connections, ${DURATION}s per scenario, ${ROUNDS} rounds\n`,
  );
  const browser = BROWSER_HEADERS;
  const scenarios: [string, number, string, string, number, (readonly string[])?][] = [
    ["minimal proxy /small", baselinePort, "/small", "app5.bench", baseline.pid],
    ["floor proxy /small", floorPort, "/small", "app5.bench", floor.pid],
    ["pacer /small", pacerPort, "/small", "app5.bench", pacer.pid],
    ["minimal proxy /small, browser", baselinePort, "/small", "app5.bench", baseline.pid, browser],
    ["floor proxy /small, browser", floorPort, "/small", "app5.bench", floor.pid, browser],
    ["pacer /small, browser", pacerPort, "/small", "app5.bench", pacer.pid, browser],
    ["minimal proxy /64k", baselinePort, "/64k", "app5.bench", baseline.pid],
    ["pacer /64k", pacerPort, "/64k", "app5.bench", pacer.pid],
    ["pacer 10,000 routers /small", pacerManyPort, "/small", "app5000.bench", many.pid],
  ];
  const rounds: Result[][] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const results: Result[] = [];
    for (const [name, port, path, host, pid, extra] of scenarios) {
      results.push(await load(name, port, path, host, pid, extra));
    }
    rounds.push(results);
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  // Table: the median round of each scenario.
  print(scenarios.map(([name]) => {
    const runs = rounds.map((r) => r.find((x) => x.name === name)!);
    const m = median(runs.map((r) => r.cpuUsPerReq));
    return runs.find((r) => r.cpuUsPerReq === m)!;
  }));
  const ratio = (a: string, b: string) =>
    median(rounds.map((r) => {
      const cpu = (n: string) => r.find((x) => x.name === n)!.cpuUsPerReq;
      return cpu(a) / cpu(b);
    })).toFixed(2);
  console.log("\nratios, median of rounds (lower is better):");
  console.log(
    `  CPU/req pacer ÷ minimal, 13 B:   ${
      ratio("pacer /small", "minimal proxy /small")
    }  (target ≤ 1.15)`,
  );
  console.log(
    `  CPU/req pacer ÷ minimal, 13 B, browser request headers: ${
      ratio("pacer /small, browser", "minimal proxy /small, browser")
    }`,
  );
  console.log(
    `  CPU/req pacer ÷ minimal, 64 KiB: ${
      ratio("pacer /64k", "minimal proxy /64k")
    }  (target ≤ 1.15)`,
  );
  console.log(
    `  CPU/req 10,000 ÷ 10 routers:     ${
      ratio("pacer 10,000 routers /small", "pacer /small")
    }  (target ≤ 1.10)`,
  );
  console.log(
    "\nwhere the 13 B ratio comes from (floor: the minimal proxy plus the requirements):",
  );
  console.log(
    `  CPU/req floor ÷ minimal: ${ratio("floor proxy /small", "minimal proxy /small")}, ` +
      `browser headers ${ratio("floor proxy /small, browser", "minimal proxy /small, browser")}`,
  );
  console.log(
    `  CPU/req pacer ÷ floor:   ${ratio("pacer /small", "floor proxy /small")}, ` +
      `browser headers ${ratio("pacer /small, browser", "floor proxy /small, browser")}`,
  );
  console.log(
    `\nresident memory after the load: pacer, 10 routers ${
      (await memoryMiB(pacer.pid)).toFixed(0)
    } MiB; ` +
      `10,000 routers ${(await memoryMiB(many.pid)).toFixed(0)} MiB`,
  );
} finally {
  for (const p of procs.reverse()) await p.stop();
  await Deno.remove(dir, { recursive: true });
}
