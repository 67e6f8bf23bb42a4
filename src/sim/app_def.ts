/**
 * App definitions: validation as Marathon answers it (400 for JSON types, 422
 * for semantics), defaults, partial updates, and the split between scaling
 * and configuration changes.
 *
 * @module
 */

import { isObject, type JsonObject, JsonReader } from "./json_reader.ts";
import {
  type Networking,
  networkMode,
  normalizeNetworking,
  portEntries,
  portIndexByName,
  renderNetworking,
} from "./networking.ts";

/** A Marathon health check, with defaults applied. */
export interface HealthCheck {
  /** `HTTP`, `HTTPS`, `TCP`, `COMMAND`, `MESOS_HTTP`, `MESOS_HTTPS`, `MESOS_TCP`. */
  readonly protocol: string;
  /** HTTP path. */
  readonly path?: string;
  /** Port index. */
  readonly portIndex?: number;
  /** Fixed port instead of an index. */
  readonly port?: number;
  /** `COMMAND` checks. */
  readonly command?: JsonObject;
  /** Failures before the first success are ignored this long. @default {300} */
  readonly gracePeriodSeconds: number;
  /** Probe interval. @default {60} */
  readonly intervalSeconds: number;
  /** Probe timeout. @default {20} */
  readonly timeoutSeconds: number;
  /** Consecutive failures before the task is killed; 0 = never. @default {3} */
  readonly maxConsecutiveFailures: number;
  /** Mesos checks: delay before the first probe. @default {15} */
  readonly delaySeconds: number;
  /** HTTP: treat 1xx as neither success nor failure. */
  readonly ignoreHttp1xx?: boolean;
}

/** A readiness check, with defaults applied. */
export interface ReadinessCheck {
  /** @default {"readinessCheck"} */
  readonly name: string;
  /** `HTTP` or `HTTPS`. */
  readonly protocol: string;
  /** @default {"/"} */
  readonly path: string;
  /** Names a port definition or mapping. @default {"http-api"} */
  readonly portName: string;
  /** @default {30} */
  readonly intervalSeconds: number;
  /** @default {10} */
  readonly timeoutSeconds: number;
  /** @default {[200]} */
  readonly httpStatusCodesForReady: readonly number[];
  /** @default {false} */
  readonly preserveLastResponse: boolean;
}

/** An app definition, normalized (1.5 networking) and versioned. */
export interface AppDef extends Networking {
  readonly id: string;
  readonly cmd: string | null;
  readonly args: readonly string[] | null;
  readonly user: string | null;
  readonly env: Readonly<Record<string, unknown>>;
  readonly instances: number;
  readonly cpus: number;
  readonly mem: number;
  readonly disk: number;
  readonly gpus: number;
  readonly executor: string;
  readonly constraints: readonly unknown[];
  readonly fetch: readonly unknown[];
  readonly dependencies: readonly string[];
  readonly backoffSeconds: number;
  readonly backoffFactor: number;
  readonly maxLaunchDelaySeconds: number;
  readonly healthChecks: readonly HealthCheck[];
  readonly readinessChecks: readonly ReadinessCheck[];
  readonly upgradeStrategy: {
    readonly minimumHealthCapacity: number;
    readonly maximumOverCapacity: number;
  };
  readonly labels: Readonly<Record<string, string>>;
  readonly taskKillGracePeriodSeconds: number | null;
  readonly killSelection: "YOUNGEST_FIRST" | "OLDEST_FIRST";
  readonly unreachableStrategy:
    | { readonly inactiveAfterSeconds: number; readonly expungeAfterSeconds: number }
    | "disabled";
  /** Fields the simulator does not interpret (acceptedResourceRoles, secrets, ...), kept as sent. */
  readonly extras: Readonly<JsonObject>;
  readonly version: string;
  readonly versionInfo: { readonly lastScalingAt: string; readonly lastConfigChangeAt: string };
}

/** Marathon's path-segment rule. */
const SEGMENT = /^(([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])\.)*([a-z0-9]|[a-z0-9][a-z0-9-]*[a-z0-9])$/;
const ID_RULE =
  "must fully match regular expression '^(([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])\\.)*([a-z0-9]|[a-z0-9][a-z0-9\\-]*[a-z0-9])|(\\.|\\.\\.)$'";

const HEALTH_PROTOCOLS = [
  "HTTP",
  "HTTPS",
  "TCP",
  "COMMAND",
  "MESOS_HTTP",
  "MESOS_HTTPS",
  "MESOS_TCP",
];

const KNOWN = new Set([
  "id",
  "cmd",
  "args",
  "user",
  "env",
  "instances",
  "cpus",
  "mem",
  "disk",
  "gpus",
  "executor",
  "constraints",
  "fetch",
  "uris",
  "dependencies",
  "backoffSeconds",
  "backoffFactor",
  "maxLaunchDelaySeconds",
  "healthChecks",
  "readinessChecks",
  "upgradeStrategy",
  "labels",
  "taskKillGracePeriodSeconds",
  "killSelection",
  "unreachableStrategy",
  "version",
  "versionInfo",
  "container",
  "networks",
  "portDefinitions",
  "ports",
  "requirePorts",
  "ipAddress",
  // AppInfo extras a client may echo back; never part of a definition.
  "tasks",
  "tasksStaged",
  "tasksRunning",
  "tasksHealthy",
  "tasksUnhealthy",
  "deployments",
  "readinessCheckResults",
  "lastTaskFailure",
  "taskStats",
  "storeUrls",
]);

/**
 * Normalizes an absolute app id (a relative id is resolved against the root).
 *
 * @param id Raw id from a path or body.
 */
export function absoluteId(id: string): string {
  const trimmed = id.replace(/^\/+/, "").replace(/\/+$/, "");
  return `/${trimmed}`;
}

function validId(r: JsonReader, id: string): void {
  const segments = id.split("/").slice(1);
  if (segments.length === 0 || segments.some((s) => !SEGMENT.test(s))) r.invalid("/id", ID_RULE);
}

function readHealthChecks(r: JsonReader, raw: unknown[] | undefined): HealthCheck[] {
  return (raw ?? []).flatMap((v, i) => {
    const p = `/healthChecks(${i})`;
    const o = r.obj(v, p);
    if (!o) return [];
    const protocol = r.str(o.protocol, `${p}/protocol`) ?? "HTTP";
    if (!HEALTH_PROTOCOLS.includes(protocol)) {
      r.invalid(`${p}/protocol`, `error.unknown.enum.literal: ${protocol}`);
    }
    const http = protocol.endsWith("HTTP") || protocol.endsWith("HTTPS");
    const port = r.int(o.port, `${p}/port`);
    const portIndex = r.int(o.portIndex, `${p}/portIndex`) ??
      (port === undefined && protocol !== "COMMAND" ? 0 : undefined);
    const path = r.str(o.path, `${p}/path`) ?? (http ? "/" : undefined);
    const command = r.obj(o.command, `${p}/command`);
    if (protocol === "COMMAND" && command === undefined) {
      r.invalid(`${p}/command`, "command must be defined for a COMMAND health check");
    }
    const ignoreHttp1xx = r.bool(o.ignoreHttp1xx, `${p}/ignoreHttp1xx`);
    const hc: HealthCheck = {
      protocol,
      ...(path !== undefined ? { path } : {}),
      ...(portIndex !== undefined ? { portIndex } : {}),
      ...(port !== undefined ? { port } : {}),
      ...(command !== undefined ? { command } : {}),
      gracePeriodSeconds: r.num(o.gracePeriodSeconds, `${p}/gracePeriodSeconds`) ?? 300,
      intervalSeconds: r.num(o.intervalSeconds, `${p}/intervalSeconds`) ?? 60,
      timeoutSeconds: r.num(o.timeoutSeconds, `${p}/timeoutSeconds`) ?? 20,
      maxConsecutiveFailures: r.int(o.maxConsecutiveFailures, `${p}/maxConsecutiveFailures`) ?? 3,
      delaySeconds: r.num(o.delaySeconds, `${p}/delaySeconds`) ?? 15,
      ...(ignoreHttp1xx !== undefined ? { ignoreHttp1xx } : {}),
    };
    if (hc.intervalSeconds <= 0) r.invalid(`${p}/intervalSeconds`, "must be positive");
    if (hc.timeoutSeconds <= 0) r.invalid(`${p}/timeoutSeconds`, "must be positive");
    if (hc.maxConsecutiveFailures < 0) {
      r.invalid(
        `${p}/maxConsecutiveFailures`,
        `got ${hc.maxConsecutiveFailures}, expected 0 or more`,
      );
    }
    return [hc];
  });
}

function readReadinessChecks(r: JsonReader, raw: unknown[] | undefined): ReadinessCheck[] {
  const checks = (raw ?? []).flatMap((v, i) => {
    const p = `/readinessChecks(${i})`;
    const o = r.obj(v, p);
    if (!o) return [];
    const codes = r.arr(o.httpStatusCodesForReady, `${p}/httpStatusCodesForReady`);
    const rc: ReadinessCheck = {
      name: r.str(o.name, `${p}/name`) ?? "readinessCheck",
      protocol: r.str(o.protocol, `${p}/protocol`) ?? "HTTP",
      path: r.str(o.path, `${p}/path`) ?? "/",
      portName: r.str(o.portName, `${p}/portName`) ?? "http-api",
      intervalSeconds: r.num(o.intervalSeconds, `${p}/intervalSeconds`) ?? 30,
      timeoutSeconds: r.num(o.timeoutSeconds, `${p}/timeoutSeconds`) ?? 10,
      httpStatusCodesForReady: codes?.map((c, j) =>
        r.int(c, `${p}/httpStatusCodesForReady(${j})`) ?? 0
      ) ?? [200],
      preserveLastResponse: r.bool(o.preserveLastResponse, `${p}/preserveLastResponse`) ?? false,
    };
    if (!["HTTP", "HTTPS"].includes(rc.protocol)) {
      r.invalid(`${p}/protocol`, `error.unknown.enum.literal: ${rc.protocol}`);
    }
    if (rc.timeoutSeconds >= rc.intervalSeconds) {
      r.invalid(`${p}/timeoutSeconds`, "timeoutSeconds must be smaller than intervalSeconds");
    }
    return [rc];
  });
  if (checks.length > 1) r.invalid("/readinessChecks", "only one readinessCheck is supported");
  return checks;
}

function nonNegative(r: JsonReader, path: string, v: number, float = false): void {
  if (v < 0) r.invalid(path, `got ${v}, expected ${float ? "0.0" : "0"} or more`);
}

function fraction(r: JsonReader, path: string, v: number): void {
  if (v > 1) r.invalid(path, "is greater than 1");
  if (v < 0) r.invalid(path, "is less than 0");
}

/** Options of {@linkcode normalizeApp}. */
export interface NormalizeOptions {
  /** Id from the URL path (PUT); wins over the body's. */
  readonly pathId?: string;
  /** Name for unnamed container networks. */
  readonly defaultNetworkName: string;
  /** Version and versionInfo to stamp. */
  readonly version: string;
  readonly versionInfo: AppDef["versionInfo"];
}

/**
 * Validates and normalizes an app definition from either networking
 * generation.
 *
 * @param raw Parsed request JSON.
 * @param options Id, version and defaults.
 * @returns The definition (service ports of 0 still unassigned).
 * @throws {MarathonError} 400 for JSON type errors, 422 for invalid definitions.
 */
export function normalizeApp(raw: unknown, options: NormalizeOptions): AppDef {
  const r = new JsonReader();
  if (!isObject(raw)) {
    r.typeError("/", "jsobject");
    r.finish();
  }
  const o = raw as JsonObject;
  const rawId = options.pathId ?? r.str(o.id, "/id");
  if (rawId === undefined || rawId.replace(/\//g, "") === "") {
    r.invalid("/id", "error.path.missing");
  }
  const id = absoluteId(rawId ?? "");
  if (rawId !== undefined) validId(r, id);

  const cmd = r.str(o.cmd, "/cmd") ?? null;
  const args = r.arr(o.args, "/args")?.map((a, i) => r.str(a, `/args(${i})`) ?? "") ?? null;
  const env: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.obj(o.env, "/env") ?? {})) {
    // Values are strings or secret references.
    if (typeof v === "string" || (isObject(v) && typeof v.secret === "string")) env[k] = v;
    else r.typeError(`/env/${k}`, "jsstring");
  }
  const networking = normalizeNetworking(r, o, options.defaultNetworkName);
  if (cmd === null && args === null && networking.container === null) {
    r.invalid(
      "/",
      "AppDefinition must either contain one of 'cmd' or 'args', and/or a 'container'.",
    );
  }

  const us = r.obj(o.upgradeStrategy, "/upgradeStrategy");
  const upgradeStrategy = {
    minimumHealthCapacity:
      r.num(us?.minimumHealthCapacity, "/upgradeStrategy/minimumHealthCapacity") ?? 1,
    maximumOverCapacity: r.num(us?.maximumOverCapacity, "/upgradeStrategy/maximumOverCapacity") ??
      1,
  };
  fraction(r, "/upgradeStrategy/minimumHealthCapacity", upgradeStrategy.minimumHealthCapacity);
  fraction(r, "/upgradeStrategy/maximumOverCapacity", upgradeStrategy.maximumOverCapacity);

  let unreachableStrategy: AppDef["unreachableStrategy"] = {
    inactiveAfterSeconds: 300,
    expungeAfterSeconds: 600,
  };
  if (o.unreachableStrategy === "disabled") unreachableStrategy = "disabled";
  else {
    const u = r.obj(o.unreachableStrategy, "/unreachableStrategy");
    if (u) {
      unreachableStrategy = {
        inactiveAfterSeconds:
          r.num(u.inactiveAfterSeconds, "/unreachableStrategy/inactiveAfterSeconds") ??
            300,
        expungeAfterSeconds:
          r.num(u.expungeAfterSeconds, "/unreachableStrategy/expungeAfterSeconds") ??
            600,
      };
    }
  }

  const killSelection = r.str(o.killSelection, "/killSelection") ?? "YOUNGEST_FIRST";
  if (killSelection !== "YOUNGEST_FIRST" && killSelection !== "OLDEST_FIRST") {
    r.invalid("/killSelection", `error.unknown.enum.literal: ${killSelection}`);
  }

  const fetch = r.arr(o.fetch, "/fetch") ??
    (r.arr(o.uris, "/uris") ?? []).map((uri) => ({ uri }));
  const healthChecks = readHealthChecks(r, r.arr(o.healthChecks, "/healthChecks"));
  const readinessChecks = readReadinessChecks(r, r.arr(o.readinessChecks, "/readinessChecks"));
  const ports = portEntries(networking).length;
  healthChecks.forEach((hc, i) => {
    if (hc.portIndex !== undefined && (hc.portIndex < 0 || hc.portIndex >= ports)) {
      r.invalid(
        `/healthChecks(${i})`,
        "Health check port indices must address an element of the ports array or container port mappings.",
      );
    }
  });
  readinessChecks.forEach((rc, i) => {
    if (portIndexByName(networking, rc.portName) < 0) {
      r.invalid(
        `/readinessChecks(${i})/portName`,
        `No port definition or port mapping named '${rc.portName}'`,
      );
    }
  });

  const def: AppDef = {
    id,
    cmd,
    args,
    user: r.str(o.user, "/user") ?? null,
    env,
    instances: r.int(o.instances, "/instances") ?? 1,
    cpus: r.num(o.cpus, "/cpus") ?? 1,
    mem: r.num(o.mem, "/mem") ?? 128,
    disk: r.num(o.disk, "/disk") ?? 0,
    gpus: r.int(o.gpus, "/gpus") ?? 0,
    executor: r.str(o.executor, "/executor") ?? "",
    constraints: r.arr(o.constraints, "/constraints") ?? [],
    fetch,
    dependencies: (r.arr(o.dependencies, "/dependencies") ?? []).map((d, i) =>
      r.str(d, `/dependencies(${i})`) ?? ""
    ),
    backoffSeconds: r.num(o.backoffSeconds, "/backoffSeconds") ?? 1,
    backoffFactor: r.num(o.backoffFactor, "/backoffFactor") ?? 1.15,
    maxLaunchDelaySeconds: r.num(o.maxLaunchDelaySeconds, "/maxLaunchDelaySeconds") ?? 3600,
    healthChecks,
    readinessChecks,
    upgradeStrategy,
    labels: r.strMap(o.labels, "/labels") ?? {},
    taskKillGracePeriodSeconds:
      r.num(o.taskKillGracePeriodSeconds, "/taskKillGracePeriodSeconds") ?? null,
    killSelection: killSelection as AppDef["killSelection"],
    unreachableStrategy,
    ...networking,
    extras: Object.fromEntries(Object.entries(o).filter(([k]) => !KNOWN.has(k))),
    version: options.version,
    versionInfo: options.versionInfo,
  };
  nonNegative(r, "/instances", def.instances);
  nonNegative(r, "/cpus", def.cpus, true);
  nonNegative(r, "/mem", def.mem, true);
  nonNegative(r, "/disk", def.disk, true);
  nonNegative(r, "/backoffSeconds", def.backoffSeconds, true);
  if (def.backoffFactor < 1) {
    r.invalid("/backoffFactor", `got ${def.backoffFactor}, expected 1.0 or more`);
  }
  if (def.taskKillGracePeriodSeconds !== null && def.taskKillGracePeriodSeconds < 0) {
    r.invalid("/taskKillGracePeriodSeconds", "must be positive");
  }
  r.finish();
  return def;
}

/**
 * The definition as JSON input for a partial update: what a client would
 * have sent to get `def` (1.5 networking shape).
 */
export function definitionInput(def: AppDef): JsonObject {
  const {
    extras,
    version: _v,
    versionInfo: _vi,
    networks: _n,
    container: _c,
    portDefinitions: _p,
    requirePorts: _r,
    ...rest
  } = def;
  return { ...rest, ...renderNetworking(def), ...extras };
}

/**
 * Merges a partial update (`PUT` / `PATCH` body) into the current definition,
 * Marathon's `AppUpdate` semantics: fields not sent keep their value.
 *
 * @param current The current definition.
 * @param patch The update body.
 */
export function mergeUpdate(current: AppDef, patch: JsonObject): JsonObject {
  const merged: JsonObject = { ...definitionInput(current), ...patch };
  // Legacy networking in the patch must not fight the 1.5 fields of the current definition.
  const legacyDocker = isObject(patch.container) && isObject(patch.container.docker) &&
    "network" in patch.container.docker;
  if (("ipAddress" in patch || legacyDocker) && !("networks" in patch)) delete merged.networks;
  if ("ports" in patch && !("portDefinitions" in patch)) delete merged.portDefinitions;
  if ("networks" in patch && networkModeOf(patch) !== "host" && !("portDefinitions" in patch)) {
    delete merged.portDefinitions;
  }
  if ("networks" in patch && networkModeOf(patch) === "host" && !("container" in patch)) {
    if (isObject(merged.container)) {
      const { portMappings: _pm, ...c } = merged.container;
      merged.container = c;
    }
  }
  return merged;
}

function networkModeOf(o: JsonObject): string {
  const nets = o.networks;
  if (Array.isArray(nets) && isObject(nets[0])) return String(nets[0].mode ?? "container");
  return "host";
}

/** Whether two definitions differ in more than `instances` (a restart, not a scale). */
export function isConfigChange(a: AppDef, b: AppDef): boolean {
  const strip = (d: AppDef) => {
    const { instances: _i, version: _v, versionInfo: _vi, ...rest } = d;
    return JSON.stringify(rest);
  };
  return strip(a) !== strip(b);
}

/** The networking mode, re-exported for callers that only import definitions. */
export { networkMode };
