/**
 * An entrypoint: one `Deno.serve` listener (plain or TLS) feeding the handler
 * switcher, with Traefik's lifecycle: while Pacer stops it keeps serving for
 * `requestAcceptGraceTimeout` (answers carry `Connection: close` so
 * keep-alive clients move on), then stops accepting and lets in-flight
 * requests finish for up to `graceTimeOut`.
 *
 * Deno's server exposes no socket timeouts, so `respondingTimeouts` are
 * applied per request: `writeTimeout` bounds the time to produce and send a
 * response (a hanging middleware gets a 504 or a cut body), `readTimeout`
 * bounds reading the request body (a slower client gets a 408:
 * `read_deadline.ts`). `idleTimeout` cannot be applied: Deno keeps idle keep-alive
 * connections open and exposes none to close (a warning says so at start).
 *
 * @module
 */
import { type AccessLog, type AccessRecord, countingBody } from "../log/access_log.ts";
import type { Logger } from "../log/logger.ts";
import { UPSTREAM_ERROR_HEADER, withoutForwardedHeaders } from "../service/forward.ts";
import { derivedRequest } from "../util/derived_request.ts";
import { editableResponse } from "../util/editable_response.ts";
import {
  deniedEscapes,
  type EncodedCharactersOptions,
  pathEscapeProblem,
} from "./encoded_characters.ts";
import { pathOf } from "./chain.ts";
import type { Arrival } from "./generation.ts";
import { withReadDeadline } from "./read_deadline.ts";
import { sanitizedUrl } from "./sanitize_path.ts";

/** What an entrypoint needs to listen and behave. */
export interface EntryPointOptions {
  readonly name: string;
  readonly hostname: string;
  readonly port: number;
  /** PEM contents (not paths) of the certificate chain and key, for TLS. */
  readonly tls?: { readonly cert: string; readonly key: string };
  /** Whether a peer may set X-Forwarded-* headers. */
  readonly isTrusted: (ip: string) => boolean;
  /** ms; 0 = none. */
  readonly readTimeoutMs?: number;
  /** ms; 0 = none. */
  readonly writeTimeoutMs?: number;
  /** Where delivered requests are logged (none: no access log). */
  readonly accessLog?: AccessLog;
  /** Clean the request path before routing (`http.sanitizePath`, default true). */
  readonly sanitizePath?: boolean;
  /**
   * Reserved escapes the request path may carry (`http.encodedCharacters`;
   * absent: all). A malformed escape is refused either way.
   */
  readonly encodedCharacters?: EncodedCharactersOptions;
}

/** Dispatches a request (the handler switcher). */
export type Dispatch = (request: Request, arrival: Arrival) => Promise<Response>;

const TEXT = { "content-type": "text/plain; charset=utf-8" };

const NONE_DENIED: ReadonlySet<string> = new Set();

/** One listener. */
export class EntryPoint {
  readonly name: string;
  readonly #options: EntryPointOptions;
  readonly #dispatch: Dispatch;
  readonly #log: Logger;
  /** Escapes refused in request paths (upper-case hex). */
  readonly #deniedEscapes: ReadonlySet<string>;
  #server: Deno.HttpServer<Deno.NetAddr> | undefined;
  #stopping = false;
  #inFlight = 0;

  constructor(options: EntryPointOptions, dispatch: Dispatch, log: Logger) {
    this.name = options.name;
    this.#options = options;
    this.#dispatch = dispatch;
    this.#log = log.with({ entryPoint: options.name });
    this.#deniedEscapes = options.encodedCharacters
      ? deniedEscapes(options.encodedCharacters)
      : NONE_DENIED;
  }

  /** The bound address (after {@linkcode listen}). */
  get addr(): Deno.NetAddr {
    if (!this.#server) throw new Error(`entryPoint '${this.name}' is not listening`);
    return this.#server.addr;
  }

  /** Requests being served now. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether the entrypoint is in its shutdown grace period. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /** Marks the start of shutdown: answers now carry `Connection: close`. */
  beginStopping(): void {
    this.#stopping = true;
  }

  /**
   * Starts listening.
   * @throws {Deno.errors.AddrInUse} and permission errors, for the caller to explain.
   */
  listen(): Promise<Deno.NetAddr> {
    const o = this.#options;
    return new Promise((resolve, reject) => {
      try {
        const common = {
          hostname: o.hostname,
          port: o.port,
          onListen: (addr: Deno.NetAddr) => {
            this.#log.info("Entrypoint listening", {
              address: `${addr.hostname}:${addr.port}`,
              tls: o.tls !== undefined,
            });
            resolve(addr);
          },
          onError: (error: unknown) => {
            this.#log.error("Unhandled error while serving a request", { error });
            return new Response("Internal Server Error", { status: 500, headers: TEXT });
          },
        };
        const handler = (request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>) =>
          this.#serve(request, info);
        this.#server = o.tls
          ? Deno.serve({ ...common, cert: o.tls.cert, key: o.tls.key }, handler)
          : Deno.serve(common, handler);
      } catch (error) {
        reject(error);
      }
    });
  }

  #serve(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Promise<Response> {
    const o = this.#options;
    const ip = info.remoteAddr.hostname;
    this.#inFlight++;
    info.completed.finally(() => this.#inFlight--);
    const trusted = o.isTrusted(ip);
    const accessLog = o.accessLog;
    const record = accessLog?.begin(request);
    const arrival: Arrival = {
      entryPoint: this.name,
      remoteAddr: info.remoteAddr,
      tls: o.tls !== undefined,
      trusted,
      completed: info.completed,
      original: request,
      ...(record ? { accessLog: record } : {}),
    };
    if (accessLog && record) return this.#logged(accessLog, record, request, arrival, info);
    return this.#respond(request, arrival);
  }

  /** Serves a request and logs it once the client has its response. */
  async #logged(
    accessLog: AccessLog,
    record: AccessRecord,
    request: Request,
    arrival: Arrival,
    info: Deno.ServeHandlerInfo<Deno.NetAddr>,
  ): Promise<Response> {
    const response = countingBody(await this.#respond(request, arrival), record);
    const log = () => accessLog.end(record, response, arrival);
    info.completed.then(log, log);
    return response;
  }

  async #respond(request: Request, arrival: Arrival): Promise<Response> {
    const o = this.#options;
    // On the path as received, before sanitizing normalizes its escapes (Traefik's order too).
    const problem = pathEscapeProblem(request.url, this.#deniedEscapes);
    if (problem) {
      this.#log.debug("Request refused: escape not allowed in the path", {
        escape: problem.escape,
        reason: problem.kind === "malformed"
          ? "malformed escape"
          : "refused by http.encodedCharacters",
        // Without the query: it may hold what the access log is told to redact.
        path: pathOf(request.url),
      });
      return this.#finish(new Response("Bad Request", { status: 400, headers: TEXT }));
    }
    let incoming = arrival.trusted ? request : withoutForwardedHeaders(request);
    if (o.sanitizePath !== false) {
      const url = sanitizedUrl(incoming.url);
      if (url) incoming = derivedRequest(incoming, { url });
    }
    if (o.readTimeoutMs) {
      incoming = withReadDeadline(incoming, o.readTimeoutMs, arrival.completed);
    }
    if (!o.writeTimeoutMs) return this.#finish(await this.#dispatch(incoming, arrival));
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<Response>((resolve) => {
      timer = setTimeout(() => {
        this.#log.warn("No response within writeTimeout", {
          path: new URL(request.url).pathname,
          timeoutMs: o.writeTimeoutMs,
        });
        resolve(new Response("Gateway Timeout", { status: 504, headers: TEXT }));
      }, o.writeTimeoutMs);
    });
    let response: Response;
    try {
      response = await Promise.race([this.#dispatch(incoming, arrival), deadline]);
    } finally {
      clearTimeout(timer);
    }
    return this.#finish(response);
  }

  #finish(response: Response): Response {
    // Only Pacer's own error answers (4xx/5xx) can carry the marker.
    const internal = response.status >= 400 && response.headers.has(UPSTREAM_ERROR_HEADER);
    if (!internal && !this.#stopping) return response;
    const out = editableResponse(response);
    if (internal) out.headers.delete(UPSTREAM_ERROR_HEADER);
    if (this.#stopping) out.headers.set("connection", "close");
    return out;
  }

  /**
   * Stops accepting connections and waits for in-flight requests, for up to
   * `graceMs`. Then `cut` is called to end what is still running (upstream
   * requests and bodies; `writeTimeout` bounds anything else).
   * @returns Whether every request finished within the grace time.
   */
  async stop(graceMs: number, cut?: () => void): Promise<boolean> {
    this.#stopping = true;
    const server = this.#server;
    if (!server) return true;
    const done = server.shutdown();
    const wait = (ms: number) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), ms);
        done.then(() => {
          clearTimeout(timer);
          resolve(true);
        }, () => {
          clearTimeout(timer);
          resolve(true);
        });
      });
    if (await wait(graceMs)) return true;
    this.#log.warn("Grace timeout reached: cutting requests still in flight", {
      inFlight: this.#inFlight,
    });
    // Aborting Deno.serve after shutdown() breaks Deno (BadResource); end the work instead.
    cut?.();
    if (!await wait(2000)) {
      this.#log.error("Connections still open after cutting in-flight requests", {
        inFlight: this.#inFlight,
      });
    }
    return false;
  }
}
