/**
 * `pacer sim`: runs a simulated Marathon cluster until SIGINT/SIGTERM, then
 * stops every task process.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import { type SimCluster, type SimOptions, startCluster } from "./cluster.ts";
import { demoApps } from "./demo_apps.ts";
import { MarathonError } from "./errors.ts";

const USAGE = `Usage: pacer sim [options]

Runs a simulated Marathon cluster whose tasks are real local processes.

Options:
  --listen HOST:PORT       address of member 0 (member i uses PORT+i) [127.0.0.1:8080]
  --members N              Marathon instances sharing one state [1]
  --apps FILE              app definitions to deploy (JSON or YAML: a list, or {"apps": [...]})
  --demo                   deploy the demo apps (one per networking mode, readiness, no handler)
  --legacy-networking      answer in the pre-1.5 shape (ports, ipAddress, docker.network)
  --auth basic:USER:PASS   require HTTP basic auth
  --auth token:TOKEN       require "Authorization: token=TOKEN" (DC/OS)
  --agents N               simulated agents, 127.0.0.2 upward [3]
  --no-task-killing        turn the task_killing feature off (no TASK_KILLING state)
  --keep-alive-ms MS       SSE keep-alive period [10000]
  --time-scale X           multiply every duration from app definitions [1]
  -h, --help               show this help
`;

/** Test seams of {@linkcode simCommand}. */
export interface SimCommandIo {
  /** Output lines (member URLs, errors). @default {console.log / console.error} */
  readonly print?: (line: string) => void;
  /** Stops the simulator like SIGTERM would. */
  readonly signal?: AbortSignal;
  /** Called once the cluster runs. */
  readonly onStarted?: (cluster: SimCluster) => void;
}

class UsageError extends Error {}

function parseListen(value: string): { hostname: string; port: number } {
  const i = value.lastIndexOf(":");
  const hostname = i > 0 ? value.slice(0, i) : "127.0.0.1";
  const port = Number(i >= 0 ? value.slice(i + 1) : value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UsageError(`--listen must be HOST:PORT: current value is '${value}'`);
  }
  if (!hostname.startsWith("127.")) {
    throw new UsageError(
      `--listen must be a loopback address (127.x): current value is '${value}'`,
    );
  }
  return { hostname, port };
}

function parseAuth(value: string): NonNullable<SimOptions["auth"]> {
  if (value.startsWith("basic:")) {
    const rest = value.slice(6);
    const i = rest.indexOf(":");
    if (i <= 0) throw new UsageError("--auth basic needs basic:USER:PASS");
    return { basic: { user: rest.slice(0, i), password: rest.slice(i + 1) } };
  }
  if (value.startsWith("token:") && value.length > 6) return { token: value.slice(6) };
  throw new UsageError(
    `--auth must be basic:USER:PASS or token:TOKEN: current value is '${value}'`,
  );
}

function positiveInt(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) {
    throw new UsageError(`--${name} must be a positive integer: current value is '${value}'`);
  }
  return n;
}

async function loadApps(path: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(path);
  const data = /\.ya?ml$/i.test(path) ? parseYaml(text) : JSON.parse(text);
  if (Array.isArray(data)) return data;
  if (data && typeof data === "object" && Array.isArray((data as { apps?: unknown }).apps)) {
    return (data as { apps: unknown[] }).apps;
  }
  if (data && typeof data === "object") return [data];
  throw new UsageError(`${path} must hold a list of apps, {"apps": [...]}, or one app`);
}

/**
 * Runs `pacer sim` until SIGINT/SIGTERM (or `io.signal`).
 *
 * @param args Arguments after `sim`.
 * @param io Output and stop seams for tests.
 * @returns Exit code: 0 after a clean stop, 1 on a runtime error, 2 on bad usage.
 */
export async function simCommand(args: string[], io: SimCommandIo = {}): Promise<number> {
  const print = io.print ?? ((line: string) => console.log(line));
  let options: SimOptions;
  try {
    const { values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        listen: { type: "string" },
        members: { type: "string" },
        apps: { type: "string" },
        demo: { type: "boolean" },
        "legacy-networking": { type: "boolean" },
        auth: { type: "string" },
        agents: { type: "string" },
        "no-task-killing": { type: "boolean" },
        "keep-alive-ms": { type: "string" },
        "time-scale": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
    if (values.help) {
      print(USAGE);
      return 0;
    }
    const listen = parseListen(values.listen ?? "127.0.0.1:8080");
    const apps = [
      ...(values.demo ? demoApps() : []),
      ...(values.apps !== undefined ? await loadApps(values.apps) : []),
    ];
    const timeScale = values["time-scale"] !== undefined ? Number(values["time-scale"]) : 1;
    if (!(timeScale > 0)) throw new UsageError("--time-scale must be a positive number");
    options = {
      hostname: listen.hostname,
      port: listen.port,
      members: positiveInt("members", values.members, 1),
      agents: positiveInt("agents", values.agents, 3),
      legacyNetworking: values["legacy-networking"] ?? false,
      taskKilling: !values["no-task-killing"],
      keepAliveMs: positiveInt("keep-alive-ms", values["keep-alive-ms"], 10_000),
      timeScale,
      apps,
      log: (line) => console.error(line),
      ...(values.auth !== undefined ? { auth: parseAuth(values.auth) } : {}),
    };
  } catch (err) {
    print(`pacer sim: ${err instanceof Error ? err.message : err}`);
    if (
      err instanceof UsageError || (err as { code?: string }).code?.startsWith("ERR_PARSE_ARGS")
    ) {
      print(USAGE);
      return 2;
    }
    return 1;
  }

  let cluster: SimCluster;
  try {
    cluster = await startCluster(options);
  } catch (err) {
    const detail = err instanceof MarathonError ? JSON.stringify(err.body) : String(err);
    print(`pacer sim: cannot start: ${detail}`);
    return 1;
  }

  const stopped = Promise.withResolvers<void>();
  const stop = () => stopped.resolve();
  const signals = ["SIGINT", "SIGTERM"] as const;
  for (const sig of signals) Deno.addSignalListener(sig, stop);
  io.signal?.addEventListener("abort", stop);
  if (io.signal?.aborted) stop();
  try {
    print("Marathon simulator running; members:");
    cluster.urls.forEach((url) => print(`  ${url}${url === cluster.leaderUrl ? " (leader)" : ""}`));
    io.onStarted?.(cluster);
    await stopped.promise;
  } finally {
    for (const sig of signals) Deno.removeSignalListener(sig, stop);
    io.signal?.removeEventListener("abort", stop);
    await cluster.close();
  }
  print("Marathon simulator stopped; every task process is gone.");
  return 0;
}
