/**
 * One upstream server as Pacer tracks it across configuration generations:
 * its connection pool, health (active checks and passive outlier detection),
 * in-flight requests and draining state.
 *
 * @module
 */
import type { Transport } from "./transport.ts";

/** Active health-check status. `pending`: new, waiting for its first check. */
export type ActiveStatus = "up" | "down" | "pending";

/** A server's health as the health-gate sees it. */
export class ServerHealth {
  /** Result of active checks; `up` when the service has none. */
  active: ActiveStatus = "up";
  /** Passive ejection ends at this time (ms since epoch); 0 = not ejected. */
  ejectedUntil = 0;
  /** Ejections in a row; the next one lasts `failureWindow * 2^ejections`. */
  ejections = 0;
  /** Failures counted towards the next ejection. */
  consecutiveFailures = 0;
  /** Time of the first counted failure (the failure window starts there). */
  firstFailureAt = 0;
  /** Last time an active check ran (ms since epoch); 0 = never. */
  lastCheckAt = 0;
  /** Last active-check failure reason, for `/api/rawdata`. */
  lastError = "";

  /** Whether new requests may go to the server at `now`. */
  routable(now: number): boolean {
    return this.active === "up" && now >= this.ejectedUntil;
  }

  /** Records an outcome seen by the passive health check. */
  recordOutcome(
    failed: boolean,
    now: number,
    policy: { failureWindow: number; maxFailedAttempts: number; maxEjectionTime: number },
    canEject = true,
  ): void {
    if (!failed) {
      this.consecutiveFailures = 0;
      // A clean request after probation resets the growth of ejections.
      if (this.ejectedUntil !== 0 && now >= this.ejectedUntil) {
        this.ejectedUntil = 0;
        this.ejections = 0;
      }
      return;
    }
    if (this.consecutiveFailures === 0 || now - this.firstFailureAt > policy.failureWindow) {
      this.consecutiveFailures = 0;
      this.firstFailureAt = now;
    }
    this.consecutiveFailures++;
    // On probation (back after an ejection, no success yet) one failure is enough.
    const onProbation = this.ejectedUntil !== 0 && now >= this.ejectedUntil;
    if (canEject && (onProbation || this.consecutiveFailures >= policy.maxFailedAttempts)) {
      const length = Math.min(policy.failureWindow * 2 ** this.ejections, policy.maxEjectionTime);
      this.ejectedUntil = now + Math.max(length, 1);
      this.ejections++;
      this.consecutiveFailures = 0;
    }
  }

  /** Human-readable state for `/api/rawdata`. */
  describe(now: number): "UP" | "DOWN" | "PENDING" | "EJECTED" {
    if (this.active === "down") return "DOWN";
    if (this.active === "pending") return "PENDING";
    return now < this.ejectedUntil ? "EJECTED" : "UP";
  }
}

/** An upstream server shared by every generation that uses it. */
export class UpstreamServer {
  /** `service|url|transport` identity in the pool. */
  readonly key: string;
  /** Qualified service name. */
  readonly service: string;
  readonly url: URL;
  /** The URL as configured (used in cookies and rawdata). */
  readonly rawUrl: string;
  readonly transport: Transport;
  readonly health = new ServerHealth();
  /** Requests whose response has not finished (counted by the drain middleware). */
  inFlight = 0;
  /** Set when the server left rotation: no new requests. */
  draining = false;
  /** When draining started (ms since epoch). */
  drainingSince = 0;
  readonly #controller = new AbortController();
  /** Per-request controllers of requests still running, cut by {@linkcode dispose}. */
  readonly #running = new Set<AbortController>();
  #client: Deno.HttpClient | undefined;
  #onIdle: (() => void) | undefined;

  constructor(service: string, rawUrl: string, transport: Transport) {
    this.service = service;
    this.rawUrl = rawUrl;
    this.url = new URL(rawUrl);
    this.transport = transport;
    this.key = `${service}|${rawUrl}|${transport.key}`;
  }

  /** Aborted when the server is forgotten: requests still running are cut. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /**
   * Registers one request's controller, to be aborted if the server is
   * forgotten before the returned function is called (when the response has
   * been delivered). Cheaper per request than `AbortSignal.any` with
   * {@linkcode signal}, which keeps weak references for every request.
   */
  track(controller: AbortController): () => void {
    if (this.#controller.signal.aborted) {
      controller.abort(this.#controller.signal.reason);
      return () => {};
    }
    this.#running.add(controller);
    return () => this.#running.delete(controller);
  }

  /** The keep-alive connection pool to this server (created on first use). */
  get client(): Deno.HttpClient {
    return this.#client ??= Deno.createHttpClient(this.transport.clientOptions);
  }

  /** Counts a request in; returns the function that counts it out (idempotent). */
  begin(): () => void {
    this.inFlight++;
    let done = false;
    return () => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (this.inFlight === 0 && this.#onIdle) this.#onIdle();
    };
  }

  /** Called by the pool: run `fn` once in-flight reaches zero. */
  whenIdle(fn: (() => void) | undefined): void {
    this.#onIdle = fn;
    if (fn && this.inFlight === 0) fn();
  }

  /** Closes idle pooled connections (in-flight requests keep theirs). */
  closeIdleConnections(): void {
    this.#client?.close();
    this.#client = undefined;
  }

  /** Forgets the server: cuts requests still running and closes its pool. */
  dispose(): void {
    this.#controller.abort(new Error(`server ${this.rawUrl} left rotation`));
    for (const running of this.#running) running.abort(this.#controller.signal.reason);
    this.#running.clear();
    this.closeIdleConnections();
  }
}
