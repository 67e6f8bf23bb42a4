/**
 * Which address a Marathon task is dialed at: host detection (TRAEFIK_PROVIDER.md
 * §8) and port detection (§11), with one deliberate correction.
 *
 * **Where Pacer differs from Traefik** (NOTES.md §1.5, API.md §4 "Which
 * address to dial"): Traefik pairs the *container IP* with a *host port*
 * whenever an app is on a `container` network (or legacy IP-per-task), which
 * only works by accident. Pacer keeps Traefik's choice of *port* and fixes the
 * *host*:
 *
 * - a port taken from `task.ports` is a host port, so it is dialed on the
 *   agent (`task.host`), whatever the networking mode;
 * - on a `container` network whose mappings have no host port (`task.ports`
 *   empty), Traefik finds no port; Pacer dials `ipAddresses[idx]` on the
 *   mapping's `containerPort` (`container.portMappings`, in order);
 * - `name:X` also searches `container.portMappings` by name (after
 *   `portDefinitions` and discovery ports, as Traefik): a mapping with a host
 *   port is dialed on the agent with the task's matching host port, one
 *   without on the container IP and its `containerPort`.
 *
 * Everything else is Traefik's: an explicit numeric port, a `portDefinitions`
 * fallback and legacy `ipAddress.discovery` ports are dialed on the container
 * IP in IP mode and on the agent in host mode; `forceTaskHostname` always
 * dials the agent; app-level `ports` are never used.
 *
 * Crash fixes (§15): `ipaddressidx` must be below the number of addresses
 * (Traefik lets `idx == N` through and panics); `networks: []` and a discovery
 * without `ports` are read as absent by `types.ts`.
 *
 * @module
 */
import type { MarathonApp, MarathonTask } from "./types.ts";

/** Inputs besides the app and task. */
export interface EndpointOptions {
  /** `providers.marathon.forceTaskHostname`. */
  readonly forceTaskHostname: boolean;
  /** `<prefix>.marathon.ipaddressidx`, or `undefined` when unset. */
  readonly ipAddressIdx: number | undefined;
  /** The label prefix, for messages (`traefik`). */
  readonly labelPrefix: string;
}

/** A resolved address, or why there is none. */
export type EndpointResult =
  | { readonly ok: true; readonly host: string; readonly port: number }
  | { readonly ok: false; readonly error: string };

type PortChoice =
  | { ok: true; port: number; on: "agent" | "container" | "mode" }
  | { ok: false; error: string };

/** Go's `strconv.Atoi` (decimal, optional sign); `undefined` when invalid. */
function goAtoi(text: string): number | undefined {
  if (!/^[+-]?[0-9]+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}

/** True when the app runs in IP mode (Traefik's rule, §8 step 1). */
export function isIpMode(app: MarathonApp): boolean {
  return app.networkMode !== undefined
    ? app.networkMode === "container"
    : app.ipAddress !== undefined;
}

function choosePort(
  app: MarathonApp,
  task: MarathonTask,
  spec: string,
  ipMode: boolean,
): PortChoice {
  if (spec !== "" && !spec.startsWith("index:") && !spec.startsWith("name:")) {
    const port = goAtoi(spec);
    if (port === undefined) {
      return {
        ok: false,
        error: `port label value ${JSON.stringify(spec)} is not a number, index:N or name:X`,
      };
    }
    if (port <= 0) {
      return { ok: false, error: `explicitly specified port ${port} must be greater than zero` };
    }
    if (port > 65535) {
      return { ok: false, error: `explicitly specified port ${port} must be at most 65535` };
    }
    return { ok: true, port, on: "mode" };
  }

  if (spec.startsWith("name:")) {
    const name = spec.slice("name:".length);
    for (const def of app.portDefinitions) {
      if (def.port !== undefined && def.port > 0 && def.name === name) {
        return { ok: true, port: def.port, on: "mode" };
      }
    }
    for (const def of app.ipAddress?.discoveryPorts ?? []) {
      if (def.number > 0 && def.name === name) return { ok: true, port: def.number, on: "mode" };
    }
    // Pacer: Marathon 1.5 names ports in container.portMappings (Traefik does not look).
    let hostIndex = 0;
    for (const m of app.portMappings) {
      const hasHostPort = m.hostPort !== undefined;
      if (m.name === name && m.name !== "") {
        if (hasHostPort) {
          const port = task.ports[hostIndex];
          if (port === undefined) {
            return {
              ok: false,
              error: `port mapping ${JSON.stringify(name)} has a host port but the task has none`,
            };
          }
          return { ok: true, port, on: "agent" };
        }
        if (m.containerPort !== undefined && m.containerPort > 0 && ipMode) {
          return { ok: true, port: m.containerPort, on: "container" };
        }
      }
      if (hasHostPort) hostIndex++;
    }
    return { ok: false, error: `no port with name ${name}` };
  }

  let candidates: readonly number[];
  let on: "agent" | "container" | "mode" = "mode";
  if (task.ports.length > 0) {
    candidates = task.ports;
    on = "agent";
  } else if (app.portDefinitions.length > 0) {
    candidates = app.portDefinitions.flatMap((d) => (d.port === undefined ? [] : [d.port]));
  } else if (app.ipAddress && app.ipAddress.discoveryPorts.length > 0) {
    candidates = app.ipAddress.discoveryPorts.map((p) => p.number);
  } else if (ipMode) {
    // Pacer: container network without host ports: the container ports.
    candidates = app.portMappings.flatMap((m) =>
      m.hostPort === undefined && m.containerPort !== undefined && m.containerPort > 0
        ? [m.containerPort]
        : []
    );
    on = "container";
  } else {
    candidates = [];
  }
  if (candidates.length === 0) return { ok: false, error: "no port found" };

  let index = 0;
  if (spec.startsWith("index:")) {
    const parsed = goAtoi(spec.slice("index:".length));
    if (parsed === undefined) {
      return {
        ok: false,
        error: `port label value ${JSON.stringify(spec)}: the index is not a number`,
      };
    }
    if (parsed < 0 || parsed > candidates.length - 1) {
      return {
        ok: false,
        error: `index ${parsed} must be within range (0, ${candidates.length - 1})`,
      };
    }
    index = parsed;
  }
  return { ok: true, port: candidates[index]!, on };
}

function taskIp(task: MarathonTask, options: EndpointOptions): EndpointResult | string {
  const n = task.ipAddresses.length;
  const label = `${options.labelPrefix}.marathon.ipaddressidx`;
  if (n === 0) {
    return {
      ok: false,
      error: `the app is on a container network (IP per task) but the task has no IP address yet`,
    };
  }
  let ip: string;
  if (n === 1) ip = task.ipAddresses[0]!;
  else {
    const idx = options.ipAddressIdx;
    if (idx === undefined) {
      return {
        ok: false,
        error: `found ${n} task IP addresses but no ${label} label; set it to one of 0..${n - 1}`,
      };
    }
    // Traefik accepts idx == n here and then panics; Pacer rejects it.
    if (idx < 0 || idx >= n) {
      return {
        ok: false,
        error: `${label}=${idx} cannot select from ${n} task IP addresses; set it to one of 0..${
          n - 1
        }`,
      };
    }
    ip = task.ipAddresses[idx]!;
  }
  if (ip === "") return { ok: false, error: `the task's IP address is empty` };
  return ip;
}

/**
 * Resolves the address of `task` for a service whose port label is `portSpec`
 * (`""`, a number, `index:N` or `name:X`).
 */
export function resolveEndpoint(
  app: MarathonApp,
  task: MarathonTask,
  portSpec: string,
  options: EndpointOptions,
): EndpointResult {
  const ipMode = isIpMode(app);
  // Traefik resolves the host before the port; keep its error precedence
  // where the host does not depend on the port.
  if ((!ipMode || options.forceTaskHostname) && task.host === "") {
    return { ok: false, error: `the task's host is undefined` };
  }
  const choice = choosePort(app, task, portSpec, ipMode);
  if (!choice.ok) return { ok: false, error: `cannot choose a port: ${choice.error}` };
  const useAgent = options.forceTaskHostname || choice.on === "agent" ||
    (choice.on === "mode" && !ipMode);
  if (useAgent) {
    if (task.host === "") return { ok: false, error: `the task's host is undefined` };
    return { ok: true, host: task.host, port: choice.port };
  }
  const ip = taskIp(task, options);
  if (typeof ip !== "string") return ip;
  return { ok: true, host: ip, port: choice.port };
}

/** Go's `net.JoinHostPort`: brackets hosts that contain a colon (IPv6). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
