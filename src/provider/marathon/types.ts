/**
 * Lenient types for the parts of Marathon's `GET /v2/apps` answer the
 * configuration builder reads, and a defensive reader from raw JSON.
 *
 * Both networking shapes are read (NOTES.md §1.5): the legacy one (`ipAddress`,
 * `container.docker.portMappings`, `ports`) and Marathon 1.5's (`networks`,
 * `container.portMappings`). Fields the builder never reads (health check
 * results among them: Traefik issue 653) are not kept.
 *
 * @module
 */

/** A task as the builder sees it. */
export interface MarathonTask {
  /** Task id (`app.<uuid>`, `app.instance-<uuid>._app.1`, ...). */
  readonly id: string;
  /** Mesos state (`TASK_RUNNING`, ...); absent before Marathon 1.1.2. */
  readonly state: string | undefined;
  /** The agent's hostname or IP (`""` when absent). */
  readonly host: string;
  /** Host ports Marathon allocated, in port-definition/mapping order. */
  readonly ports: readonly number[];
  /** Container IP addresses (`ipAddresses[].ipAddress`). */
  readonly ipAddresses: readonly string[];
  /** RFC 3339 start time, once `TASK_RUNNING`. */
  readonly startedAt: string | undefined;
  /** Version of the app definition the task was started from. */
  readonly version: string | undefined;
}

/** `portDefinitions[]` entry. */
export interface PortDefinition {
  /** The (service) port; `undefined` when absent. */
  readonly port: number | undefined;
  /** Port name (`""` when absent), for `name:X`. */
  readonly name: string;
}

/** `ipAddress.discovery.ports[]` entry (legacy IP-per-task). */
export interface DiscoveryPort {
  /** Port number on the task's IP. */
  readonly number: number;
  /** Port name (`""` when absent), for `name:X`. */
  readonly name: string;
}

/** `container.portMappings[]` (1.5) or `container.docker.portMappings[]` (legacy). */
export interface PortMapping {
  /** Port inside the container (`0`: same as the host port). */
  readonly containerPort: number | undefined;
  /** `undefined` = no host port (container networks); `0` = dynamic. */
  readonly hostPort: number | undefined;
  /** Port name (`""` when absent), for `name:X`. */
  readonly name: string;
}

/** An application as the builder sees it. */
export interface MarathonApp {
  /** App id with its leading `/` (`/group/app`). */
  readonly id: string;
  /** Labels as given (string values only). */
  readonly labels: Readonly<Record<string, string>>;
  /** Marathon placement constraints (`[["rack_id","CLUSTER","rack-1"]]`). */
  readonly constraints: readonly (readonly string[])[];
  /**
   * `networks[0].mode` (`host`, `container/bridge`, `container`, or `""`)
   * when `networks` is present and non-empty; `undefined` otherwise.
   * An empty `networks: []` is read as absent (Traefik panics on it).
   */
  readonly networkMode: string | undefined;
  /** Legacy IP-per-task (`ipAddress` non-null); `undefined` when absent. */
  readonly ipAddress: { readonly discoveryPorts: readonly DiscoveryPort[] } | undefined;
  /** `portDefinitions` (host networking). */
  readonly portDefinitions: readonly PortDefinition[];
  /** `container.portMappings`, or legacy `container.docker.portMappings`. */
  readonly portMappings: readonly PortMapping[];
  /** Well-formed tasks, in API order (malformed ones are reported apart). */
  readonly tasks: readonly MarathonTask[];
  /** Number of deployments in progress (`deployments.length`). */
  readonly deployments: number;
  /** The app's current version (a timestamp). */
  readonly version: string | undefined;
  /** `readinessChecks[].timeoutSeconds` (0 when absent). */
  readonly readinessChecks: readonly { readonly timeoutSeconds: number }[];
  /** Latest readiness result per task, while a deployment runs. */
  readonly readinessCheckResults: readonly { readonly taskId: string; readonly ready: boolean }[];
}

/** A task the reader could not use. */
export interface TaskProblem {
  /** The task's id, when it has one. */
  readonly taskId: string | undefined;
  /** What is wrong with it. */
  readonly message: string;
}

/** What {@linkcode readApp} returns. */
export type ReadResult =
  | { readonly ok: true; readonly app: MarathonApp; readonly taskProblems: readonly TaskProblem[] }
  | { readonly ok: false; readonly appId: string | undefined; readonly message: string };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

class Malformed extends Error {}

function optString(obj: Json, key: string, where: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") {
    throw new Malformed(`${where}'${key}' must be a string, got ${kind(v)}`);
  }
  return v;
}

function optInt(obj: Json, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) {
    throw new Malformed(`${where}'${key}' must be an integer, got ${kind(v)}`);
  }
  return v;
}

/**
 * A non-negative number of seconds. Marathon sends integers, but being
 * strict here would drop an app over a harmless `0.5` (the simulator uses
 * fractions to keep tests fast).
 */
function optSeconds(obj: Json, key: string, where: string): number | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) {
    throw new Malformed(`${where}'${key}' must be a number of seconds, got ${kind(v)}`);
  }
  return v;
}

function optArray(obj: Json, key: string, where: string): unknown[] {
  const v = obj[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new Malformed(`${where}'${key}' must be an array, got ${kind(v)}`);
  return v;
}

function objects(list: unknown[], where: string): Json[] {
  return list.map((item, i) => {
    if (!isObject(item)) throw new Malformed(`${where}[${i}] must be an object, got ${kind(item)}`);
    return item;
  });
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return typeof v === "object" ? "an object" : `${typeof v} ${JSON.stringify(v)}`;
}

function readTask(raw: unknown, index: number): { task?: MarathonTask; problem?: TaskProblem } {
  if (!isObject(raw)) {
    return {
      problem: { taskId: undefined, message: `tasks[${index}] is ${kind(raw)}, not an object` },
    };
  }
  const id = typeof raw.id === "string" && raw.id !== "" ? raw.id : undefined;
  try {
    if (id === undefined) throw new Malformed(`tasks[${index}] has no 'id'`);
    const ports = optArray(raw, "ports", "").map((p, i) => {
      if (typeof p !== "number" || !Number.isInteger(p)) {
        throw new Malformed(`'ports[${i}]' must be an integer, got ${kind(p)}`);
      }
      return p;
    });
    const ipAddresses = objects(optArray(raw, "ipAddresses", ""), "ipAddresses").map((a, i) =>
      optString(a, "ipAddress", `ipAddresses[${i}].`) ?? ""
    );
    return {
      task: {
        id,
        state: optString(raw, "state", ""),
        host: optString(raw, "host", "") ?? "",
        ports,
        ipAddresses,
        startedAt: optString(raw, "startedAt", ""),
        version: optString(raw, "version", ""),
      },
    };
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return { problem: { taskId: id, message: error.message } };
  }
}

function readLabels(raw: unknown): Record<string, string> {
  if (raw === undefined || raw === null) return {};
  if (!isObject(raw)) throw new Malformed(`'labels' must be an object, got ${kind(raw)}`);
  for (const [key, value] of Object.entries(raw)) {
    if (typeof value !== "string") {
      throw new Malformed(`label '${key}' must have a string value, got ${kind(value)}`);
    }
  }
  return raw as Record<string, string>;
}

function readConstraints(raw: unknown): string[][] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw new Malformed(`'constraints' must be an array, got ${kind(raw)}`);
  return raw.map((c, i) => {
    if (!Array.isArray(c) || c.some((p) => typeof p !== "string")) {
      throw new Malformed(`'constraints[${i}]' must be an array of strings, got ${kind(c)}`);
    }
    return c as string[];
  });
}

/**
 * Reads one raw element of the `apps` array. Never throws: a malformed app
 * is returned as `{ ok: false, message }`, a malformed task is left out and
 * reported in `taskProblems`.
 */
export function readApp(raw: unknown): ReadResult {
  if (!isObject(raw)) {
    return { ok: false, appId: undefined, message: `an app must be an object, got ${kind(raw)}` };
  }
  const id = raw.id;
  if (typeof id !== "string" || id === "") {
    return { ok: false, appId: undefined, message: `an app has no 'id' (got ${kind(id)})` };
  }
  try {
    const networks = objects(optArray(raw, "networks", ""), "networks");
    const ipRaw = raw.ipAddress;
    let ipAddress: MarathonApp["ipAddress"];
    if (ipRaw !== undefined && ipRaw !== null) {
      if (!isObject(ipRaw)) {
        throw new Malformed(`'ipAddress' must be an object, got ${kind(ipRaw)}`);
      }
      const discovery = ipRaw.discovery;
      // A discovery without `ports` makes Traefik dereference nil; read it as empty.
      const ports = isObject(discovery)
        ? objects(optArray(discovery, "ports", "ipAddress.discovery."), "ipAddress.discovery.ports")
        : [];
      ipAddress = {
        discoveryPorts: ports.map((p, i) => ({
          number: optInt(p, "number", `ipAddress.discovery.ports[${i}].`) ?? 0,
          name: optString(p, "name", `ipAddress.discovery.ports[${i}].`) ?? "",
        })),
      };
    }
    const portDefinitions = objects(optArray(raw, "portDefinitions", ""), "portDefinitions").map((
      d,
      i,
    ) => ({
      port: optInt(d, "port", `portDefinitions[${i}].`),
      name: optString(d, "name", `portDefinitions[${i}].`) ?? "",
    }));
    let mappingsRaw: unknown[] = [];
    const container = raw.container;
    if (isObject(container)) {
      mappingsRaw = optArray(container, "portMappings", "container.");
      const docker = container.docker;
      if (mappingsRaw.length === 0 && isObject(docker)) {
        mappingsRaw = optArray(docker, "portMappings", "container.docker.");
      }
    }
    const portMappings = objects(mappingsRaw, "portMappings").map((m, i) => ({
      containerPort: optInt(m, "containerPort", `portMappings[${i}].`),
      hostPort: optInt(m, "hostPort", `portMappings[${i}].`),
      name: optString(m, "name", `portMappings[${i}].`) ?? "",
    }));
    const readinessChecks = objects(optArray(raw, "readinessChecks", ""), "readinessChecks").map((
      c,
      i,
    ) => ({
      timeoutSeconds: optSeconds(c, "timeoutSeconds", `readinessChecks[${i}].`) ?? 0,
    }));
    const readinessCheckResults = objects(
      optArray(raw, "readinessCheckResults", ""),
      "readinessCheckResults",
    )
      .map((r, i) => ({
        taskId: optString(r, "taskId", `readinessCheckResults[${i}].`) ?? "",
        ready: r.ready === true,
      }));
    const tasks: MarathonTask[] = [];
    const taskProblems: TaskProblem[] = [];
    optArray(raw, "tasks", "").forEach((t, i) => {
      const { task, problem } = readTask(t, i);
      if (task) tasks.push(task);
      if (problem) taskProblems.push(problem);
    });
    const app: MarathonApp = {
      id,
      labels: readLabels(raw.labels),
      constraints: readConstraints(raw.constraints),
      networkMode: networks.length > 0
        ? (optString(networks[0]!, "mode", "networks[0].") ?? "")
        : undefined,
      ipAddress,
      portDefinitions,
      portMappings,
      tasks,
      deployments: optArray(raw, "deployments", "").length,
      version: optString(raw, "version", ""),
      readinessChecks,
      readinessCheckResults,
    };
    return { ok: true, app, taskProblems };
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    return { ok: false, appId: id, message: error.message };
  }
}
