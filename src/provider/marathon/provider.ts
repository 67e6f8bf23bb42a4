/**
 * The live Marathon provider: keeps Pacer's routes in step with a Marathon
 * cluster. `buildConfiguration()` (pure, `build.ts`) turns apps into routes;
 * this module decides **when** to list apps and what to do when Marathon
 * misbehaves.
 *
 * - **Re-list, always.** Every change is applied by re-listing all apps
 *   (`GET /v2/apps?embed=...`) and rebuilding, as Traefik does, so a lost
 *   event heals at the next one. Apps are listed at start-up, each time the
 *   event stream (re)connects (once its 200 headers arrive: changes made
 *   while disconnected are picked up), after each relevant event, and every
 *   `resyncInterval` without a list (Marathon's docs call events "cache
 *   invalidation" only; NOTES.md §1.4).
 * - **Coalescing.** At most one list is in flight; events arriving during it
 *   cause exactly one more. A burst of N events costs one or two lists, not N
 *   (Traefik: N).
 * - **Fast path.** A `status_update_event` that takes a task out of
 *   `TASK_RUNNING` (`TASK_KILLING`, `TASK_KILLED`, `TASK_LOST`, ...) marks it
 *   so in the last apps snapshot and emits the rebuilt configuration at once,
 *   `urgent` (past the throttle), before the list completes: draining starts
 *   the moment Marathon says `TASK_KILLING`. The mark also survives a list
 *   that started before the event and answers with the task still running.
 *   One exception: when the rebuilt configuration would leave a service
 *   without servers, the snapshot is likely stale (during a deployment
 *   Marathon kills old tasks *because* new ones became ready, and readiness
 *   results come without events), so the provider waits for the list it
 *   asked for and emits that one `urgent` instead (a list that started
 *   before the event and would empty a service is not emitted either).
 * - **Failures** (unreachable, 5xx, no leader, timeouts, malformed JSON,
 *   refused credentials): nothing is emitted, so the last good configuration
 *   stays; the failure is logged once per change of failure, not per retry;
 *   the list is retried with capped exponential backoff and jitter. A failed
 *   first list is retried too (Traefik waited for the next event, issue 3974).
 *   A list that succeeds without an app removes that app's routes.
 * - **Event stream.** `/v2/events` (see `client.ts` for redirects and
 *   `events.ts` for parsing); EOF, an error, or no byte for
 *   `eventsIdleTimeout` reconnects with capped exponential backoff and
 *   jitter, reset once a connection stayed up for a stable period.
 * - `watch: false`: apps are listed once at start (retried until it
 *   succeeds), never again.
 *
 * Every diagnostic of `buildConfiguration()` goes into the emitted message
 * (`/api/rawdata` shows them) and into the log once when it appears
 * (errors as errors, warnings as warnings, `info` ones at debug level).
 *
 * @module
 */
import type { DynamicConfig } from "../../config/dynamic.ts";
import { formatIssues } from "../../config/issues.ts";
import type { Logger } from "../../log/logger.ts";
import type { MiddlewareRegistry } from "../../middleware/registry.ts";
import type { Diagnostic, Emit, Provider } from "../provider.ts";
import { Backoff } from "./backoff.ts";
import { delay as sleep } from "../../util/delay.ts";
import { buildConfiguration, type BuildResult, compileDefaultRule } from "./build.ts";
import {
  MarathonClient,
  MarathonRequestError,
  parseEndpoints,
  readTlsMaterial,
  type TlsMaterial,
} from "./client.ts";
import { compileConstraints } from "./constraints.ts";
import {
  isRelevantEvent,
  readEventStream,
  RELEVANT_EVENTS,
  type TaskLeftRunning,
  taskLeftRunning,
} from "./events.ts";
import {
  type MarathonOptions,
  type MarathonOptionsInput,
  marathonOptionsSchema,
} from "./options.ts";

/** Retry and reconnect timing (tests shorten it). All in ms. */
export interface MarathonProviderTiming {
  /** First event-stream reconnect delay, before jitter. @default {250} */
  readonly reconnectInitialMs?: number;
  /** Largest event-stream reconnect delay. @default {30000} */
  readonly reconnectMaxMs?: number;
  /** First retry of a failed list, before jitter. @default {500} */
  readonly retryInitialMs?: number;
  /** Largest retry delay of a failed list. @default {30000} */
  readonly retryMaxMs?: number;
  /** A stream connected this long (and not ended by silence) resets the reconnect backoff. @default {60000} */
  readonly stableMs?: number;
  /** Interval between `/ping` probes of a member marked down. @default {5000} */
  readonly memberRecheckMs?: number;
  /** Random source for jitter. @default {Math.random} */
  readonly random?: () => number;
}

/** What {@linkcode marathonProvider} needs besides its options. */
export interface MarathonProviderDeps {
  readonly log: Logger;
  /** Middleware types labels may use. */
  readonly registry: MiddlewareRegistry;
  /** Clock for readiness windows. @default {() => new Date()} */
  readonly now?: () => Date;
  /** Test seam for every request to Marathon. @default {globalThis.fetch} */
  readonly fetch?: typeof fetch;
  /** Retry and reconnect timing. */
  readonly timing?: MarathonProviderTiming;
}

const DURATION_KEYS = [
  "dialerTimeout",
  "responseHeaderTimeout",
  "tlsHandshakeTimeout",
  "keepAlive",
  "resyncInterval",
  "eventsIdleTimeout",
] as const;
const DEFAULTED_KEYS = Object.keys(marathonOptionsSchema.parse({}));

/** Marathon's keep-alive period: a shorter idle timeout reconnects quiet streams for nothing. */
const MARATHON_KEEPALIVE_MS = 10_000;

/**
 * Validates `providers.marathon` options. Raw input (durations as strings,
 * or numbers of seconds) is parsed with {@linkcode marathonOptionsSchema};
 * an object that is already the schema's output (every defaulted option
 * present, durations as numbers of ms, as `pacer run` passes it) is used as
 * is.
 *
 * @throws {TypeError} If the options do not match the schema.
 */
export function resolveMarathonOptions(
  options: MarathonOptions | MarathonOptionsInput,
): MarathonOptions {
  const raw = options as Record<string, unknown>;
  if (
    DEFAULTED_KEYS.every((k) => raw[k] !== undefined) &&
    DURATION_KEYS.every((k) => typeof raw[k] === "number")
  ) {
    return options as MarathonOptions;
  }
  const result = marathonOptionsSchema.safeParse(options);
  if (!result.success) {
    throw new TypeError(
      `Invalid providers.marathon options: ${
        formatIssues(result.error.issues, "providers.marathon")
      }`,
    );
  }
  return result.data;
}

/**
 * Creates the Marathon provider (name `marathon`), validating everything
 * that can be validated before any request.
 *
 * @param options `providers.marathon`, raw or parsed (see {@linkcode resolveMarathonOptions}).
 * @param deps Logger, middleware registry, and test seams.
 * @throws {TypeError} On invalid options, an invalid `endpoint`, or unreadable TLS files.
 * @throws {SyntaxError} If `defaultRule` or `constraints` does not compile.
 */
export function marathonProvider(
  options: MarathonOptions | MarathonOptionsInput,
  deps: MarathonProviderDeps,
): Provider {
  const opts = resolveMarathonOptions(options);
  compileDefaultRule(opts.defaultRule);
  try {
    compileConstraints(opts.constraints);
  } catch (error) {
    throw new SyntaxError(
      `Cannot use providers.marathon.constraints: ${(error as Error).message}`,
      { cause: error },
    );
  }
  parseEndpoints(opts.endpoint, { dcos: Boolean(opts.dcosToken) });
  const { material, warnings } = readTlsMaterial(opts.tls);
  const user = opts.basic?.httpBasicAuthUser;
  const password = opts.basic?.httpBasicPassword;
  if (opts.dcosToken && user && password) {
    warnings.push(
      "providers.marathon.basic and providers.marathon.dcosToken are both set: Pacer sends the DC/OS token only",
    );
  } else if (opts.basic && Boolean(user) !== Boolean(password)) {
    warnings.push(
      "providers.marathon.basic needs both httpBasicAuthUser and httpBasicPassword: no basic auth is sent",
    );
  }
  if (opts.watch && opts.eventsIdleTimeout > 0 && opts.eventsIdleTimeout <= MARATHON_KEEPALIVE_MS) {
    warnings.push(
      `providers.marathon.eventsIdleTimeout (${opts.eventsIdleTimeout} ms) is not longer than Marathon's 10 s keep-alive: quiet event streams will be reconnected`,
    );
  }
  const log = deps.log.with({ provider: "marathon" });
  for (const warning of warnings) log.warn(warning);
  return {
    name: "marathon",
    run: (emit, signal) => new MarathonWatch(opts, material, { ...deps, log }, emit, signal).run(),
  };
}

/** Marks a task id with the state an event reported, so it leaves rotation. */
interface Tombstone {
  readonly state: string;
  /** Order of recording, compared with the start of a list. */
  readonly seq: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Returns `apps` with task `taskId` in state `state`, or `undefined` if no
 * `TASK_RUNNING` task has that id (nothing to take out of rotation).
 * Copy-on-write: the snapshot given is never modified.
 */
export function markTaskState(
  apps: readonly unknown[],
  taskId: string,
  state: string,
  appId?: string,
): unknown[] | undefined {
  const find = (matchApp: (app: Json) => boolean): unknown[] | undefined => {
    for (let i = 0; i < apps.length; i++) {
      const app = apps[i];
      if (!isObject(app) || !Array.isArray(app.tasks) || !matchApp(app)) continue;
      const j = app.tasks.findIndex((t) => isObject(t) && t.id === taskId);
      if (j < 0) continue;
      const task = app.tasks[j] as Json;
      if (task.state !== "TASK_RUNNING") return undefined;
      const tasks = [...app.tasks];
      tasks[j] = { ...task, state };
      const out = [...apps];
      out[i] = { ...app, tasks };
      return out;
    }
    return undefined;
  };
  return (appId !== undefined ? find((a) => a.id === appId) : undefined) ?? find(() => true);
}

/** Applies tombstones to a freshly listed snapshot (only running tasks change). */
function applyTombstones(apps: unknown[], tombstones: ReadonlyMap<string, Tombstone>): unknown[] {
  if (tombstones.size === 0) return apps;
  let out: unknown[] | undefined;
  apps.forEach((app, i) => {
    if (!isObject(app) || !Array.isArray(app.tasks)) return;
    let tasks: unknown[] | undefined;
    app.tasks.forEach((task, j) => {
      if (!isObject(task) || typeof task.id !== "string" || task.state !== "TASK_RUNNING") return;
      const stone = tombstones.get(task.id);
      if (!stone) return;
      tasks ??= [...(app.tasks as unknown[])];
      tasks[j] = { ...task, state: stone.state };
    });
    if (tasks) {
      out ??= [...apps];
      out[i] = { ...app, tasks };
    }
  });
  return out ?? apps;
}

/**
 * The first service (`http.services.x`, `tcp...`, `udp...`) that has servers
 * in `before` and none (or no longer exists) in `after`, if any.
 */
export function emptiedService(before: DynamicConfig, after: DynamicConfig): string | undefined {
  const count = (config: DynamicConfig, section: "http" | "tcp" | "udp", name: string) => {
    const services = config[section]?.services as Record<string, unknown> | undefined;
    const lb = (services?.[name] as { loadBalancer?: { servers?: unknown[] } } | undefined)
      ?.loadBalancer;
    return lb?.servers?.length ?? 0;
  };
  for (const section of ["http", "tcp", "udp"] as const) {
    for (const name of Object.keys(before[section]?.services ?? {})) {
      if (count(before, section, name) > 0 && count(after, section, name) === 0) {
        return `${section}.services.${name}`;
      }
    }
  }
  return undefined;
}

function diagnosticKey(d: Diagnostic): string {
  // Numbers (seconds in readiness windows) change on every build: not a new diagnostic.
  return [d.severity, d.appId ?? "", d.taskId ?? "", d.item ?? "", d.message.replace(/\d+/g, "#")]
    .join("\u0000");
}

/** One run of the provider: from `run()` until its signal aborts. */
class MarathonWatch {
  readonly #opts: MarathonOptions;
  readonly #deps: MarathonProviderDeps;
  readonly #log: Logger;
  readonly #emit: Emit;
  readonly #signal: AbortSignal;
  readonly #client: MarathonClient;
  readonly #now: () => Date;
  readonly #timing: Required<Omit<MarathonProviderTiming, "random">> & { random?: () => number };
  readonly #fetchBackoff: Backoff;
  readonly #tombstones = new Map<string, Tombstone>();
  #apps: unknown[] | undefined;
  #seq = 0;
  #fetching: Promise<void> | undefined;
  #pending = false;
  #listed = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;
  #resyncTimer: ReturnType<typeof setTimeout> | undefined;
  #failure: string | undefined;
  /** The last configuration emitted. */
  #emitted: DynamicConfig | undefined;
  /** A fast-path removal was deferred to the next list: emit that one urgent. */
  #urgentNext = false;
  #failures = 0;
  #logged = new Set<string>();

  constructor(
    opts: MarathonOptions,
    tls: TlsMaterial | undefined,
    deps: MarathonProviderDeps,
    emit: Emit,
    signal: AbortSignal,
  ) {
    this.#opts = opts;
    this.#deps = deps;
    this.#log = deps.log;
    this.#emit = emit;
    this.#signal = signal;
    this.#now = deps.now ?? (() => new Date());
    const t = deps.timing ?? {};
    this.#timing = {
      reconnectInitialMs: t.reconnectInitialMs ?? 250,
      reconnectMaxMs: t.reconnectMaxMs ?? 30_000,
      retryInitialMs: t.retryInitialMs ?? 500,
      retryMaxMs: t.retryMaxMs ?? 30_000,
      stableMs: t.stableMs ?? 60_000,
      memberRecheckMs: t.memberRecheckMs ?? 5_000,
      ...(t.random ? { random: t.random } : {}),
    };
    this.#fetchBackoff = new Backoff({
      initialMs: this.#timing.retryInitialMs,
      maxMs: this.#timing.retryMaxMs,
      ...(t.random ? { random: t.random } : {}),
    });
    this.#client = new MarathonClient({
      options: opts,
      tls,
      log: this.#log,
      ...(deps.fetch ? { fetch: deps.fetch } : {}),
      memberRecheckMs: this.#timing.memberRecheckMs,
    });
  }

  async run(): Promise<void> {
    const signal = this.#signal;
    this.#log.info("Marathon provider started", {
      endpoints: this.#client.members.join(","),
      watch: this.#opts.watch,
    });
    const stopped = new Promise<void>((resolve) => {
      if (signal.aborted) resolve();
      else signal.addEventListener("abort", () => resolve(), { once: true });
    });
    this.#requestList("start-up", true);
    const streaming = this.#opts.watch ? this.#streamLoop() : Promise.resolve();
    await stopped;
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#resyncTimer);
    this.#retryTimer = this.#resyncTimer = undefined;
    await streaming;
    await this.#fetching;
    await this.#client.close();
  }

  /**
   * Asks for a list of apps. One is in flight at most: a request during it
   * makes exactly one more afterwards. While a failed list waits for its
   * retry, only `force` (start-up, a stream that just connected) lists now.
   */
  #requestList(reason: string, force = false): void {
    if (this.#signal.aborted) return;
    if (!this.#opts.watch && this.#listed) return;
    if (this.#fetching) {
      this.#pending = true;
      return;
    }
    if (this.#retryTimer !== undefined && !force) {
      this.#pending = true;
      return;
    }
    clearTimeout(this.#retryTimer);
    clearTimeout(this.#resyncTimer);
    this.#retryTimer = this.#resyncTimer = undefined;
    this.#pending = false;
    this.#fetching = this.#list(reason).finally(() => {
      this.#fetching = undefined;
      if (this.#pending && this.#retryTimer === undefined) {
        this.#requestList("events during the last list");
      }
    });
  }

  async #list(reason: string): Promise<void> {
    const startSeq = this.#seq;
    let apps: unknown[];
    try {
      apps = await this.#client.fetchApps(this.#signal);
    } catch (error) {
      if (this.#signal.aborted) return;
      this.#onListFailure(error, reason);
      return;
    }
    if (this.#signal.aborted) return;
    if (this.#failure !== undefined) {
      this.#log.info("Marathon apps listed again; routes follow Marathon again", {
        failedAttempts: this.#failures,
      });
    }
    this.#failure = undefined;
    this.#failures = 0;
    this.#fetchBackoff.reset();
    // An event recorded after this list started may be newer than its answer.
    for (const [id, stone] of this.#tombstones) {
      if (stone.seq <= startSeq) this.#tombstones.delete(id);
    }
    // Tombstones left now were recorded during this list: its answer predates those events.
    const stale = this.#tombstones.size > 0;
    this.#apps = applyTombstones(apps, this.#tombstones);
    this.#listed = true;
    if (this.#opts.trace) this.#log.debug("Marathon apps listed", { reason, apps: apps.length });
    const result = this.#build();
    const emptied = result && stale && this.#pending && this.#emitted
      ? emptiedService(this.#emitted, result.config)
      : undefined;
    if (!result) {
      // Logged by #build(); the next list tries again.
    } else if (emptied !== undefined) {
      // Same reason as the fast path's exception: the list the event asked for decides.
      this.#log.debug("A list older than a task's exit would leave a service without server", {
        service: emptied,
      });
    } else {
      this.#send(result, this.#urgentNext);
      this.#urgentNext = false;
    }
    if (this.#opts.watch && this.#opts.resyncInterval > 0 && !this.#pending) {
      this.#resyncTimer = setTimeout(() => {
        this.#resyncTimer = undefined;
        this.#requestList("periodic resync");
      }, this.#opts.resyncInterval);
    }
  }

  #onListFailure(error: unknown, reason: string): void {
    const failure = error instanceof MarathonRequestError
      ? error
      : new MarathonRequestError("unreachable", `${(error as Error)?.message ?? error}`, {
        key: "internal",
        cause: error,
      });
    this.#failures++;
    const delay = this.#fetchBackoff.next();
    const fields = {
      error: failure.message,
      retryInMs: delay,
      ...(error instanceof MarathonRequestError ? {} : { stack: (error as Error)?.stack }),
    };
    if (this.#failure !== failure.key) {
      this.#failure = failure.key;
      this.#log.error(
        this.#apps
          ? "Cannot list Marathon apps; keeping the last configuration and retrying"
          : "Cannot list Marathon apps; no Marathon routes until it answers; retrying",
        fields,
      );
    } else {
      this.#log.debug("Marathon apps still cannot be listed", { ...fields, reason });
    }
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = undefined;
      this.#requestList("retry", true);
    }, delay);
  }

  #build(): BuildResult | undefined {
    if (!this.#apps) return undefined;
    try {
      return buildConfiguration(this.#apps, this.#opts, {
        now: this.#now(),
        registry: this.#deps.registry,
      });
    } catch (error) {
      // Options were validated at start-up: this is a bug; keep the live configuration.
      this.#log.error("Cannot build the Marathon configuration; keeping the last one", { error });
      return undefined;
    }
  }

  /** Logs new diagnostics and emits; `urgent` skips the throttle. */
  #send(result: BuildResult, urgent: boolean): void {
    this.#logDiagnostics(result.diagnostics);
    this.#emitted = result.config;
    this.#emit({
      provider: "marathon",
      config: result.config,
      diagnostics: result.diagnostics,
      recursionGuard: result.defaultRuleRouters,
      ...(urgent ? { urgent: true } : {}),
    });
  }

  #logDiagnostics(diagnostics: readonly Diagnostic[]): void {
    const seen = new Set<string>();
    for (const d of diagnostics) {
      const key = diagnosticKey(d);
      seen.add(key);
      if (this.#logged.has(key)) continue;
      const fields = {
        ...(d.appId !== undefined ? { app: d.appId } : {}),
        ...(d.taskId !== undefined ? { task: d.taskId } : {}),
        ...(d.item !== undefined ? { item: d.item } : {}),
      };
      if (d.severity === "error") this.#log.error(d.message, fields);
      else if (d.severity === "warning") this.#log.warn(d.message, fields);
      else this.#log.debug(d.message, fields);
    }
    this.#logged = seen;
  }

  #onEvent(type: string, data: unknown): void {
    if (this.#opts.trace) this.#log.debug("Marathon event", { type });
    if (!isRelevantEvent(type)) return;
    if (type === "status_update_event") {
      const left = taskLeftRunning(data);
      if (left) this.#onTaskLeftRunning(left);
    }
    this.#requestList(type);
  }

  /** The fast path: out of rotation now, before the list completes. */
  #onTaskLeftRunning(left: TaskLeftRunning): void {
    this.#tombstones.set(left.taskId, { state: left.state, seq: ++this.#seq });
    if (!this.#apps) return;
    const apps = markTaskState(this.#apps, left.taskId, left.state, left.appId);
    if (!apps) return;
    this.#apps = apps;
    const result = this.#build();
    if (!result) return;
    const emptied = this.#emitted ? emptiedService(this.#emitted, result.config) : undefined;
    if (emptied !== undefined) {
      // The list requested with this event decides, and goes out urgent.
      this.#urgentNext = true;
      this.#log.debug(
        "Task left TASK_RUNNING; its service would have no server left, listing first",
        {
          task: left.taskId,
          state: left.state,
          service: emptied,
        },
      );
      return;
    }
    this.#log.debug("Task left TASK_RUNNING; removing it now", {
      task: left.taskId,
      state: left.state,
    });
    this.#send(result, true);
  }

  async #streamLoop(): Promise<void> {
    const signal = this.#signal;
    const backoff = new Backoff({
      initialMs: this.#timing.reconnectInitialMs,
      maxMs: this.#timing.reconnectMaxMs,
      ...(this.#timing.random ? { random: this.#timing.random } : {}),
    });
    const idleMs = this.#opts.eventsIdleTimeout > 0 ? this.#opts.eventsIdleTimeout : 2 ** 31 - 1;
    let connectedBefore = false;
    let failure: string | undefined;
    while (!signal.aborted) {
      const connection = new AbortController();
      const onAbort = () => connection.abort();
      signal.addEventListener("abort", onAbort, { once: true });
      let openedAt: number | undefined;
      let why: string;
      let key: string;
      try {
        const exchange = await this.#client.openEvents(RELEVANT_EVENTS, connection.signal);
        openedAt = Date.now();
        this.#log.info(
          connectedBefore ? "Marathon event stream reconnected" : "Marathon event stream connected",
          { url: exchange.url.split("?")[0] },
        );
        connectedBefore = true;
        failure = undefined;
        // Changes made while disconnected produced events nobody received: list now.
        this.#requestList("event stream connected", true);
        const end = await readEventStream(exchange.response.body!, {
          idleTimeoutMs: idleMs,
          signal: connection.signal,
          onEvent: (type, data) => this.#onEvent(type, data),
        });
        if (end === "aborted") break;
        key = end;
        why = end === "idle"
          ? `nothing received for ${this.#opts.eventsIdleTimeout} ms (Marathon sends a keep-alive every 10 s)`
          : "Marathon closed it";
      } catch (error) {
        if (signal.aborted) break;
        key = error instanceof MarathonRequestError ? error.key : "error";
        why = (error as Error)?.message ?? String(error);
      } finally {
        connection.abort();
        signal.removeEventListener("abort", onAbort);
      }
      if (
        openedAt !== undefined && key !== "idle" && Date.now() - openedAt >= this.#timing.stableMs
      ) {
        backoff.reset();
      }
      const delay = backoff.next();
      if (openedAt !== undefined) {
        this.#log.warn("Marathon event stream ended; reconnecting", {
          reason: why,
          retryInMs: delay,
        });
        failure = key;
      } else if (failure !== key) {
        failure = key;
        this.#log.warn("Cannot open the Marathon event stream; retrying", {
          error: why,
          retryInMs: delay,
        });
      } else {
        this.#log.debug("Marathon event stream still cannot be opened", { error: why });
      }
      if (!await sleep(delay, signal)) break;
    }
  }
}
