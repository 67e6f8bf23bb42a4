/**
 * Services: what a router forwards to. A {@linkcode LoadBalancerService}
 * picks one of its servers by smooth weighted round robin (nginx's
 * algorithm: even spread, no bursts) or by sticky cookie; a
 * {@linkcode WeightedService} splits between services (canaries); a
 * {@linkcode FailoverService} uses its fallback when the main service has no
 * server that can take the request.
 *
 * Which servers may be picked depends on the chain in front: the
 * health-gate, drain and retry middlewares hand their policies over as
 * context variables (`service/context.ts`).
 *
 * @module
 */
import type { Context } from "hono";
import "./context.ts";
import type { LoadBalancerConfig, PassiveHealthCheckConfig } from "../config/dynamic.ts";
import type { UpstreamServer } from "./server.ts";
import {
  type ClientFacts,
  failureOf,
  failureResponse,
  forward,
  type ForwardOptions,
  type UpstreamFailure,
} from "./forward.ts";
import { type Logger, silentLogger } from "../log/logger.ts";
import {
  defaultCookieName,
  readCookie,
  setCookieHeader,
  type StickyCookie,
  stickyValue,
} from "./sticky.ts";
import type { PacerEnv } from "../server/env.ts";
import { editableResponse } from "../util/editable_response.ts";

/** Anything a router can forward to. */
export interface ServiceNode {
  /** Qualified name. */
  readonly name: string;
  /** Serves a request: picks a server (or child service) and forwards. */
  handle(c: Context): Promise<Response>;
  /** Whether a request could be served now under the request's policies. */
  available(c: Context, now: number): boolean;
  /** Every server reachable through this service. */
  servers(): readonly UpstreamServer[];
}

/** Passive health used when a service configures none: eject on connection failure. */
export const DEFAULT_PASSIVE: PassiveHealthCheckConfig = {
  failureWindow: 10_000,
  maxFailedAttempts: 1,
  maxEjectionTime: 300_000,
  on5xx: false,
};

const clientFactsFallback: ClientFacts = { ip: "", tls: false, trusted: false };

function clientFacts(c: Context): ClientFacts {
  const facts = c.get("client");
  if (facts) return facts;
  const env = c.env as Partial<PacerEnv> | undefined;
  return env?.remoteAddr
    ? { ip: env.remoteAddr.hostname, tls: env.tls ?? false, trusted: false }
    : clientFactsFallback;
}

/** Releases an in-flight count when the response has been delivered. */
function releaseWhenDelivered(c: Context, response: Response, release: () => void): Response {
  const env = c.env as Partial<PacerEnv> | undefined;
  if (env?.completed) {
    env.completed.then(release, release);
    return response;
  }
  if (!response.body) {
    release();
    return response;
  }
  // No delivery signal (in-process calls): release when the body ends.
  const reader = response.body.getReader();
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          release();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error) {
        release();
        controller.error(error);
      }
    },
    cancel(reason) {
      release();
      return reader.cancel(reason);
    },
  });
  return new Response(body, response);
}

/** A load balancer over servers (Traefik's `loadBalancer` service). */
export class LoadBalancerService implements ServiceNode {
  readonly name: string;
  readonly config: LoadBalancerConfig;
  readonly #servers: UpstreamServer[];
  readonly #weights: number[];
  readonly #current: number[];
  readonly #forward: ForwardOptions;
  /** Forward options per server (`preservePath` differs per server). */
  readonly #forwardFor: ForwardOptions[];
  readonly #passive: PassiveHealthCheckConfig;
  readonly #sticky: StickyCookie | undefined;
  readonly #cookieName: string;
  readonly #cookieValues: string[];
  /** Interval after which a down server is checked again, for Retry-After. */
  readonly #recheckMs: number;
  readonly #log: Logger;

  constructor(
    name: string,
    servers: readonly { server: UpstreamServer; weight: number }[],
    config: LoadBalancerConfig,
    options: { serverName: string; log?: Logger },
  ) {
    this.name = name;
    this.#log = options.log ?? silentLogger;
    this.config = config;
    this.#servers = servers.map((s) => s.server);
    this.#weights = servers.map((s) => s.weight);
    this.#current = servers.map(() => 0);
    this.#forward = {
      passHostHeader: config.passHostHeader,
      serverName: options.serverName,
    };
    this.#forwardFor = servers.map((s) => {
      const preservePath = config.servers.find((c) => c.url === s.server.rawUrl)?.preservePath;
      return preservePath ? { ...this.#forward, preservePath } : this.#forward;
    });
    this.#passive = config.passiveHealthCheck ?? DEFAULT_PASSIVE;
    this.#sticky = config.sticky?.cookie;
    this.#cookieName = this.#sticky?.name || defaultCookieName(name);
    this.#cookieValues = this.#sticky ? this.#servers.map((s) => stickyValue(s.rawUrl)) : [];
    this.#recheckMs = config.healthCheck
      ? (config.healthCheck.unhealthyInterval ?? config.healthCheck.interval)
      : this.#passive.failureWindow;
  }

  servers(): readonly UpstreamServer[] {
    return this.#servers;
  }

  available(c: Context, now: number): boolean {
    const gate = c.get("healthGate");
    const drain = c.get("drain");
    for (let i = 0; i < this.#servers.length; i++) {
      const s = this.#servers[i]!;
      if (this.#weights[i] === 0) continue;
      if (drain && !drain.admit(s)) continue;
      if (gate && !gate.admit(s, now)) continue;
      return true;
    }
    return false;
  }

  async handle(c: Context): Promise<Response> {
    const now = Date.now();
    const picked = this.pick(c, now);
    if (typeof picked === "string") return this.#noServer(picked, now);
    const { index, server, setCookie } = picked;
    c.set("upstream", server);
    c.get("retryAttempt")?.tried.add(server);
    const record = c.get("accessLog");
    if (record) {
      record.service = this.name;
      record.server = server;
    }
    const drain = c.get("drain");
    const release = drain?.begin(server);
    let response = await forward(c.req.raw, server, clientFacts(c), this.#forwardFor[index]!, {
      upgradeFrom: c.get("upgradeRequest"),
      delivered: (c.env as Partial<PacerEnv> | undefined)?.completed,
    });
    const failure = failureOf(response);
    if (failure) this.#logFailure(c, failure, response.status);
    const gate = c.get("healthGate");
    if (gate) {
      const now = Date.now();
      gate.observe(server, response, this.#passive, now, () => this.#othersRoutable(server, now));
    }
    if (setCookie) {
      response = editableResponse(response);
      response.headers.append("set-cookie", setCookie);
    }
    if (release) response = releaseWhenDelivered(c, response, release);
    return response;
  }

  /**
   * Logs why Pacer answered instead of the server: a warning when the server
   * failed, debug when the client did (it left, or was too slow to send).
   */
  #logFailure(c: Context, failure: UpstreamFailure, status: number): void {
    const clientSide = failure.kind === "client-gone" || failure.kind === "client-timeout";
    if (clientSide && !this.#log.enabled("debug")) return;
    const fields = {
      router: c.get("router"),
      service: this.name,
      server: failure.server?.rawUrl,
      kind: failure.kind,
      status,
      method: c.req.method,
      path: c.req.path,
      attempt: c.get("retryAttempt")?.attempt,
      error: failure.error,
    };
    if (clientSide) {
      this.#log.debug("Request ended by the client before the upstream answered", fields);
    } else this.#log.warn("Upstream request failed", fields);
  }

  /** Whether a server other than `server` could take requests (passive health may eject it). */
  #othersRoutable(server: UpstreamServer, now: number): boolean {
    for (let i = 0; i < this.#servers.length; i++) {
      const s = this.#servers[i]!;
      if (s !== server && this.#weights[i]! > 0 && !s.draining && s.health.routable(now)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Picks a server, or returns why none can be picked. Exported behaviour for
   * tests: smooth weighted round robin over admitted servers, preferring
   * servers the retry middleware has not tried yet.
   */
  pick(
    c: Context,
    now: number,
  ): { index: number; server: UpstreamServer; setCookie?: string } | "no-servers" | "none-healthy" {
    const servers = this.#servers;
    if (servers.length === 0) return "no-servers";
    const gate = c.get("healthGate");
    const drain = c.get("drain");
    const tried = c.get("retryAttempt")?.tried;
    // Which servers may be used; panic mode ignores the health gate.
    let ignoreGate = false;
    if (gate && gate.panicThreshold > 0) {
      let total = 0;
      let healthy = 0;
      for (let i = 0; i < servers.length; i++) {
        const s = servers[i]!;
        if (this.#weights[i] === 0 || (drain && !drain.admit(s))) continue;
        total++;
        if (gate.admit(s, now)) healthy++;
      }
      ignoreGate = total > 0 && healthy / total < gate.panicThreshold;
    }
    const admitted = (i: number, pendingToo: boolean): boolean => {
      const s = servers[i]!;
      if (this.#weights[i] === 0) return false;
      if (drain && !drain.admit(s)) return false;
      if (!gate || ignoreGate) return true;
      if (gate.admit(s, now)) return true;
      // Slow start: new servers wait for their first check unless nothing else can serve.
      return pendingToo && s.health.active === "pending" && now >= s.health.ejectedUntil;
    };
    if (this.#sticky) {
      const wanted = readCookie(c.req.raw.headers.get("cookie"), this.#cookieName);
      if (wanted !== undefined) {
        const i = this.#cookieValues.indexOf(wanted);
        const byUrl = i >= 0 ? i : servers.findIndex((s) => s.rawUrl === wanted);
        if (byUrl >= 0 && admitted(byUrl, false) && !tried?.has(servers[byUrl]!)) {
          return { index: byUrl, server: servers[byUrl]! };
        }
      }
    }
    let index = this.#smoothPick((i) => admitted(i, false) && !tried?.has(servers[i]!));
    if (index < 0 && tried) index = this.#smoothPick((i) => admitted(i, false));
    if (index < 0) index = this.#smoothPick((i) => admitted(i, true));
    if (index < 0) return "none-healthy";
    const server = servers[index]!;
    if (!this.#sticky) return { index, server };
    return {
      index,
      server,
      setCookie: setCookieHeader(this.#cookieName, this.#cookieValues[index]!, this.#sticky),
    };
  }

  /** nginx's smooth weighted round robin over the servers `eligible` accepts. */
  #smoothPick(eligible: (i: number) => boolean): number {
    let best = -1;
    let total = 0;
    const current = this.#current;
    for (let i = 0; i < current.length; i++) {
      if (!eligible(i)) continue;
      const w = this.#weights[i]!;
      current[i]! += w;
      total += w;
      if (best < 0 || current[i]! > current[best]!) best = i;
    }
    if (best >= 0) current[best]! -= total;
    return best;
  }

  #noServer(reason: "no-servers" | "none-healthy", now: number): Response {
    if (reason === "no-servers") {
      return failureResponse(503, "Service Unavailable", { kind: "no-server" });
    }
    // When can a client expect a server back? The soonest ejection end, else a recheck.
    let soonest = this.#recheckMs;
    for (const s of this.#servers) {
      if (s.health.ejectedUntil > now) soonest = Math.min(soonest, s.health.ejectedUntil - now);
    }
    const seconds = Math.min(Math.max(Math.ceil(soonest / 1000), 1), 60);
    return failureResponse(503, "Service Unavailable", { kind: "no-server" }, {
      "retry-after": String(seconds),
    });
  }
}

/** Traefik's `weighted` service: a weighted split between services. */
export class WeightedService implements ServiceNode {
  readonly name: string;
  readonly #children: ServiceNode[];
  readonly #weights: number[];
  readonly #current: number[];
  readonly #sticky: StickyCookie | undefined;
  readonly #cookieName: string;
  readonly #cookieValues: string[];
  /** With `healthCheck: {}`, children with no usable server are skipped. */
  readonly #healthAware: boolean;

  constructor(
    name: string,
    children: readonly { service: ServiceNode; weight: number }[],
    options: { sticky?: StickyCookie; healthAware: boolean },
  ) {
    this.name = name;
    this.#children = children.map((c) => c.service);
    this.#weights = children.map((c) => c.weight);
    this.#current = children.map(() => 0);
    this.#sticky = options.sticky;
    this.#cookieName = options.sticky?.name || defaultCookieName(name);
    this.#cookieValues = this.#children.map((c) => stickyValue(c.name));
    this.#healthAware = options.healthAware;
  }

  servers(): readonly UpstreamServer[] {
    return this.#children.flatMap((c) => c.servers());
  }

  available(c: Context, now: number): boolean {
    return this.#children.some((child, i) => this.#weights[i]! > 0 && child.available(c, now));
  }

  handle(c: Context): Promise<Response> {
    const now = Date.now();
    const usable = (i: number) =>
      this.#weights[i]! > 0 && (!this.#healthAware || this.#children[i]!.available(c, now));
    if (this.#sticky) {
      const wanted = readCookie(c.req.raw.headers.get("cookie"), this.#cookieName);
      const i = wanted === undefined ? -1 : this.#cookieValues.indexOf(wanted);
      if (i >= 0 && usable(i)) return this.#children[i]!.handle(c);
    }
    let best = -1;
    let total = 0;
    for (let i = 0; i < this.#children.length; i++) {
      if (!usable(i)) continue;
      this.#current[i]! += this.#weights[i]!;
      total += this.#weights[i]!;
      if (best < 0 || this.#current[i]! > this.#current[best]!) best = i;
    }
    if (best < 0) {
      return Promise.resolve(
        failureResponse(503, "Service Unavailable", { kind: "no-server" }, { "retry-after": "1" }),
      );
    }
    this.#current[best]! -= total;
    const child = this.#children[best]!;
    if (!this.#sticky) return child.handle(c);
    const cookie = setCookieHeader(this.#cookieName, this.#cookieValues[best]!, this.#sticky);
    return child.handle(c).then((res) => {
      const editable = editableResponse(res);
      editable.headers.append("set-cookie", cookie);
      return editable;
    });
  }
}

/** Traefik's `failover` service: the fallback serves while the main one cannot. */
export class FailoverService implements ServiceNode {
  readonly name: string;
  readonly #main: ServiceNode;
  readonly #fallback: ServiceNode;

  constructor(name: string, main: ServiceNode, fallback: ServiceNode) {
    this.name = name;
    this.#main = main;
    this.#fallback = fallback;
  }

  servers(): readonly UpstreamServer[] {
    return [...this.#main.servers(), ...this.#fallback.servers()];
  }

  available(c: Context, now: number): boolean {
    return this.#main.available(c, now) || this.#fallback.available(c, now);
  }

  handle(c: Context): Promise<Response> {
    return this.#main.available(c, Date.now()) ? this.#main.handle(c) : this.#fallback.handle(c);
  }
}
