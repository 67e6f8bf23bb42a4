/**
 * Both networking generations: normalizes legacy input (`ipAddress`,
 * `container.docker.network`, `docker.portMappings`, `ports`) and 1.5 input
 * (`networks`, `container.portMappings`) into one canonical model, renders it
 * back in either shape, and decides where a task listens and what Marathon
 * reports for it (API.md §4 "Which address to dial").
 *
 * @module
 */

import { isObject, type JsonObject, type JsonReader } from "./json_reader.ts";

/** 1.5 network modes. */
export type NetworkMode = "host" | "container/bridge" | "container";

/** One `networks[]` entry. */
export interface Network {
  /** Mode. */
  readonly mode: NetworkMode;
  /** Network name (container mode). */
  readonly name?: string;
  /** Network labels. */
  readonly labels?: Readonly<Record<string, string>>;
}

/** One `portDefinitions[]` entry (host mode); `port` is the service port. */
export interface PortDefinition {
  /** Service port (0 = assign). */
  port: number;
  /** `tcp`, `udp` or `udp,tcp`. */
  readonly protocol: string;
  /** Port name. */
  readonly name?: string;
  /** Port labels. */
  readonly labels: Readonly<Record<string, string>>;
}

/** One `container.portMappings[]` entry (container modes). */
export interface PortMapping {
  /** Port inside the container (0 = the host port). */
  readonly containerPort: number;
  /** Host port: absent = none (container mode), 0 = dynamic. */
  readonly hostPort?: number;
  /** Service port (0 = assign). */
  servicePort: number;
  /** Protocol. */
  readonly protocol: string;
  /** Port name. */
  readonly name?: string;
  /** Port labels. */
  readonly labels: Readonly<Record<string, string>>;
  /** Networks the host port applies to. */
  readonly networkNames?: readonly string[];
}

/** The canonical container (1.5 shape, without legacy network fields). */
export interface Container {
  /** `DOCKER` or `MESOS`. */
  readonly type: string;
  /** Docker settings other than `network`/`portMappings`. */
  readonly docker?: Readonly<JsonObject>;
  /** Volumes as given. */
  readonly volumes: readonly unknown[];
  /** Port mappings (container modes only). */
  readonly portMappings?: PortMapping[];
  /** Other container fields, passed through. */
  readonly extras: Readonly<JsonObject>;
}

/** An app's networking, canonical. */
export interface Networking {
  /** Networks; never empty. */
  readonly networks: readonly Network[];
  /** Container, if any. */
  readonly container: Container | null;
  /** Host-mode port definitions (`[]` in container modes). */
  readonly portDefinitions: PortDefinition[];
  /** Host ports must equal service ports (host mode). */
  readonly requirePorts: boolean;
}

/** The networking mode of an app. */
export function networkMode(n: Networking): NetworkMode {
  return n.networks[0]?.mode ?? "host";
}

/** The app's ports, in port-index order, whatever the mode. */
export function portEntries(n: Networking): readonly (PortDefinition | PortMapping)[] {
  return networkMode(n) === "host" ? n.portDefinitions : n.container?.portMappings ?? [];
}

/** Service ports in port-index order. */
export function servicePorts(n: Networking): number[] {
  return networkMode(n) === "host"
    ? n.portDefinitions.map((p) => p.port)
    : (n.container?.portMappings ?? []).map((p) => p.servicePort);
}

/** The port index of a named port, or -1. */
export function portIndexByName(n: Networking, name: string): number {
  return portEntries(n).findIndex((p) => p.name === name);
}

const MODES: readonly string[] = ["host", "container/bridge", "container"];

function readNetworks(r: JsonReader, raw: unknown[], defaultName: string): Network[] {
  const out: Network[] = [];
  raw.forEach((v, i) => {
    const path = `/networks(${i})`;
    const o = r.obj(v, path);
    if (!o) return;
    const mode = r.str(o.mode, `${path}/mode`) ?? "container";
    if (!MODES.includes(mode)) {
      r.invalid(`${path}/mode`, `error.unknown.enum.literal: ${mode} not in ${MODES.join(", ")}`);
      return;
    }
    const name = r.str(o.name, `${path}/name`);
    const labels = r.strMap(o.labels, `${path}/labels`);
    out.push({
      mode: mode as NetworkMode,
      ...(name !== undefined ? { name } : mode === "container" ? { name: defaultName } : {}),
      ...(labels !== undefined ? { labels } : {}),
    });
  });
  if (out.length > 1 && out.some((n) => n.mode !== "container")) {
    r.invalid("/networks", "host and container/bridge networks must be the only network");
  }
  return out;
}

function readPortDefinitions(r: JsonReader, raw: unknown[], path: string): PortDefinition[] {
  const out: PortDefinition[] = [];
  raw.forEach((v, i) => {
    const p = `${path}(${i})`;
    const o = r.obj(v, p);
    if (!o) return;
    const port = r.int(o.port, `${p}/port`) ?? 0;
    if (port < 0 || port > 65535) r.invalid(`${p}/port`, `got ${port}, expected 0 to 65535`);
    const name = r.str(o.name, `${p}/name`);
    out.push({
      port,
      protocol: r.str(o.protocol, `${p}/protocol`) ?? "tcp",
      ...(name !== undefined ? { name } : {}),
      labels: r.strMap(o.labels, `${p}/labels`) ?? {},
    });
  });
  return out;
}

function readPortMappings(
  r: JsonReader,
  raw: unknown[],
  path: string,
  bridge: boolean,
): PortMapping[] {
  const out: PortMapping[] = [];
  raw.forEach((v, i) => {
    const p = `${path}(${i})`;
    const o = r.obj(v, p);
    if (!o) return;
    const containerPort = r.int(o.containerPort, `${p}/containerPort`) ?? 0;
    const hostPort = r.int(o.hostPort, `${p}/hostPort`) ?? (bridge ? 0 : undefined);
    const servicePort = r.int(o.servicePort, `${p}/servicePort`) ?? 0;
    for (
      const [k, val] of [["containerPort", containerPort], ["hostPort", hostPort ?? 0], [
        "servicePort",
        servicePort,
      ]] as const
    ) {
      if (val < 0 || val > 65535) r.invalid(`${p}/${k}`, `got ${val}, expected 0 to 65535`);
    }
    const name = r.str(o.name, `${p}/name`);
    const networkNames = r.arr(o.networkNames, `${p}/networkNames`)?.map((n, j) =>
      r.str(n, `${p}/networkNames(${j})`) ?? ""
    );
    out.push({
      containerPort,
      ...(hostPort !== undefined ? { hostPort } : {}),
      servicePort,
      protocol: r.str(o.protocol, `${p}/protocol`) ?? "tcp",
      ...(name !== undefined ? { name } : {}),
      labels: r.strMap(o.labels, `${p}/labels`) ?? {},
      ...(networkNames !== undefined ? { networkNames } : {}),
    });
  });
  return out;
}

/**
 * Normalizes an app's networking from either generation.
 *
 * @param r Reader collecting findings.
 * @param raw The app JSON.
 * @param defaultNetworkName Name for unnamed `container` networks (`--default_network_name`).
 */
export function normalizeNetworking(
  r: JsonReader,
  raw: JsonObject,
  defaultNetworkName: string,
): Networking {
  const rawContainer = r.obj(raw.container, "/container");
  const rawDocker = rawContainer ? r.obj(rawContainer.docker, "/container/docker") : undefined;
  const legacyNetwork = rawDocker
    ? r.str(rawDocker.network, "/container/docker/network")
    : undefined;
  const ipAddress = r.obj(raw.ipAddress, "/ipAddress");
  const rawNetworks = r.arr(raw.networks, "/networks");

  let networks: Network[];
  if (rawNetworks !== undefined && rawNetworks.length > 0) {
    if (legacyNetwork !== undefined || ipAddress !== undefined) {
      r.invalid(
        "/networks",
        "networks cannot be combined with ipAddress or container.docker.network",
      );
    }
    networks = readNetworks(r, rawNetworks, defaultNetworkName);
  } else if (ipAddress !== undefined || legacyNetwork === "USER") {
    const name = ipAddress ? r.str(ipAddress.networkName, "/ipAddress/networkName") : undefined;
    const labels = ipAddress ? r.strMap(ipAddress.labels, "/ipAddress/labels") : undefined;
    networks = [{
      mode: "container",
      name: name ?? defaultNetworkName,
      ...(labels && Object.keys(labels).length > 0 ? { labels } : {}),
    }];
  } else if (legacyNetwork === "BRIDGE") {
    networks = [{ mode: "container/bridge" }];
  } else {
    if (legacyNetwork !== undefined && !["HOST", "NONE"].includes(legacyNetwork)) {
      r.invalid("/container/docker/network", `error.unknown.enum.literal: ${legacyNetwork}`);
    }
    networks = [{ mode: "host" }];
  }
  if (networks.length === 0) networks = [{ mode: "host" }];
  const mode = networks[0]!.mode;

  // Port mappings: 1.5 place, legacy docker place, or legacy IP-per-task discovery ports.
  const mappingsPath = rawContainer?.portMappings !== undefined
    ? "/container/portMappings"
    : "/container/docker/portMappings";
  let rawMappings = r.arr(rawContainer?.portMappings, "/container/portMappings") ??
    r.arr(rawDocker?.portMappings, "/container/docker/portMappings");
  if (rawMappings === undefined && ipAddress !== undefined) {
    const discovery = r.obj(ipAddress.discovery, "/ipAddress/discovery");
    const ports = r.arr(discovery?.ports, "/ipAddress/discovery/ports");
    rawMappings = ports?.map((p) =>
      isObject(p)
        ? {
          containerPort: p.number,
          ...(p.name !== undefined ? { name: p.name } : {}),
          ...(p.protocol !== undefined ? { protocol: p.protocol } : {}),
          ...(p.labels !== undefined ? { labels: p.labels } : {}),
        }
        : p
    );
  }
  const rawPortDefs = r.arr(raw.portDefinitions, "/portDefinitions");
  const rawPorts = r.arr(raw.ports, "/ports");

  let portDefinitions: PortDefinition[] = [];
  let portMappings: PortMapping[] | undefined;
  if (mode === "host") {
    if (rawMappings !== undefined && rawMappings.length > 0) {
      r.invalid(mappingsPath, "port mappings are not allowed with host networking");
    }
    if (rawPortDefs !== undefined) {
      portDefinitions = readPortDefinitions(r, rawPortDefs, "/portDefinitions");
    } else if (rawPorts !== undefined) {
      portDefinitions = readPortDefinitions(
        r,
        rawPorts.map((p) => ({ port: p })),
        "/ports",
      );
    } else {
      portDefinitions = [{ port: 0, protocol: "tcp", name: "default", labels: {} }];
    }
  } else {
    if ((rawPortDefs?.length ?? 0) > 0 || (rawPorts?.length ?? 0) > 0) {
      r.invalid("/portDefinitions", "port definitions are only allowed with host networking");
    }
    portMappings = rawMappings !== undefined
      ? readPortMappings(r, rawMappings, mappingsPath, mode === "container/bridge")
      : [{
        containerPort: 0,
        ...(mode === "container/bridge" ? { hostPort: 0 } : {}),
        servicePort: 0,
        protocol: "tcp",
        name: "default",
        labels: {},
      }];
    if (networks.length > 1) {
      portMappings.forEach((m, i) => {
        if (m.hostPort !== undefined && (m.networkNames?.length ?? 0) !== 1) {
          r.invalid(
            `${mappingsPath}(${i})/networkNames`,
            "networkNames must name one network when a hostPort is given with several networks",
          );
        }
      });
    }
  }

  let container: Container | null = null;
  if (rawContainer !== undefined || mode !== "host") {
    const { type, docker: _d, volumes, portMappings: _p, ...extras } = rawContainer ?? {};
    let docker: JsonObject | undefined;
    if (rawDocker !== undefined) {
      const { network: _n, portMappings: _m, ...rest } = rawDocker;
      docker = rest;
    }
    const ctype = r.str(type, "/container/type") ?? (docker ? "DOCKER" : "MESOS");
    if (ctype === "DOCKER") {
      docker = { forcePullImage: false, privileged: false, parameters: [], ...(docker ?? {}) };
      if (typeof docker.image !== "string") {
        r.invalid("/container/docker/image", "must not be empty");
      }
    }
    container = {
      type: ctype,
      ...(docker !== undefined ? { docker } : {}),
      volumes: r.arr(volumes, "/container/volumes") ?? [],
      ...(portMappings !== undefined ? { portMappings } : {}),
      extras,
    };
  }

  return {
    networks,
    container,
    portDefinitions,
    requirePorts: mode === "host" ? (r.bool(raw.requirePorts, "/requirePorts") ?? false) : false,
  };
}

function mappingJson(m: PortMapping, legacy: boolean): JsonObject {
  return {
    containerPort: m.containerPort,
    ...(m.hostPort !== undefined ? { hostPort: m.hostPort } : {}),
    labels: m.labels,
    ...(m.name !== undefined ? { name: m.name } : {}),
    protocol: m.protocol,
    servicePort: m.servicePort,
    ...(!legacy && m.networkNames !== undefined ? { networkNames: m.networkNames } : {}),
  };
}

function portDefinitionJson(p: PortDefinition): JsonObject {
  return {
    port: p.port,
    protocol: p.protocol,
    ...(p.name !== undefined ? { name: p.name } : {}),
    labels: p.labels,
  };
}

/** Networking fields in the 1.5+ canonical output shape. */
export function renderNetworking(n: Networking): JsonObject {
  const out: JsonObject = {};
  if (n.container) {
    const c = n.container;
    out.container = {
      type: c.type,
      ...(c.docker ? { docker: c.docker } : {}),
      volumes: c.volumes,
      ...(c.portMappings ? { portMappings: c.portMappings.map((m) => mappingJson(m, false)) } : {}),
      ...c.extras,
    };
  }
  out.networks = n.networks.map((net) => ({ ...net }));
  if (networkMode(n) === "host") out.portDefinitions = n.portDefinitions.map(portDefinitionJson);
  out.requirePorts = n.requirePorts;
  return out;
}

/**
 * Networking fields in the pre-1.5 output shape: `ports`, `portDefinitions`,
 * `ipAddress`, `container.docker.network` and `docker.portMappings`.
 */
export function renderLegacyNetworking(n: Networking): JsonObject {
  const mode = networkMode(n);
  const mappings = n.container?.portMappings ?? [];
  let container: JsonObject | null = null;
  let ipAddress: JsonObject | null = null;
  if (n.container) {
    const c = n.container;
    const docker = c.type === "DOCKER"
      ? {
        image: "",
        ...c.docker,
        network: mode === "host" ? "HOST" : mode === "container/bridge" ? "BRIDGE" : "USER",
        portMappings: mode === "host" ? [] : mappings.map((m) => mappingJson(m, true)),
      }
      : c.docker;
    container = {
      type: c.type,
      volumes: c.volumes,
      ...(docker !== undefined ? { docker } : {}),
      // Mesos containers kept their mappings at the container level.
      ...(c.type !== "DOCKER" && mode !== "host"
        ? { portMappings: mappings.map((m) => mappingJson(m, true)) }
        : {}),
      ...c.extras,
    };
  }
  if (mode === "container") {
    const net = n.networks[0]!;
    ipAddress = {
      groups: [],
      labels: net.labels ?? {},
      discovery: {
        // Docker USER networks carried ports in docker.portMappings instead.
        ports: n.container?.type === "DOCKER" ? [] : mappings.map((m) => ({
          number: m.containerPort,
          ...(m.name !== undefined ? { name: m.name } : {}),
          protocol: m.protocol,
          labels: m.labels,
        })),
      },
      ...(net.name !== undefined ? { networkName: net.name } : {}),
    };
  }
  return {
    container,
    ipAddress,
    ports: servicePorts(n),
    portDefinitions: mode === "host" ? n.portDefinitions.map(portDefinitionJson) : [],
    requirePorts: n.requirePorts,
  };
}

/** A listening address. */
export interface Endpoint {
  /** IP the process binds. */
  readonly hostname: string;
  /** Port. */
  readonly port: number;
}

/** Hands out addresses; implemented by `allocator.ts`. */
export interface AddressSource {
  /** A free host port on the agent (or exactly `fixed`). */
  hostPort(agentIp: string, fixed?: number): number;
  /** A free port on an IP-per-task address. */
  containerPort(ip: string): number;
  /** A fresh IP-per-task address (127.0.1.x upward). */
  containerIp(): string;
  /** A fake, unreachable Docker bridge address for an agent. */
  bridgeIp(agentIp: string): string;
}

/** Where a task runs and what Marathon reports for it. */
export interface TaskNetwork {
  /** `task.host`: the agent address. */
  readonly host: string;
  /** `task.ports`: allocated host ports, in port order. */
  readonly ports: readonly number[];
  /** `task.ipAddresses`. */
  readonly ipAddresses: readonly { readonly ipAddress: string; readonly protocol: "IPv4" }[];
  /** Every address the task process binds. */
  readonly listen: readonly Endpoint[];
  /** Per port index, the address a client (or health check) dials. */
  readonly endpoints: readonly Endpoint[];
  /** The IP-per-task address, if any. */
  readonly containerIp?: string;
  /** Host ports to give back when the task ends. */
  readonly hostPorts: readonly number[];
}

/**
 * Decides a task's addresses on an agent.
 *
 * - host: the agent's IP on a host port per port definition (the service port itself with
 *   `requirePorts`).
 * - container/bridge: the agent's IP on the mapped host port; `ipAddresses` holds a fake
 *   172.17.x address, as Docker reports, which nobody can dial.
 * - container: its own 127.x address on `containerPort`; a mapping with a `hostPort` is also
 *   bound on the agent's IP, standing in for the port forward.
 *
 * @param n The app's networking.
 * @param agentIp The agent's address.
 * @param source Where free ports and addresses come from.
 */
export function planTaskNetwork(
  n: Networking,
  agentIp: string,
  source: AddressSource,
): TaskNetwork {
  const mode = networkMode(n);
  const listen: Endpoint[] = [];
  const endpoints: Endpoint[] = [];
  const ports: number[] = [];
  const hostPorts: number[] = [];
  const addListen = (e: Endpoint) => {
    if (!listen.some((l) => l.hostname === e.hostname && l.port === e.port)) listen.push(e);
  };
  const takeHostPort = (fixed?: number) => {
    const p = source.hostPort(agentIp, fixed !== undefined && fixed > 0 ? fixed : undefined);
    hostPorts.push(p);
    return p;
  };

  if (mode === "host") {
    for (const def of n.portDefinitions) {
      const hp = takeHostPort(n.requirePorts ? def.port : undefined);
      ports.push(hp);
      endpoints.push({ hostname: agentIp, port: hp });
      addListen({ hostname: agentIp, port: hp });
    }
    if (listen.length === 0) {
      // A task without ports still runs the task app; it listens somewhere nobody is told about.
      addListen({ hostname: agentIp, port: takeHostPort() });
    }
    return {
      host: agentIp,
      ports,
      ipAddresses: [{ ipAddress: agentIp, protocol: "IPv4" }],
      listen,
      endpoints,
      hostPorts,
    };
  }

  const mappings = n.container?.portMappings ?? [];
  if (mode === "container/bridge") {
    for (const m of mappings) {
      const hp = takeHostPort(m.hostPort);
      ports.push(hp);
      endpoints.push({ hostname: agentIp, port: hp });
      addListen({ hostname: agentIp, port: hp });
    }
    if (listen.length === 0) addListen({ hostname: agentIp, port: takeHostPort() });
    return {
      host: agentIp,
      ports,
      ipAddresses: [{ ipAddress: source.bridgeIp(agentIp), protocol: "IPv4" }],
      listen,
      endpoints,
      hostPorts,
    };
  }

  const ip = source.containerIp();
  for (const m of mappings) {
    let hp: number | undefined;
    if (m.hostPort !== undefined) {
      hp = takeHostPort(m.hostPort);
      ports.push(hp);
      addListen({ hostname: agentIp, port: hp });
    }
    const cp = m.containerPort > 0 ? m.containerPort : hp ?? source.containerPort(ip);
    addListen({ hostname: ip, port: cp });
    endpoints.push(hp !== undefined ? { hostname: agentIp, port: hp } : { hostname: ip, port: cp });
  }
  if (listen.length === 0) addListen({ hostname: ip, port: source.containerPort(ip) });
  return {
    host: agentIp,
    ports,
    ipAddresses: [{ ipAddress: ip, protocol: "IPv4" }],
    listen,
    endpoints,
    containerIp: ip,
    hostPorts,
  };
}
