/**
 * The processes a benchmark starts and what it reads of them: free ports,
 * spawning a Deno program and waiting for its port, a Pacer configuration,
 * and CPU time and memory from /proc; and the benches' numeric options.
 *
 * /proc files are read through `cat`: Deno asks for --allow-all to read
 * another process's.
 *
 * @module
 */
import { join } from "node:path";

const root = new URL("..", import.meta.url).pathname;

/** A loopback port nobody listens on right now. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** A spawned benchmark process. */
export interface Proc {
  pid: number;
  stop(): Promise<void>;
}

/**
 * Runs `deno <argv>` from the repository root and resolves once it accepts
 * connections on `waitForPort`.
 */
export async function spawn(argv: string[], waitForPort: number): Promise<Proc> {
  const child = new Deno.Command(Deno.execPath(), {
    args: argv,
    cwd: root,
    stdout: "null",
    stderr: "inherit",
    env: { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" },
  }).spawn();
  for (let i = 0; i < 300; i++) {
    try {
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: waitForPort });
      conn.close();
      return {
        pid: child.pid,
        async stop() {
          try {
            child.kill("SIGTERM");
          } catch { /* gone */ }
          await child.status;
        },
      };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  try {
    child.kill("SIGKILL");
  } catch { /* exited already */ }
  throw new Error(`process ${argv.join(" ")} did not listen on ${waitForPort}`);
}

/** The `deno` arguments that run Pacer on a configuration file. */
export function pacerArgs(config: string): string[] {
  return [
    "run",
    "--allow-net",
    "--allow-read",
    "--allow-env",
    "src/main.ts",
    "--configFile",
    config,
  ];
}

/**
 * Runs one of the bench's helper programs (`bench/_upstream.ts`,
 * `bench/_minimal_proxy.ts`, ...) with network access, on `port`.
 */
export function spawnHelper(script: string, port: number, ...args: string[]): Promise<Proc> {
  return spawn(["run", "--allow-net", `bench/${script}`, String(port), ...args], port);
}

/** A numeric `--<name> <value>` option of the bench's command line. */
export function numberOption(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}

/**
 * Writes a Pacer configuration into `dir`: one entrypoint on `port`, and
 * `routers` routers (`Host(app<i>.bench)`) to one service on `upstream`.
 * `readTimeout` sets the entrypoint's (a duration; Pacer's default if absent).
 * Returns the static configuration's path.
 */
export function pacerConfig(
  dir: string,
  port: number,
  upstream: string,
  routers: number,
  options: { readTimeout?: string } = {},
): string {
  const dynamic = join(dir, `dynamic_${routers}.yaml`);
  const lines = ["http:", "  routers:"];
  for (let i = 0; i < routers; i++) {
    lines.push(`    r${i}:`, `      rule: Host(\`app${i}.bench\`)`, "      service: app");
  }
  lines.push(
    "  services:",
    "    app:",
    "      loadBalancer:",
    "        servers:",
    `          - url: ${upstream}`,
  );
  Deno.writeTextFileSync(dynamic, lines.join("\n") + "\n");
  const file = join(dir, `pacer_${port}.yaml`);
  const readTimeout = options.readTimeout === undefined ? [] : [
    "    transport:",
    "      respondingTimeouts:",
    `        readTimeout: ${options.readTimeout}`,
  ];
  Deno.writeTextFileSync(
    file,
    [
      "entryPoints:",
      "  web:",
      `    address: 127.0.0.1:${port}`,
      ...readTimeout,
      "providers:",
      "  file:",
      `    filename: ${dynamic}`,
      "    watch: false",
      "log:",
      "  level: ERROR",
    ].join("\n") + "\n",
  );
  return file;
}

async function procFile(pid: number, name: string): Promise<string> {
  const out = await new Deno.Command("cat", { args: [`/proc/${pid}/${name}`], stdout: "piped" })
    .output();
  return new TextDecoder().decode(out.stdout);
}

/** CPU seconds (user + system) used so far by a process. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = await procFile(pid, "stat");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // fields[11] = utime, fields[12] = stime (clock ticks; 100 per second on Linux)
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** A process's resident set size now (`VmRSS`) or its peak so far (`VmHWM`), in MiB. */
export async function memoryMiB(pid: number, field: "VmRSS" | "VmHWM" = "VmRSS"): Promise<number> {
  const status = await procFile(pid, "status");
  const kB = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return kB / 1024;
}
