/**
 * Marathon cluster simulator: a Marathon REST and event API over HTTP whose
 * tasks are real processes serving real HTTP on loopback addresses, for
 * testing Marathon clients (Pacer's provider first) end to end.
 *
 * @example
 * ```ts
 * import { startCluster } from "./mod.ts";
 *
 * await using sim = await startCluster({ members: 2 });
 * await sim.api.deploy({ id: "/web", cmd: "serve", instances: 2 });
 * const [task] = await sim.api.waitForRunning("/web");
 * await fetch(`http://${task!.host}:${task!.ports[0]}/`);
 * ```
 *
 * @module
 */

export {
  type SimApi,
  type SimCluster,
  type SimFaults,
  type SimOptions,
  type SimTaskView,
  startCluster,
} from "./cluster.ts";
export { MarathonError } from "./errors.ts";
export type { MarathonEvent } from "./events.ts";
export type { DeploymentRef } from "./marathon.ts";
export type { Endpoint } from "./networking.ts";
export { demoApps } from "./demo_apps.ts";
export { simCommand, type SimCommandIo } from "./cli.ts";
export type { JsonObject } from "./json_reader.ts";
