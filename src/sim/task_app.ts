/**
 * The process every simulated task runs, whatever its app's `cmd` says.
 *
 * It is spawned by the simulator's supervisor (`tasks.ts`) with
 * `Deno.execPath()` and explicit permissions, and listens on the addresses in
 * `SIM_LISTEN` (a comma list of `ip:port`). It answers every path with its
 * identity; its behaviour comes from the app definition's `env`, so any
 * Marathon client can shape it:
 *
 * | Variable | Effect |
 * | --- | --- |
 * | `SIM_STARTUP_DELAY_MS` | wait this long before listening (the task stays `TASK_STARTING`) |
 * | `SIM_READY_AFTER_MS` | `/ready` answers 503 until this long after listening, then 200 |
 * | `SIM_ON_SIGTERM` | `exit` (default: no handler, the process dies at once) or `drain:<ms>` |
 * | `SIM_RESPONSE_DELAY_MS` | delay every answer (also `?delay=<ms>` per request) |
 * | `SIM_FAIL_RATE` | fraction (0..1) of requests answered 500 |
 * | `SIM_HEALTH_FAIL` | `1`: `/health` starts out failing (503) |
 * | `SIM_CRASH_AFTER_MS` | exit with status 1 this long after listening |
 *
 * Control paths (never delayed or failed): `POST /_sim/health?fail=1|0`,
 * `POST /_sim/ready?ready=1|0|auto`, `POST /_sim/crash`, `GET /_sim/info`, and
 * `/_sim/echo`, which streams the request body back unchanged.
 *
 * The process exits when its stdin reaches EOF: the supervisor holds the other
 * end, so a simulator that dies in any way (even SIGKILL) leaves no orphans.
 *
 * @module
 */

const encoder = new TextEncoder();

function envInt(name: string, fallback: number): number {
  const raw = Deno.env.get(name);
  if (raw === undefined || raw.trim() === "") return fallback;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : fallback;
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

const identity = {
  appId: Deno.env.get("MARATHON_APP_ID") ?? "",
  taskId: Deno.env.get("MESOS_TASK_ID") ?? "",
  version: Deno.env.get("MARATHON_APP_VERSION") ?? "",
  pid: Deno.pid,
};

const listen = (Deno.env.get("SIM_LISTEN") ?? "").split(",").filter((s) => s !== "").map(
  (spec) => {
    const i = spec.lastIndexOf(":");
    return { hostname: spec.slice(0, i), port: Number(spec.slice(i + 1)) };
  },
);
const startupDelayMs = envInt("SIM_STARTUP_DELAY_MS", 0);
const readyAfterMs = envInt("SIM_READY_AFTER_MS", 0);
const responseDelayMs = envInt("SIM_RESPONSE_DELAY_MS", 0);
const failRate = Math.min(1, envInt("SIM_FAIL_RATE", 0));
const crashAfterMs = Deno.env.get("SIM_CRASH_AFTER_MS");
const onSigterm = (Deno.env.get("SIM_ON_SIGTERM") ?? "exit").trim();

let healthFailing = Deno.env.get("SIM_HEALTH_FAIL") === "1";
let readyOverride: boolean | undefined;
let listeningSince = Infinity;
let draining = false;
let inFlight = 0;

function isReady(): boolean {
  return readyOverride ?? performance.now() - listeningSince >= readyAfterMs;
}

function reply(status: number, body: Record<string, unknown>, port: number): Response {
  const headers = new Headers({
    "content-type": "application/json",
    "x-sim-task-id": identity.taskId,
    "x-sim-app-id": identity.appId,
    "x-sim-version": identity.version,
    "x-sim-port": String(port),
  });
  // Traefik's guide: a terminating app stops keep-alive so clients reconnect elsewhere.
  if (draining) headers.set("connection", "close");
  return new Response(JSON.stringify({ ...identity, port, draining, ...body }) + "\n", {
    status,
    headers,
  });
}

async function digest(body: ArrayBuffer): Promise<string> {
  const hash = await crypto.subtle.digest("SHA-256", body);
  return Array.from(new Uint8Array(hash), (b) => b.toString(16).padStart(2, "0")).join("");
}

function control(req: Request, url: URL, port: number): Response {
  switch (url.pathname) {
    case "/_sim/info":
      return reply(200, { healthFailing, ready: isReady(), inFlight }, port);
    case "/_sim/health":
      healthFailing = url.searchParams.get("fail") === "1";
      return reply(200, { healthFailing }, port);
    case "/_sim/ready": {
      const v = url.searchParams.get("ready");
      readyOverride = v === "1" ? true : v === "0" ? false : undefined;
      return reply(200, { ready: isReady() }, port);
    }
    case "/_sim/crash":
      // Exit after the answer is on its way, like a process that dies mid-flight.
      setTimeout(() => Deno.exit(1), 10);
      return reply(200, { crashing: true }, port);
    case "/_sim/echo":
      return new Response(req.body, {
        headers: {
          "content-type": req.headers.get("content-type") ?? "application/octet-stream",
          "x-sim-task-id": identity.taskId,
          ...(draining ? { connection: "close" } : {}),
        },
      });
    default:
      return reply(404, { error: "unknown control path" }, port);
  }
}

async function handle(req: Request, port: number): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname.startsWith("/_sim/")) return control(req, url, port);
  const delay = Number(url.searchParams.get("delay") ?? responseDelayMs);
  await sleep(Number.isFinite(delay) ? delay : 0);
  if (url.pathname === "/health") {
    return reply(healthFailing ? 503 : 200, { healthy: !healthFailing }, port);
  }
  if (url.pathname === "/ready") {
    const ready = isReady();
    return reply(ready ? 200 : 503, { ready }, port);
  }
  const extra: Record<string, unknown> = {};
  if (req.body) {
    const body = await req.arrayBuffer();
    extra.bodyLength = body.byteLength;
    extra.bodySha256 = await digest(body);
  }
  if (failRate > 0 && Math.random() < failRate) {
    return reply(500, { error: "SIM_FAIL_RATE", ...extra }, port);
  }
  return reply(200, {
    method: req.method,
    path: url.pathname,
    query: url.search,
    host: req.headers.get("host"),
    ...extra,
  }, port);
}

async function watchStdin(): Promise<void> {
  try {
    for await (const _ of Deno.stdin.readable) {
      // The supervisor never writes; only EOF matters.
    }
  } catch {
    // A broken pipe means the same as EOF.
  }
  Deno.exit(0);
}

async function main(): Promise<void> {
  watchStdin();
  await sleep(startupDelayMs);
  const servers = listen.map(({ hostname, port }) =>
    Deno.serve({ hostname, port, onListen() {} }, async (req) => {
      inFlight++;
      try {
        return await handle(req, port);
      } finally {
        inFlight--;
      }
    })
  );
  listeningSince = performance.now();
  // The supervisor turns this line into TASK_RUNNING.
  await Deno.stdout.write(encoder.encode(`SIM_LISTENING ${JSON.stringify(listen)}\n`));

  if (crashAfterMs !== undefined) {
    setTimeout(() => Deno.exit(1), Number(crashAfterMs) || 0);
  }

  const drain = /^drain:(\d+)$/.exec(onSigterm);
  if (drain) {
    // The termination handler Traefik's user guide recommends: stop keep-alive, keep accepting
    // long enough for the proxy to notice, stop accepting, finish in-flight, exit.
    const keepAcceptingMs = Number(drain[1]);
    Deno.addSignalListener("SIGTERM", async () => {
      if (draining) return;
      draining = true;
      await sleep(keepAcceptingMs);
      await Promise.all(servers.map((s) => s.shutdown()));
      Deno.exit(0);
    });
  }
  // Without a handler SIGTERM keeps its default action: immediate death, connections reset.
}

if (listen.length === 0) {
  console.error("task_app: SIM_LISTEN is empty");
  Deno.exit(2);
}
main().catch((err) => {
  console.error(`task_app: ${err instanceof Error ? err.message : err}`);
  Deno.exit(1);
});
