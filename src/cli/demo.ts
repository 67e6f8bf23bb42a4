/**
 * `pacer demo` (`deno task demo`): a simulated Marathon cluster running the
 * demo apps (one per networking mode, one with readiness checks, one
 * without a termination handler) and Pacer in front of it, with the API and
 * dashboard. Prints what to try; Ctrl-C stops Pacer, then every task.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { createLogger } from "../log/logger.ts";
import { builtinRegistry } from "../middleware/builtins.ts";
import { marathonProvider } from "../provider/marathon/provider.ts";
import { Pacer } from "../server/pacer.ts";
import { demoApps, startCluster } from "../sim/mod.ts";
import type { CommandIO } from "./run.ts";
import { VERSION } from "../version.ts";

const HELP = `pacer demo [--port 8000] [--api-port 9000] [--marathon-port 8080] [--members 2]

Starts a simulated Marathon cluster with demo apps and Pacer in front of it.
`;

/** Hosts routed by the demo apps' labels (see src/sim/demo_apps.ts). */
function demoHosts(): { id: string; host: string; note: string }[] {
  const notes: Record<string, string> = {
    "/demo/whoami": "host networking; drains 2 s on SIGTERM",
    "/demo/bridge": "container/bridge networking (host port mapped)",
    "/demo/ippc": "IP-per-task container networking",
    "/demo/slow-start": "readiness check passes 3 s after start",
    "/demo/abrupt": "no termination handler: exits at once on SIGTERM",
  };
  return (demoApps() as { id: string; labels: Record<string, string> }[]).map((app) => {
    const rule = Object.entries(app.labels).find(([k]) => k.endsWith(".rule"))?.[1] ?? "";
    return {
      id: app.id,
      host: /Host\(`([^`]+)`\)/.exec(rule)?.[1] ?? "?",
      note: notes[app.id] ?? "",
    };
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      resolve();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}

/** Runs the demo until Ctrl-C. Returns the exit code. */
export async function demoCommand(args: string[], io: CommandIO): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8000" },
      "api-port": { type: "string", default: "9000" },
      "marathon-port": { type: "string", default: "8080" },
      members: { type: "string", default: "2" },
      help: { type: "boolean" },
    },
  });
  if (values.help) {
    io.stdout(HELP);
    return 0;
  }
  const log = createLogger({ level: "info" });
  io.stdout(
    `Starting a simulated Marathon cluster (${values.members} members) with the demo apps...\n`,
  );
  const cluster = await startCluster({
    port: Number(values["marathon-port"]),
    members: Number(values.members),
    apps: demoApps(),
  }).catch((error) => {
    io.stderr(`Cannot start the simulator: ${(error as Error).message} (try --marathon-port 0)\n`);
    return undefined;
  });
  if (!cluster) return 1;
  const registry = builtinRegistry();
  const pacer = new Pacer({
    entryPoints: [
      { name: "web", hostname: "127.0.0.1", port: Number(values.port), isTrusted: () => false },
      {
        name: "traefik",
        hostname: "127.0.0.1",
        port: Number(values["api-port"]),
        isTrusted: () => false,
      },
    ],
    providers: [
      marathonProvider({
        endpoint: cluster.urls.join(","),
        respectReadinessChecks: true,
        exposedByDefault: false,
      }, { log, registry }),
    ],
    throttleMs: 500,
    registry,
    log,
    api: { insecure: true, dashboard: true },
    ping: { entryPoint: "traefik", manualRouting: false, terminatingStatusCode: 503 },
    drainTimeoutMs: 30_000,
    version: VERSION,
  });
  try {
    await pacer.start();
  } catch (error) {
    io.stderr(`Cannot start Pacer: ${(error as Error).message} (try --port / --api-port)\n`);
    await cluster.close();
    return 1;
  }
  const web = pacer.entryPoint("web").addr;
  const api = pacer.entryPoint("traefik").addr;
  const base = `http://127.0.0.1:${web.port}`;
  const lines = [
    "",
    `Pacer is routing on ${base}  (dashboard: http://127.0.0.1:${api.port}/dashboard/)`,
    `Simulated Marathon: ${cluster.urls.join(", ")}`,
    "",
    "Try (apps need a few seconds to start; readiness delays /demo/slow-start):",
    ...demoHosts().map((d) => `  curl -H 'Host: ${d.host}' ${base}/   # ${d.id}: ${d.note}`),
    "",
    "Watch a rolling deploy with zero failed requests:",
    `  while true; do curl -s -o /dev/null -w '%{http_code} ' -H 'Host: abrupt.localhost' ${base}/; done`,
    `  curl -X POST ${cluster.urls[0]}/v2/apps/demo/abrupt/restart     # in another terminal`,
    `  curl -s http://127.0.0.1:${api.port}/api/rawdata | jq .draining   # servers draining right now`,
    "",
    "Ctrl-C stops Pacer and every task.",
    "",
  ];
  io.stdout(lines.join("\n"));
  await untilSignal();
  io.stdout("\nStopping...\n");
  await pacer.stop();
  await cluster.close();
  return 0;
}
