/**
 * A simulated Marathon cluster with one 3-instance app, and a real Pacer in
 * front of it through the Marathon provider — the setup of every
 * zero-downtime scenario.
 *
 * @module
 */
import { memoryLogger } from "../../src/log/logger.ts";
import { builtinRegistry } from "../../src/middleware/builtins.ts";
import { marathonProvider } from "../../src/provider/marathon/provider.ts";
import type { SimCluster, SimOptions } from "../../src/sim/mod.ts";
import { fastCluster } from "../_helpers/sim.ts";
import { startPacer, type TestPacer } from "../_helpers/pacer.ts";
import type { ChainStages } from "../../src/server/build.ts";

/** The app every scenario deploys. */
export const APP = "/zdd";
export const HOST = "zdd.test";

/** The app definition: 3 instances, readiness on /ready, TASK_KILLING grace. */
export function zddApp(options: {
  env?: Record<string, string>;
  labels?: Record<string, string>;
  instances?: number;
} = {}): Record<string, unknown> {
  return {
    id: APP,
    cmd: "serve",
    instances: options.instances ?? 3,
    networks: [{ mode: "host" }],
    portDefinitions: [{ port: 0, name: "http" }],
    env: options.env ?? {},
    taskKillGracePeriodSeconds: 3,
    readinessChecks: [{
      name: "ready",
      protocol: "HTTP",
      path: "/ready",
      portName: "http",
      intervalSeconds: 0.1,
      timeoutSeconds: 0.05,
    }],
    labels: {
      "traefik.http.routers.zdd.rule": `Host(\`${HOST}\`)`,
      ...options.labels,
    },
  };
}

/** A running scenario. */
export interface Stack extends AsyncDisposable {
  readonly sim: SimCluster;
  readonly pacer: TestPacer;
  /** One request through Pacer to the app. */
  send(method: "GET" | "POST", body?: Uint8Array<ArrayBuffer>): Promise<Response>;
  /** Resolves once Pacer routes to `n` distinct tasks of the app. */
  routedTo(n: number): Promise<void>;
  readonly logs: ReturnType<typeof memoryLogger>;
}

/** Starts the simulator with the app, and Pacer in front. */
export async function startStack(options: {
  app?: Record<string, unknown>;
  sim?: SimOptions;
  chain?: ChainStages;
} = {}): Promise<Stack> {
  const sim = await fastCluster({ taskKilling: true, ...options.sim });
  await sim.api.deploy(options.app ?? zddApp());
  await sim.api.waitForDeployments(20_000);
  const logs = memoryLogger("warn");
  const registry = builtinRegistry();
  const pacer = await startPacer({
    log: logs.log,
    registry,
    throttleMs: 100,
    drainTimeoutMs: 10_000,
    ...(options.chain ? { chain: options.chain } : {}),
    providers: [
      marathonProvider({ endpoint: sim.urls.join(","), respectReadinessChecks: true }, {
        log: logs.log,
        registry,
        timing: {
          reconnectInitialMs: 50,
          reconnectMaxMs: 500,
          retryInitialMs: 50,
          retryMaxMs: 500,
        },
      }),
    ],
  });
  const send = (method: "GET" | "POST", body?: Uint8Array<ArrayBuffer>) =>
    pacer.request(HOST, "/work", body ? { method, body } : { method });
  const routedTo = async (n: number) => {
    const seen = new Set<string>();
    for (let i = 0; i < 400 && seen.size < n; i++) {
      const res = await send("GET").catch(() => undefined);
      if (res?.status === 200) seen.add(((await res.json()) as { taskId: string }).taskId);
      else {
        await res?.body?.cancel();
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    if (seen.size < n) throw new Error(`Pacer routes to ${seen.size} tasks, wanted ${n}`);
  };
  await routedTo(3);
  return {
    sim,
    pacer,
    send,
    routedTo,
    logs,
    async [Symbol.asyncDispose]() {
      await pacer[Symbol.asyncDispose]();
      await sim.close();
    },
  };
}
