/**
 * Traefik's access log: one line per request, in Common Log Format or JSON,
 * written once the response has been delivered (so the duration and the size
 * are what the client got).
 *
 * The entrypoint starts an {@linkcode AccessRecord} per request and hands it
 * down the chain as the `accessLog` variable; the router, the load balancer
 * and retry fill in what only they know (router, service, server, retries).
 * When no access log is configured, nothing of this runs.
 *
 * The user name comes from the basicAuth and forwardAuth middlewares
 * ({@linkcode noteClientUsername}).
 *
 * Common Log Format, as Traefik writes it (the protocol is `-`: Deno does
 * not tell a server which HTTP version a request came in):
 *
 * ```text
 * 192.0.2.7 - - [24/Nov/2026:10:00:00 +0000] "GET /api?q=1 -" 200 13 "-" "curl/8.5.0" 1 "api@file" "http://10.0.0.1:8080" 3ms
 * ```
 *
 * @module
 */
import type { Context } from "hono";
import { pathAndQuery } from "../service/forward.ts";
import type { UpstreamServer } from "../service/server.ts";
import { copyHeaders, headerPairs } from "../util/headers.ts";

/** What a field or header is logged as: kept, left out, or `REDACTED`. */
export type FieldMode = "keep" | "drop" | "redact";

/** Options of {@linkcode AccessLog} (the static `accessLog` section). */
export interface AccessLogOptions {
  /** @default {"common"} */
  readonly format?: "common" | "json" | undefined;
  /** Lines kept in memory before they are written (0: each at once). @default {0} */
  readonly bufferingSize?: number | undefined;
  /** Log requests served by `@internal` routers too (api, dashboard, ping). @default {false} */
  readonly addInternals?: boolean | undefined;
  /** Traefik's filters: with any set, only requests that pass one of them are logged. */
  readonly filters?: {
    /** Statuses and ranges: `"404"`, `"500-599"`. */
    readonly statusCodes?: readonly string[] | undefined;
    /** Log requests that were retried. */
    readonly retryAttempts?: boolean | undefined;
    /** Log requests that took longer than this (ms). */
    readonly minDuration?: number | undefined;
  } | undefined;
  /** JSON only: which fields and request headers appear. */
  readonly fields?: {
    readonly defaultMode?: FieldMode | undefined;
    readonly names?: Readonly<Record<string, FieldMode>> | undefined;
    readonly headers?: {
      /** @default {"drop"} */
      readonly defaultMode?: FieldMode | undefined;
      readonly names?: Readonly<Record<string, FieldMode>> | undefined;
    } | undefined;
  } | undefined;
}

/**
 * What the log needs of one request: read when it arrives (a `Deno.serve`
 * request's headers cannot be read once its response is delivered), then
 * filled in by the chain while it is served.
 */
export interface AccessRecord {
  /** `performance.now()` when the request arrived. */
  readonly start: number;
  readonly startTime: Date;
  readonly method: string;
  readonly url: string;
  readonly referer: string | null;
  readonly userAgent: string | null;
  /** The request headers, when the JSON format logs any. */
  readonly headers?: [string, string][];
  router?: string;
  service?: string;
  server?: UpstreamServer;
  /** Attempts after the first. */
  retryAttempts: number;
  /** The user the client named (basicAuth) or the auth server vouched for (forwardAuth). */
  user?: string;
  /** Set for a router with `observability.accessLogs: false`: no line. */
  silent?: boolean;
  /** Body bytes sent to the client (its Content-Length, else counted as it is read). */
  bytes?: number;
  /** Requests received before and including this one (CLF's request count). */
  readonly count: number;
}

/** How a request arrived (what the access log needs of the entrypoint). */
export interface AccessArrival {
  readonly entryPoint: string;
  readonly remoteAddr: { readonly hostname: string; readonly port: number };
  readonly tls: boolean;
}

/**
 * Records the user a request claims or was authenticated as, for the
 * access log (`ClientUsername`, CLF's user field). basicAuth calls it for
 * any user name a client sends, as Traefik and nginx (`$remote_user`) log
 * failed attempts too; the `clientUsername` context variable is set only
 * once a user is authenticated.
 */
export function noteClientUsername(c: Context, user: string): void {
  const record = c.get("accessLog") as AccessRecord | undefined;
  if (record) record.user = user;
}

/** CLF's user field: bare as Traefik writes it, quoted when it would break the line. */
function clfUser(user: string | undefined): string {
  if (!user) return "-";
  return /^[\x21\x23-\x7e]+$/.test(user) ? user : JSON.stringify(user);
}

/** Parses Traefik's status filters (`"404"`, `"500-599"`), or says what is wrong. */
export function parseStatusRanges(values: readonly string[]): [number, number][] | string {
  const ranges: [number, number][] = [];
  for (const value of values) {
    const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(value);
    const from = Number(m?.[1]);
    const to = Number(m?.[2] ?? m?.[1]);
    if (!m || from < 100 || to > 599 || from > to) {
      return `'${value}' is not a status code or range (such as "404" or "500-599")`;
    }
    ranges.push([from, to]);
  }
  return ranges;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

/** `24/Nov/2026:10:00:00 +0000`, in UTC. */
function clfTime(d: Date): string {
  return `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`;
}

/** A quoted CLF value; `"-"` when absent. Quotes and control characters are escaped. */
function quoted(value: string | null | undefined): string {
  if (!value) return '"-"';
  return JSON.stringify(value);
}

function splitHost(host: string): { name: string; port: string } {
  const m = /^(.*?)(?::(\d+))?$/.exec(host)!;
  return { name: m[1]!, port: m[2] ?? "" };
}

/** Writes access log lines. */
export class AccessLog {
  readonly #format: "common" | "json";
  readonly #bufferingSize: number;
  readonly #addInternals: boolean;
  readonly #ranges: readonly [number, number][];
  readonly #retried: boolean;
  readonly #minDuration: number;
  readonly #filtered: boolean;
  readonly #fields: AccessLogOptions["fields"];
  readonly #headerDefault: FieldMode;
  /** By lower-case name. */
  readonly #headerModes: ReadonlyMap<string, FieldMode>;
  readonly #logsHeaders: boolean;
  readonly #write: (text: string) => void;
  readonly #clock: () => Date;
  /** Requests received so far (CLF's request count). */
  #requests = 0;
  #buffer: string[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param write Receives whole lines, each ending in a newline (several at once when buffering).
   * @param clock Wall clock, for tests.
   * @throws {RangeError} for status filters that are not codes or ranges.
   */
  constructor(
    options: AccessLogOptions,
    write: (text: string) => void,
    clock: () => Date = () => new Date(),
  ) {
    this.#format = options.format ?? "common";
    this.#bufferingSize = options.bufferingSize ?? 0;
    this.#addInternals = options.addInternals ?? false;
    const ranges = parseStatusRanges(options.filters?.statusCodes ?? []);
    if (typeof ranges === "string") {
      throw new RangeError(`accessLog.filters.statusCodes: ${ranges}`);
    }
    this.#ranges = ranges;
    this.#retried = options.filters?.retryAttempts ?? false;
    this.#minDuration = options.filters?.minDuration ?? 0;
    this.#filtered = this.#ranges.length > 0 || this.#retried || this.#minDuration > 0;
    this.#fields = options.fields;
    this.#headerDefault = options.fields?.headers?.defaultMode ?? "drop";
    this.#headerModes = new Map(
      Object.entries(options.fields?.headers?.names ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    this.#logsHeaders = this.#format === "json" &&
      (this.#headerDefault !== "drop" || [...this.#headerModes.values()].some((m) => m !== "drop"));
    this.#write = write;
    this.#clock = clock;
  }

  /** Starts the record of a request that just arrived. */
  begin(request: Request): AccessRecord {
    this.#requests++;
    const h = request.headers;
    return {
      start: performance.now(),
      startTime: this.#clock(),
      method: request.method,
      url: request.url,
      referer: h.get("referer"),
      userAgent: h.get("user-agent"),
      ...(this.#logsHeaders ? { headers: headerPairs(h) } : {}),
      retryAttempts: 0,
      count: this.#requests,
    };
  }

  /**
   * Logs a delivered request. Never throws.
   * @param response The response the client got.
   */
  end(record: AccessRecord, response: Response, arrival: AccessArrival): void {
    if (record.silent || (!this.#addInternals && record.router?.endsWith("@internal"))) return;
    const durationMs = performance.now() - record.start;
    if (!this.#keep(response.status, record.retryAttempts, durationMs)) return;
    try {
      const line = this.#format === "json"
        ? this.#json(record, response, arrival, durationMs)
        : this.#common(record, response, arrival, durationMs);
      this.#push(line + "\n");
    } catch {
      // A line that cannot be made is not worth a request.
    }
  }

  /** Writes buffered lines (at shutdown). */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#buffer.length === 0) return;
    const text = this.#buffer.join("");
    this.#buffer = [];
    this.#write(text);
  }

  /** Traefik's `keepAccessLog`: no filters keeps all; otherwise any filter that matches keeps. */
  #keep(status: number, retries: number, durationMs: number): boolean {
    if (!this.#filtered) return true;
    for (const [from, to] of this.#ranges) if (status >= from && status <= to) return true;
    if (this.#retried && retries > 0) return true;
    return this.#minDuration > 0 && durationMs > this.#minDuration;
  }

  #push(line: string): void {
    if (this.#bufferingSize <= 0) {
      this.#write(line);
      return;
    }
    this.#buffer.push(line);
    if (this.#buffer.length >= this.#bufferingSize) this.flush();
    // Lines do not wait for a quiet router to fill the buffer: a second at most.
    else this.#timer ??= setTimeout(() => this.flush(), 1000);
  }

  #common(
    record: AccessRecord,
    response: Response,
    arrival: AccessArrival,
    durationMs: number,
  ): string {
    return `${arrival.remoteAddr.hostname} - ${clfUser(record.user)} ` +
      `[${clfTime(record.startTime)}] ` +
      `"${record.method} ${pathAndQuery(record.url)} -" ${response.status} ` +
      `${record.bytes ?? 0} ${quoted(record.referer)} ` +
      `${quoted(record.userAgent)} ${record.count} ${quoted(record.router)} ` +
      `${quoted(record.server?.rawUrl)} ${Math.round(durationMs)}ms`;
  }

  #json(
    record: AccessRecord,
    response: Response,
    arrival: AccessArrival,
    durationMs: number,
  ): string {
    const url = new URL(record.url);
    const host = splitHost(url.host);
    const server = record.server;
    const all: Record<string, unknown> = {
      ClientAddr: `${arrival.remoteAddr.hostname}:${arrival.remoteAddr.port}`,
      ClientHost: arrival.remoteAddr.hostname,
      ClientPort: String(arrival.remoteAddr.port),
      ClientUsername: record.user || "-",
      DownstreamContentSize: record.bytes ?? 0,
      DownstreamStatus: response.status,
      Duration: Math.round(durationMs * 1e6),
      RequestAddr: url.host,
      RequestCount: record.count,
      RequestHost: host.name,
      RequestMethod: record.method,
      RequestPath: pathAndQuery(record.url),
      RequestPort: host.port || "-",
      RequestProtocol: "-",
      RequestScheme: arrival.tls ? "https" : "http",
      RetryAttempts: record.retryAttempts,
      StartUTC: record.startTime.toISOString(),
      entryPointName: arrival.entryPoint,
      ...(record.router ? { RouterName: record.router } : {}),
      ...(record.service ? { ServiceName: record.service } : {}),
      ...(server ? { ServiceURL: server.rawUrl, ServiceAddr: server.url.host } : {}),
    };
    const fields = this.#fields;
    const out: Record<string, unknown> = {};
    const fieldDefault = fields?.defaultMode ?? "keep";
    for (const [name, value] of Object.entries(all)) {
      const mode = fields?.names?.[name] ?? fieldDefault;
      if (mode === "keep") out[name] = value;
      else if (mode === "redact") out[name] = "REDACTED";
    }
    for (const [name, value] of record.headers ?? []) {
      const mode = this.#headerModes.get(name) ?? this.#headerDefault;
      if (mode === "keep") out[`request_${canonicalHeader(name)}`] = value;
      else if (mode === "redact") out[`request_${canonicalHeader(name)}`] = "REDACTED";
    }
    out.level = "info";
    out.msg = "";
    out.time = this.#clock().toISOString();
    return JSON.stringify(out);
  }
}

/** `user-agent` → `User-Agent`, as Go prints header names (Traefik's `request_User-Agent`). */
function canonicalHeader(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * Sets `record.bytes` from the response's Content-Length, or wraps its body
 * to count the bytes as the client reads them (only when an access log is
 * written).
 */
export function countingBody(response: Response, record: AccessRecord): Response {
  const length = response.headers.get("content-length");
  if (response.body === null || record.method === "HEAD" || length !== null) {
    record.bytes = response.body === null || record.method === "HEAD" ? 0 : Number(length) || 0;
    return response;
  }
  record.bytes = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      record.bytes! += chunk.byteLength;
      controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), {
    status: response.status,
    statusText: response.statusText,
    headers: copyHeaders(response.headers),
  });
}
