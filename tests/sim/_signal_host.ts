/**
 * A host process for the shutdown tests: starts a cluster with one app and
 * prints its leader URL. With `--handle-signals` the cluster installs its own
 * SIGINT/SIGTERM handlers; without, nothing does (default signal actions).
 */
import { startCluster } from "../../src/sim/mod.ts";

const sim = await startCluster({
  handleSignals: Deno.args.includes("--handle-signals"),
  stagingMs: 5,
  apps: [{ id: "/host", cmd: "x", instances: 2 }],
});
await sim.api.waitForRunning("/host", 2, 20_000);
console.log(`READY ${sim.leaderUrl} ${sim.api.pids().join(",")}`);
// Keep the process alive until a signal ends it.
setInterval(() => {}, 1 << 30);
