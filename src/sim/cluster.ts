/**
 * A simulated Marathon cluster: N members (HTTP listeners) over one shared
 * core, leader election and abdication, auth, injected faults, the
 * programmatic control API, and clean shutdown (no task process survives).
 *
 * @module
 */

import { Hono } from "hono";
import { MarathonError } from "./errors.ts";
import type { EventStream, MarathonEvent } from "./events.ts";
import { openEventStream } from "./events.ts";
import { type AuthConfig, createMemberApp, type DelayFault, type FailFault } from "./http.ts";
import type { JsonObject } from "./json_reader.ts";
import { type DeploymentRef, Marathon } from "./marathon.ts";
import type { Endpoint } from "./networking.ts";
import { renderAppInfo, renderDeployment, resolveEmbeds, taskHealthy } from "./render.ts";
import type { LaunchedTask } from "./scheduler.ts";
import { isoTime } from "./ids.ts";
import { copyHeaders, headerPairs } from "../util/headers.ts";

/** Options of {@linkcode startCluster}. Durations are milliseconds unless named otherwise. */
export interface SimOptions {
  /** Address every member binds. @default {"127.0.0.1"} */
  hostname?: string;
  /** Port of member 0 (member i gets port + i); 0 = ephemeral for all. @default {0} */
  port?: number;
  /** Number of members (Marathon instances) sharing the state. @default {1} */
  members?: number;
  /** Answer in the pre-1.5 shape (`ports`, `ipAddress`, `docker.network`, 1.4 ids). @default {false} */
  legacyNetworking?: boolean;
  /** HTTP basic and/or DC/OS token auth on every path. */
  auth?: { basic?: { user: string; password: string }; token?: string };
  /** The `task_killing` feature (`TASK_KILLING` during kills). @default {true} */
  taskKilling?: boolean;
  /** App definitions deployed at start (either networking generation). @default {[]} */
  apps?: unknown[];
  /** SSE keep-alive period. @default {10000} */
  keepAliveMs?: number;
  /** Number of agents (127.0.0.2 upward). @default {3} */
  agents?: number;
  /** Host ports for tasks, inclusive. @default {[31000, 32000]} */
  hostPortRange?: [number, number];
  /** Service ports (`local_port_min`/`max`), inclusive. @default {[10000, 20000]} */
  servicePortRange?: [number, number];
  /** Log lines (task output, failures). @default {no-op} */
  log?: (line: string) => void;
  /** Multiplies every duration in app definitions (seconds × 1000 × timeScale ms). @default {1} */
  timeScale?: number;
  /** Time a task stays `TASK_STAGING` before its process starts. @default {20} */
  stagingMs?: number;
  /** SIGTERM → SIGKILL grace for apps without `taskKillGracePeriodSeconds`. @default {3000} */
  defaultKillGraceMs?: number;
  /** Delay between `TASK_KILLING` and SIGTERM (a patched executor's drain window). @default {0} */
  killingNoticeMs?: number;
  /** No-leader window after an abdication. @default {500} */
  noLeaderMs?: number;
  /** How long a standby waits for a leader before its 502 (Marathon: 10 × 250 ms). @default {2500} */
  leaderWaitMs?: number;
  /** Events queued for one SSE client before it is disconnected. @default {1024} */
  eventStreamMaxOutstanding?: number;
  /** On SIGINT/SIGTERM, SIGKILL every task and exit (for hosts without their own handler). @default {false} */
  handleSignals?: boolean;
  /** Marathon version reported by `/v2/info`. @default {"1.10.17", "1.4.12" with legacyNetworking} */
  version?: string;
  /**
   * Path of `task_app.ts`, for a simulator that runs bundled (where the file is not beside
   * the code). @default {src/sim/task_app.ts}
   */
  taskApp?: string | URL;
}

/** A task as the simulator sees it: Marathon's fields plus the real process. */
export interface SimTaskView {
  /** `task.id`. */
  readonly id: string;
  /** Instance id (health results, instance events). */
  readonly instanceId: string;
  /** App id. */
  readonly appId: string;
  /** Mesos state, e.g. `TASK_RUNNING`. */
  readonly state: string;
  /** `task.host` (the agent address). */
  readonly host: string;
  /** `task.ports` (host ports). */
  readonly ports: readonly number[];
  /** The app's service ports. */
  readonly servicePorts: readonly number[];
  /** `task.ipAddresses`. */
  readonly ipAddresses: readonly { readonly ipAddress: string; readonly protocol: string }[];
  /** App version the task runs. */
  readonly version: string;
  /** `stagedAt`. */
  readonly stagedAt: string;
  /** `startedAt`, once running. */
  readonly startedAt?: string;
  /** OS process id, once spawned. */
  readonly pid?: number;
  /** Every address the process binds. */
  readonly listen: readonly Endpoint[];
  /** Per port index, the address to dial. */
  readonly endpoints: readonly Endpoint[];
  /** All health checks pass (undefined: no checks). */
  readonly healthy?: boolean;
  /** Readiness result while a deployment checks it. */
  readonly ready?: boolean;
  /** Marathon decided to kill it. */
  readonly killing: boolean;
}

/** Fault injection. */
export interface SimFaults {
  /** Closes every open SSE stream now (clients see EOF). @returns how many. */
  dropEventStreams(): number;
  /** While on, streams get nothing: no events, no keep-alives. */
  stallEventStreams(stalled?: boolean): void;
  /** Each open (and new) stream closes after `n` more events; null clears. */
  closeEventStreamsAfter(n: number | null): void;
  /** Delays matching responses; 0 clears. */
  delayResponses(ms: number, options?: { path?: string | RegExp; member?: number }): void;
  /** Fails matching responses; null clears. */
  failResponses(
    options: {
      status?: number;
      body?: "html" | "json" | "malformed";
      count?: number;
      path?: string | RegExp;
      member?: number;
    } | null,
  ): void;
  /** Clears every fault. */
  clear(): void;
}

/** Programmatic control of a cluster (same semantics as the REST API). */
export interface SimApi {
  /** `POST /v2/apps`. */
  deploy(app: unknown): Promise<DeploymentRef>;
  /** `PUT /v2/apps/{id}` (partial). */
  update(id: string, patch: JsonObject, options?: { force?: boolean }): Promise<DeploymentRef>;
  /** Scale to `instances`. */
  scale(id: string, instances: number, options?: { force?: boolean }): Promise<DeploymentRef>;
  /** `POST /v2/apps/{id}/restart`. */
  restart(id: string, options?: { force?: boolean }): Promise<DeploymentRef>;
  /** `DELETE /v2/apps/{id}`. */
  remove(id: string, options?: { force?: boolean }): Promise<DeploymentRef>;
  /**
   * `DELETE /v2/apps/{id}/tasks/{taskId}`; `hard` kills straight to `TASK_KILLED` (SIGKILL,
   * no `TASK_KILLING`), as on agent maintenance.
   * @returns The deployment with `scale`, otherwise undefined.
   */
  killTask(
    appId: string,
    taskId: string,
    options?: { scale?: boolean; hard?: boolean; force?: boolean },
  ): Promise<DeploymentRef | undefined>;
  /** SIGKILLs the task's process behind Marathon's back: `TASK_FAILED`, then a replacement. */
  crashTask(taskId: string): void;
  /**
   * Cuts an agent (its address, e.g. `127.0.0.2`, or its id) off from Mesos:
   * its running tasks become `TASK_UNREACHABLE` while their processes run on,
   * then are replaced and expunged as their app's `unreachableStrategy` says.
   * @returns The ids of the tasks that became unreachable.
   */
  partitionAgent(agent: string): string[];
  /**
   * Ends an agent's partition: its unreachable tasks run on (`TASK_RUNNING`),
   * or are killed if a replacement was already launched.
   * @returns The ids of the tasks that were unreachable.
   */
  reconnectAgent(agent: string): string[];
  /** The leader abdicates; resolves once a new leader is elected. */
  abdicate(options?: { noLeaderMs?: number; next?: number }): Promise<void>;
  /** Turns the `task_killing` feature on or off. */
  setTaskKilling(on: boolean): void;
  /** Fault injection. */
  readonly faults: SimFaults;
  /** AppInfos as `/v2/apps?embed=apps.tasks&embed=apps.readiness` gives them. */
  apps(): JsonObject[];
  /** Live tasks (of one app). */
  tasks(appId?: string): SimTaskView[];
  /** `/v2/deployments`. */
  deployments(): JsonObject[];
  /** Events published so far (the last 5000). */
  events(): readonly MarathonEvent[];
  /** PIDs of live task processes. */
  pids(): number[];
  /** Resolves with the first truthy value of `predicate` (polled); rejects after `timeoutMs`. */
  waitFor<T>(
    predicate: () => T | Promise<T>,
    timeoutMs?: number,
    what?: string,
  ): Promise<NonNullable<T>>;
  /** Until no deployment runs. */
  waitForDeployments(timeoutMs?: number): Promise<void>;
  /** Until the app has `count` (default: its instances) tasks `TASK_RUNNING`; returns them. */
  waitForRunning(appId: string, count?: number, timeoutMs?: number): Promise<SimTaskView[]>;
}

/** A running simulated cluster. */
export interface SimCluster extends AsyncDisposable {
  /** One base URL per member, e.g. `http://127.0.0.1:38211`. */
  readonly urls: readonly string[];
  /** The leader's base URL ("" during an election). */
  readonly leaderUrl: string;
  /** Programmatic control. */
  readonly api: SimApi;
  /** Stops every member and task process; idempotent. */
  close(): Promise<void>;
}

interface Member {
  readonly index: number;
  hostPort: string;
  url: string;
  server?: Deno.HttpServer<Deno.NetAddr>;
}

class Cluster implements SimCluster {
  readonly #marathon: Marathon;
  readonly #options:
    & Required<
      Pick<SimOptions, "hostname" | "keepAliveMs" | "noLeaderMs" | "leaderWaitMs">
    >
    & { maxOutstanding: number; version: string };
  readonly #members: Member[] = [];
  readonly #streams = new Set<EventStream>();
  #proxyClient: Deno.HttpClient | undefined;
  readonly #signalHandlers: [Deno.Signal, () => void][] = [];
  #leader: number | null = 0;
  #lastLeader = 0;
  #election:
    | { timer: ReturnType<typeof setTimeout>; done: Promise<void>; resolve: () => void }
    | undefined;
  #taskKilling: boolean;
  #stalled = false;
  #closeAfter: { limit: number; generation: number } | null = null;
  #closeAfterGen = 0;
  #delay: DelayFault | null = null;
  #fail: FailFault | null = null;
  #closing: Promise<void> | undefined;
  readonly api: SimApi;

  constructor(options: SimOptions) {
    const legacy = options.legacyNetworking ?? false;
    this.#taskKilling = options.taskKilling ?? true;
    this.#options = {
      hostname: options.hostname ?? "127.0.0.1",
      keepAliveMs: options.keepAliveMs ?? 10_000,
      noLeaderMs: options.noLeaderMs ?? 500,
      leaderWaitMs: options.leaderWaitMs ?? 2500,
      maxOutstanding: options.eventStreamMaxOutstanding ?? 1024,
      version: options.version ?? (legacy ? "1.4.12" : "1.10.17"),
    };
    const log = options.log ?? (() => {});
    this.#marathon = new Marathon({
      legacy,
      taskKilling: () => this.#taskKilling,
      timeScale: options.timeScale ?? 1,
      stagingMs: options.stagingMs ?? 20,
      defaultKillGraceMs: options.defaultKillGraceMs ?? 3000,
      killingNoticeMs: options.killingNoticeMs ?? 0,
      agents: options.agents ?? 3,
      hostPortRange: options.hostPortRange ?? [31000, 32000],
      servicePortRange: options.servicePortRange ?? [10000, 20000],
      defaultNetworkName: "dcos",
      frameworkId: `${crypto.randomUUID()}-0000`,
      log,
      ...(options.taskApp !== undefined ? { taskApp: options.taskApp } : {}),
    });
    this.api = this.#createApi();
  }

  get urls(): readonly string[] {
    return this.#members.map((m) => m.url);
  }

  get leaderUrl(): string {
    return this.#leader === null ? "" : this.#members[this.#leader]!.url;
  }

  #leaderHostPort(): string | null {
    return this.#leader === null ? null : this.#members[this.#leader]!.hostPort;
  }

  start(count: number, port: number, auth: AuthConfig | undefined): void {
    if (!this.#options.hostname.startsWith("127.")) {
      throw new RangeError(
        `Cannot start the simulator as 'hostname' must be a loopback address (127.x): current value is ${this.#options.hostname}`,
      );
    }
    if (!Number.isInteger(count) || count < 1) {
      throw new RangeError(
        `Cannot start the simulator as 'members' must be >= 1: current value is ${count}`,
      );
    }
    const admin = this.#adminApp();
    // Created here, not as a field, so a constructor that throws leaks no resource.
    this.#proxyClient = Deno.createHttpClient({});
    for (let i = 0; i < count; i++) {
      const member: Member = { index: i, hostPort: "", url: "" };
      const app = createMemberApp({
        marathon: this.#marathon,
        index: i,
        hostPort: () => member.hostPort,
        leader: () => this.#leaderHostPort(),
        waitForLeader: () => this.#waitForLeader(),
        abdicate: () => void this.#abdicate({}),
        auth,
        faults: () => ({ delay: this.#delay, fail: this.#fail }),
        openEvents: (types, remote) => this.#openEvents(types, remote),
        forward: (req, url) => this.#forward(req, url, member.hostPort),
        info: () => this.#info(),
        admin,
      });
      const server = Deno.serve(
        { hostname: this.#options.hostname, port: port === 0 ? 0 : port + i, onListen() {} },
        (req, info) => app.fetch(req, info),
      );
      member.server = server;
      member.hostPort = `${this.#options.hostname}:${server.addr.port}`;
      member.url = `http://${member.hostPort}`;
      this.#members.push(member);
    }
  }

  installSignalHandlers(): void {
    for (const sig of ["SIGINT", "SIGTERM"] as const) {
      const handler = () => {
        // Synchronous: the process is about to exit; no task may outlive it.
        for (const pid of this.api.pids()) {
          try {
            Deno.kill(pid, "SIGKILL");
          } catch {
            // Already gone.
          }
        }
        Deno.exit(sig === "SIGINT" ? 130 : 143);
      };
      Deno.addSignalListener(sig, handler);
      this.#signalHandlers.push([sig, handler]);
    }
  }

  async #waitForLeader(): Promise<string | null> {
    const deadline = Date.now() + this.#options.leaderWaitMs;
    while (this.#leader === null && Date.now() < deadline && !this.#closing) {
      await new Promise((r) => setTimeout(r, Math.min(50, this.#options.leaderWaitMs)));
    }
    return this.#leaderHostPort();
  }

  #abdicate(options: { noLeaderMs?: number; next?: number }): Promise<void> {
    if (this.#closing) return Promise.resolve();
    if (this.#election) return this.#election.done;
    const old = this.#leader ?? this.#lastLeader;
    const next = options.next ?? (old + 1) % this.#members.length;
    if (!Number.isInteger(next) || next < 0 || next >= this.#members.length) {
      return Promise.reject(
        new RangeError(`Cannot abdicate to member ${next}: there are ${this.#members.length}`),
      );
    }
    this.#lastLeader = old;
    this.#leader = null;
    // A Marathon losing leadership closes every event stream and forgets health results.
    for (const s of [...this.#streams]) s.close();
    this.#marathon.prober.pause();
    let resolve!: () => void;
    const done = new Promise<void>((r) => (resolve = r));
    const timer = setTimeout(() => {
      this.#election = undefined;
      this.#leader = next;
      this.#lastLeader = next;
      this.#marathon.prober.resume();
      resolve();
    }, options.noLeaderMs ?? this.#options.noLeaderMs);
    this.#election = { timer, done, resolve };
    return done;
  }

  #openEvents(types: Set<string>, remoteAddress: string): EventStream {
    const bus = this.#marathon.bus;
    const stream: EventStream = openEventStream(bus, {
      eventTypes: types,
      keepAliveMs: this.#options.keepAliveMs,
      maxOutstanding: this.#options.maxOutstanding,
      stalled: () => this.#stalled,
      closeAfter: () => this.#closeAfter,
      onClose: () => {
        this.#streams.delete(stream);
        if (!this.#closing) bus.publish("event_stream_detached", { remoteAddress });
      },
    });
    if (this.#closing) {
      // A client reconnecting mid-close: end its stream at once, or the
      // members' shutdown() would wait on it forever.
      stream.close();
      return stream;
    }
    this.#streams.add(stream);
    bus.publish("event_stream_attached", { remoteAddress });
    return stream;
  }

  async #forward(req: Request, url: string, myHostPort: string): Promise<Response> {
    const headers = copyHeaders(req.headers);
    for (const h of ["host", "connection", "content-length", "keep-alive"]) headers.delete(h);
    const via = req.headers.get("x-marathon-via");
    headers.set("X-Marathon-Via", via ? `${via}, 1.1 ${myHostPort}` : `1.1 ${myHostPort}`);
    const body = req.method === "GET" || req.method === "HEAD"
      ? undefined
      : await req.arrayBuffer();
    const res = await fetch(url, {
      method: req.method,
      headers: headerPairs(headers),
      ...(body !== undefined ? { body } : {}),
      redirect: "manual",
      ...(this.#proxyClient ? { client: this.#proxyClient } : {}),
    });
    const out = copyHeaders(res.headers);
    for (const h of ["connection", "keep-alive", "transfer-encoding", "content-length"]) {
      out.delete(h);
    }
    return new Response(res.body, { status: res.status, headers: out });
  }

  #info(): JsonObject {
    const leader = this.#leaderHostPort() ?? "";
    const port = Number(leader.split(":").pop() ?? 0);
    const m = this.#marathon.options;
    return {
      name: "marathon",
      version: this.#options.version,
      buildref: "pacer-sim",
      elected: true,
      leader,
      frameworkId: m.frameworkId,
      marathon_config: {
        access_control_allow_origin: ["*"],
        checkpoint: true,
        decline_offer_duration: 120000,
        default_network_name: m.defaultNetworkName,
        env_vars_prefix: "",
        executor: "//cmd",
        failover_timeout: 604800,
        features: this.#taskKilling ? ["task_killing"] : [],
        framework_name: "marathon",
        ha: this.#members.length > 1,
        hostname: this.#options.hostname,
        launch_token: 100,
        launch_token_refresh_interval: 30000,
        leader_proxy_connection_timeout_ms: 5000,
        leader_proxy_read_timeout_ms: 10000,
        local_port_max: m.servicePortRange[1],
        local_port_min: m.servicePortRange[0],
        master: "zk://127.0.0.1:2181/mesos",
        max_instances_per_offer: 5,
        mesos_bridge_name: "mesos-bridge",
        mesos_heartbeat_failure_threshold: 5,
        mesos_heartbeat_interval: 15000,
        mesos_leader_ui_url: "http://127.0.0.1:5050/",
        mesos_role: "*",
        mesos_user: "root",
        min_revive_offers_interval: 5000,
        offer_matching_timeout: 3000,
        on_elected_prepare_timeout: 180000,
        reconciliation_initial_delay: 15000,
        reconciliation_interval: 600000,
        scale_apps_initial_delay: 15000,
        scale_apps_interval: 300000,
        store_cache: true,
        task_launch_confirm_timeout: 300000,
        task_launch_timeout: 300000,
        task_lost_expunge_initial_delay: 300000,
        task_lost_expunge_interval: 30000,
        task_reservation_timeout: 20000,
        webui_url: `http://${leader}`,
      },
      zookeeper_config: {
        zk: "zk://127.0.0.1:2181/marathon",
        zk_compression: true,
        zk_compression_threshold: 65536,
        zk_connection_timeout: 10000,
        zk_max_node_size: 1024000,
        zk_max_versions: 50,
        zk_session_timeout: 10000,
        zk_timeout: 10000,
      },
      http_config: { http_port: port, https_port: 8443 },
    };
  }

  #taskView(t: LaunchedTask): SimTaskView {
    return {
      id: t.id,
      instanceId: t.instanceId,
      appId: t.appId,
      state: t.state,
      host: t.net.host,
      ports: t.net.ports,
      servicePorts: t.servicePorts,
      ipAddresses: t.net.ipAddresses,
      version: t.version,
      stagedAt: isoTime(t.stagedAtMs),
      ...(t.startedAtMs !== undefined ? { startedAt: isoTime(t.startedAtMs) } : {}),
      ...(t.proc ? { pid: t.proc.pid } : {}),
      listen: t.net.listen,
      endpoints: t.net.endpoints,
      ...(taskHealthy(t.def, t) !== undefined ? { healthy: taskHealthy(t.def, t)! } : {}),
      ...(t.readiness ? { ready: t.readiness.ready } : {}),
      killing: t.kill !== undefined,
    };
  }

  #createApi(): SimApi {
    const m = this.#marathon;
    const caller = { clientIp: "127.0.0.1", uri: "/v2/apps" };
    const faults: SimFaults = {
      dropEventStreams: () => {
        const n = this.#streams.size;
        for (const s of [...this.#streams]) s.close();
        return n;
      },
      stallEventStreams: (stalled = true) => {
        this.#stalled = stalled;
      },
      closeEventStreamsAfter: (n) => {
        this.#closeAfter = n === null ? null : { limit: n, generation: ++this.#closeAfterGen };
      },
      delayResponses: (ms, options = {}) => {
        this.#delay = ms > 0 ? { ms, ...options } : null;
      },
      failResponses: (options) => {
        this.#fail = options === null ? null : {
          status: options.status ?? 503,
          body: options.body ?? "json",
          remaining: options.count ?? Infinity,
          ...(options.path !== undefined ? { path: options.path } : {}),
          ...(options.member !== undefined ? { member: options.member } : {}),
        };
      },
      clear: () => {
        this.#stalled = false;
        this.#closeAfter = null;
        this.#delay = null;
        this.#fail = null;
      },
    };
    // Marathon errors must reach callers as rejections, not synchronous throws.
    const settle = <T>(fn: () => T): Promise<T> => new Promise((resolve) => resolve(fn()));
    const api: SimApi = {
      deploy: (app) => settle(() => m.createApp(app, caller).deployment),
      update: (id, patch, options = {}) =>
        settle(() =>
          m.updateApp(id, patch, { ...options, caller: { ...caller, uri: `/v2/apps${id}` } })
            .deployment
        ),
      scale: (id, instances, options = {}) =>
        settle(() => m.scale(id, instances, { ...options, caller })),
      restart: (id, options = {}) => settle(() => m.restartApp(id, options)),
      remove: (id, options = {}) => settle(() => m.deleteApp(id, options)),
      killTask: (appId, taskId, options = {}) =>
        settle(() => {
          const result = m.killTasks([m.task(appId, taskId)], options);
          return "deployment" in result ? result.deployment : undefined;
        }),
      crashTask: (taskId) => {
        const t = m.state.tasks.get(taskId);
        if (!t) throw new MarathonError(404, { message: `Task '${taskId}' does not exist` });
        m.scheduler.crash(t);
      },
      partitionAgent: (agent) =>
        this.#tasksOnAgent(agent).filter((t) => m.scheduler.partition(t)).map((t) => t.id),
      reconnectAgent: (agent) =>
        this.#tasksOnAgent(agent).filter((t) => m.scheduler.reconnect(t)).map((t) => t.id),
      abdicate: (options = {}) => this.#abdicate(options),
      setTaskKilling: (on) => {
        this.#taskKilling = on;
      },
      faults,
      apps: () => {
        const embeds = resolveEmbeds(["tasks", "readiness"], ["counts", "deployments"]);
        return [...m.state.apps.values()].map((a) =>
          renderAppInfo(m.state, a, embeds, { legacy: m.options.legacy })
        );
      },
      tasks: (appId) =>
        [...m.state.tasks.values()]
          .filter((t) => appId === undefined || t.appId === appId)
          .map((t) => this.#taskView(t as LaunchedTask)),
      deployments: () => [...m.state.deployments.values()].map((d) => renderDeployment(m.state, d)),
      events: () => m.bus.history(),
      pids: () => [...m.state.tasks.values()].flatMap((t) => t.proc?.alive ? [t.proc.pid] : []),
      waitFor: async <T>(
        predicate: () => T | Promise<T>,
        timeoutMs = 10_000,
        what = "condition",
      ) => {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
          const value = await predicate();
          if (value) return value as NonNullable<T>;
          if (Date.now() > deadline) {
            throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
          }
          await new Promise((r) => setTimeout(r, 15));
        }
      },
      waitForDeployments: async (timeoutMs = 10_000) => {
        await api.waitFor(() => m.state.deployments.size === 0, timeoutMs, "deployments to end");
      },
      waitForRunning: (appId, count, timeoutMs = 10_000) =>
        api.waitFor(
          () => {
            const id = appId.startsWith("/") ? appId : `/${appId}`;
            const want = count ?? m.state.apps.get(id)?.def.instances ?? 0;
            const running = api.tasks(id).filter((t) => t.state === "TASK_RUNNING" && !t.killing);
            return running.length === want ? running : undefined;
          },
          timeoutMs,
          `${appId} to run`,
        ),
    };
    return api;
  }

  /** The tasks on an agent named by address or id; a 404 for an unknown agent. */
  #tasksOnAgent(agent: string): LaunchedTask[] {
    const m = this.#marathon;
    const tasks = [...m.state.tasks.values()] as LaunchedTask[];
    if (!m.alloc.agents.some((a) => a.ip === agent || a.id === agent)) {
      throw new MarathonError(404, { message: `Agent '${agent}' does not exist` });
    }
    return tasks.filter((t) => t.agent.ip === agent || t.agent.id === agent);
  }

  /** `/_sim/*`: the admin API over HTTP (no auth, no faults, any member). */
  #adminApp(): Hono {
    const admin = new Hono();
    const ok = (body: unknown = { ok: true }) =>
      new Response(JSON.stringify(body), { headers: { "Content-Type": "application/json" } });
    admin.onError((err) => {
      const status = err instanceof MarathonError ? err.status : 400;
      const body = err instanceof MarathonError ? err.body : { message: String(err) };
      return new Response(JSON.stringify(body), {
        status,
        headers: { "Content-Type": "application/json" },
      });
    });
    admin.get("/state", () =>
      ok({
        leader: this.leaderUrl,
        members: this.urls,
        tasks: this.api.tasks(),
        deployments: this.api.deployments(),
      }));
    admin.post("/tasks/:taskId/crash", (c) => {
      this.api.crashTask(c.req.param("taskId"));
      return ok();
    });
    admin.post("/tasks/:taskId/kill", async (c) => {
      const taskId = c.req.param("taskId");
      const t = this.#marathon.state.tasks.get(taskId);
      if (!t) throw new MarathonError(404, { message: `Task '${taskId}' does not exist` });
      const ref = await this.api.killTask(t.appId, taskId, {
        hard: c.req.query("hard") === "1" || c.req.query("hard") === "true",
        scale: c.req.query("scale") === "1" || c.req.query("scale") === "true",
      });
      return ok(ref ?? { ok: true });
    });
    admin.post(
      "/agents/:agent/partition",
      (c) => ok({ unreachable: this.api.partitionAgent(c.req.param("agent")) }),
    );
    admin.post(
      "/agents/:agent/reconnect",
      (c) => ok({ reconnected: this.api.reconnectAgent(c.req.param("agent")) }),
    );
    admin.post("/abdicate", (c) => {
      const ms = c.req.query("noLeaderMs");
      void this.api.abdicate(ms !== undefined ? { noLeaderMs: Number(ms) } : {});
      return ok();
    });
    admin.post("/features", (c) => {
      const v = c.req.query("task_killing");
      if (v !== undefined) this.api.setTaskKilling(v === "1" || v === "true");
      return ok({ taskKilling: this.#taskKilling });
    });
    admin.post("/faults", async (c) => {
      const f = await c.req.json() as Record<string, unknown>;
      const api = this.api.faults;
      if (f.clear === true) api.clear();
      let dropped = 0;
      if (f.dropEventStreams === true) dropped = api.dropEventStreams();
      if (typeof f.stallEventStreams === "boolean") api.stallEventStreams(f.stallEventStreams);
      if (f.closeEventStreamsAfter !== undefined) {
        api.closeEventStreamsAfter(f.closeEventStreamsAfter as number | null);
      }
      if (typeof f.delayResponses === "object" && f.delayResponses !== null) {
        const d = f.delayResponses as { ms: number; path?: string; member?: number };
        api.delayResponses(d.ms, {
          ...(d.path !== undefined ? { path: d.path } : {}),
          ...(d.member !== undefined ? { member: d.member } : {}),
        });
      }
      if (f.failResponses !== undefined) {
        api.failResponses(f.failResponses as Parameters<SimFaults["failResponses"]>[0]);
      }
      return ok({ ok: true, dropped });
    });
    return admin;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#election) {
        clearTimeout(this.#election.timer);
        this.#election.resolve();
        this.#election = undefined;
      }
      for (const s of [...this.#streams]) s.close();
      await this.#marathon.close();
      await Promise.all(this.#members.map((m) => m.server?.shutdown()));
      this.#proxyClient?.close();
      for (const [sig, handler] of this.#signalHandlers) Deno.removeSignalListener(sig, handler);
      this.#signalHandlers.length = 0;
    })();
    return this.#closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Starts a simulated Marathon cluster: members listening, member 0 leading,
 * `options.apps` deployed (their deployments run on; see
 * `api.waitForDeployments()`).
 *
 * @param options Cluster settings.
 * @returns The running cluster; `await using` it, or call `close()`.
 * @throws {RangeError} On invalid sizes or ranges.
 * @throws {MarathonError} If an initial app definition is invalid.
 *
 * @example
 * ```ts
 * await using sim = await startCluster({ apps: demoApps() });
 * await sim.api.waitForDeployments();
 * const res = await fetch(`${sim.leaderUrl}/v2/apps?embed=apps.tasks`);
 * ```
 */
export async function startCluster(options: SimOptions = {}): Promise<SimCluster> {
  const cluster = new Cluster(options);
  try {
    cluster.start(options.members ?? 1, options.port ?? 0, options.auth);
    for (const app of options.apps ?? []) await cluster.api.deploy(app);
    if (options.handleSignals) cluster.installSignalHandlers();
  } catch (err) {
    await cluster.close();
    throw err;
  }
  return cluster;
}
