/**
 * Pacer's Marathon REST client: the endpoint list with failover, auth, TLS,
 * timeouts, `GET /v2/apps` and the `/v2/events` connection.
 *
 * Endpoints (go-marathon's `newCluster`, as Traefik v2 uses it):
 * - `endpoint` is a comma-separated list; the first URL must have a scheme,
 *   later ones may omit it and inherit the first one's;
 * - with a DC/OS token, a URL without a path gets `/marathon`;
 * - the member that answered last is preferred; a member that fails
 *   (connection error, timeout or 5xx) is marked down, the next one is tried
 *   at once, and the down member is re-probed with `GET /ping` every few
 *   seconds until it answers. When every member is down, each is still tried
 *   (down ones last), so a call never fails only because of stale marks.
 *
 * Requests follow redirects **by hand** (`redirect: "manual"`, at most 3
 * hops) and re-send the credentials to the new location: a Marathon 1.7+
 * standby answers `/v2/events` with 302 to the leader, and fetch would drop
 * `Authorization` on a cross-origin redirect. A redirect from https to http
 * is refused (it would send the credentials in clear).
 *
 * Timeouts: fetch has no separate dial phase, so
 * - every request must get its response headers within
 *   `responseHeaderTimeout` (connection, TLS handshake and headers together),
 *   and a `/v2/apps` body must then arrive within another
 *   `responseHeaderTimeout`;
 * - `GET /ping` probes of down members use `dialerTimeout` for the whole
 *   request (a ping answers at once, so the time is the connection's);
 * - `tlsHandshakeTimeout` and `keepAlive` cannot be set on Deno's client and
 *   are not enforced separately.
 *
 * @module
 */
import type { Logger } from "../../log/logger.ts";
import type { MarathonOptions } from "./options.ts";

/** The one call that returns the whole state (TRAEFIK_PROVIDER.md §3). */
export const APPS_PATH = "/v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness";

/** Default interval between `/ping` probes of a member marked down (go-marathon: 5 s). */
export const MEMBER_RECHECK_MS = 5_000;

const MAX_REDIRECTS = 3;
const DCOS_PATH = "/marathon";

/** Why a request to Marathon failed. */
export type MarathonFailureKind =
  /** Connection refused or reset, DNS failure, TLS failure. */
  | "unreachable"
  /** No response headers (or body) in time. */
  | "timeout"
  /** An HTTP status that is not a success (5xx, 404, 405, ...). */
  | "status"
  /** 401 or 403: wrong or missing credentials. */
  | "unauthorized"
  /** 200 whose body is not the expected JSON. */
  | "malformed"
  /** Too many redirects, or one Pacer refuses to follow. */
  | "redirect";

/** A failed request to Marathon (never a bug: the provider logs it and retries). */
export class MarathonRequestError extends Error {
  /** What kind of failure. */
  readonly kind: MarathonFailureKind;
  /** The HTTP status, for `status` and `unauthorized`. */
  readonly status: number | undefined;
  /**
   * Identifies the failure state for "log once per change": the same kind
   * and status on every member gives the same key, whatever the details.
   */
  readonly key: string;

  constructor(
    kind: MarathonFailureKind,
    message: string,
    options: { status?: number; key?: string; cause?: unknown } = {},
  ) {
    super(message, options.cause !== undefined ? { cause: options.cause } : undefined);
    this.name = "MarathonRequestError";
    this.kind = kind;
    this.status = options.status;
    this.key = options.key ?? (options.status !== undefined ? `${kind}:${options.status}` : kind);
  }
}

/** One Marathon member. */
export interface MarathonMember {
  /** Base URL without a trailing slash (`https://master.mesos/marathon`). */
  readonly url: string;
  /** `Authorization` from the URL's user info, when it has one. */
  readonly userAuth?: string;
}

function utf8Base64(text: string): string {
  let binary = "";
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/**
 * Parses `providers.marathon.endpoint` (go-marathon's rules, see the module
 * documentation). Spaces around each URL are ignored.
 *
 * @param endpoint Comma-separated URLs.
 * @param options `dcos`: a DC/OS token is set (a URL without a path gets `/marathon`).
 * @returns The members, in the order given.
 * @throws {TypeError} If a URL is empty, the first has no scheme, or a URL has no host.
 */
export function parseEndpoints(
  endpoint: string,
  options: { readonly dcos?: boolean } = {},
): MarathonMember[] {
  const members: MarathonMember[] = [];
  let scheme = "";
  const fail = (message: string) =>
    new TypeError(
      `Cannot use providers.marathon.endpoint ${JSON.stringify(endpoint)}: ${message}`,
    );
  for (const [index, part] of endpoint.split(",").entries()) {
    let text = part.trim();
    if (text === "") throw fail(`URL number ${index + 1} is empty`);
    const match = /^(https?):\/\//i.exec(text);
    if (!match) {
      if (scheme === "") {
        throw fail(`the first URL must start with http:// or https:// (got "${text}")`);
      }
      if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
        throw fail(`"${text}" must use http or https`);
      }
      text = `${scheme}://${text}`;
    }
    let url: URL;
    try {
      url = new URL(text);
    } catch (error) {
      throw fail(`"${text}" is not a URL (${(error as Error).message})`);
    }
    if (url.hostname === "") throw fail(`"${text}" has no host`);
    if (scheme === "") scheme = url.protocol.slice(0, -1);
    let path = url.pathname.replace(/\/+$/, "");
    if (options.dcos && path === "") path = DCOS_PATH;
    let userAuth: string | undefined;
    if (url.username !== "" || url.password !== "") {
      // Go's client turns user info into basic auth; fetch refuses such URLs.
      userAuth = `Basic ${
        utf8Base64(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)
      }`;
    }
    members.push({ url: `${url.protocol}//${url.host}${path}`, ...(userAuth ? { userAuth } : {}) });
  }
  return members;
}

/**
 * The `Authorization` header Pacer sends to Marathon, or `undefined`.
 *
 * - `dcosToken` set: `token=<dcosToken>` (DC/OS ACS token; not `Bearer`);
 * - otherwise basic auth, only when **both** user and password are
 *   non-empty (go-marathon);
 * - both set: the token wins (Traefik would send two `Authorization`
 *   headers; the provider warns at start-up).
 */
export function authorizationFor(
  options: Pick<MarathonOptions, "basic" | "dcosToken">,
): string | undefined {
  if (options.dcosToken) return `token=${options.dcosToken}`;
  const user = options.basic?.httpBasicAuthUser;
  const password = options.basic?.httpBasicPassword;
  if (user && password) return `Basic ${utf8Base64(`${user}:${password}`)}`;
  return undefined;
}

/** PEM material for Deno's HTTP client. */
export interface TlsMaterial {
  /** Extra CA certificates (PEM). */
  readonly caCerts?: string[];
  /** Client certificate chain (PEM), with `key`. */
  readonly cert?: string;
  /** Client private key (PEM), with `cert`. */
  readonly key?: string;
}

/**
 * Reads `providers.marathon.tls`: each of `ca`, `cert`, `key` is PEM text or
 * the path of a PEM file (Traefik accepts both).
 *
 * @returns The material (undefined without TLS options) and warnings for
 *   options Deno cannot honour.
 * @throws {TypeError} If a file cannot be read or is not PEM.
 */
export function readTlsMaterial(
  tls: MarathonOptions["tls"],
  readFile: (path: string) => string = Deno.readTextFileSync,
): { material: TlsMaterial | undefined; warnings: string[] } {
  const warnings: string[] = [];
  if (!tls) return { material: undefined, warnings };
  const pem = (value: string, what: string): string => {
    if (value.includes("-----BEGIN")) return value;
    let text: string;
    try {
      text = readFile(value);
    } catch (error) {
      throw new TypeError(
        `Cannot use providers.marathon.tls.${what}: cannot read ${JSON.stringify(value)} (${
          (error as Error).message
        })`,
        { cause: error },
      );
    }
    if (!text.includes("-----BEGIN")) {
      throw new TypeError(
        `Cannot use providers.marathon.tls.${what}: ${JSON.stringify(value)} is not a PEM file`,
      );
    }
    return text;
  };
  if (tls.insecureSkipVerify) {
    warnings.push(
      "providers.marathon.tls.insecureSkipVerify is not supported: Deno cannot turn certificate " +
        "verification off for one HTTP client, so Marathon's certificate is still verified. " +
        "Give Marathon's CA in providers.marathon.tls.ca, or start Pacer with " +
        "--unsafely-ignore-certificate-errors=<marathon host> (affects the whole process).",
    );
  }
  if (tls.caOptional !== undefined) {
    warnings.push(
      "providers.marathon.tls.caOptional is ignored: it only applies to TLS servers (deprecated in Traefik)",
    );
  }
  const material: { caCerts?: string[]; cert?: string; key?: string } = {};
  if (tls.ca) material.caCerts = [pem(tls.ca, "ca")];
  if (tls.cert && tls.key) {
    material.cert = pem(tls.cert, "cert");
    material.key = pem(tls.key, "key");
  }
  return { material, warnings };
}

/** Options of {@linkcode MarathonClient}. */
export interface MarathonClientOptions {
  /** `providers.marathon` options (endpoint, auth, timeouts, trace). */
  readonly options: Pick<
    MarathonOptions,
    "endpoint" | "basic" | "dcosToken" | "dialerTimeout" | "responseHeaderTimeout" | "trace"
  >;
  /** From {@linkcode readTlsMaterial}. */
  readonly tls?: TlsMaterial | undefined;
  readonly log: Logger;
  /** Test seam. @default {globalThis.fetch} */
  readonly fetch?: typeof fetch;
  /** Interval between `/ping` probes of a down member (ms). @default {MEMBER_RECHECK_MS} */
  readonly memberRecheckMs?: number;
}

/** A response being read; `abort()` ends the request (and its body). */
export interface MarathonExchange {
  readonly response: Response;
  /** The URL that answered (after redirects). */
  readonly url: string;
  /** The member the request went to. */
  readonly member: string;
  /** Aborts the request, closing its body. */
  abort(): void;
}

interface MemberState extends MarathonMember {
  up: boolean;
  probe: ReturnType<typeof setTimeout> | undefined;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Marathon's error text in a few words: JSON `message`, Jetty's `<pre>` reason, or the text. */
export function errorDetail(text: string): string {
  const trimmed = text.trim();
  if (trimmed === "") return "";
  try {
    const json = JSON.parse(trimmed);
    if (typeof json?.message === "string") return json.message;
  } catch {
    // Not JSON.
  }
  const pre = /<pre>([\s\S]*?)<\/pre>/i.exec(trimmed);
  const plain = (pre ? pre[1]! : trimmed.replace(/<[^>]*>/g, " ")).replace(/\s+/g, " ").trim();
  return plain.length > 200 ? `${plain.slice(0, 200)}…` : plain;
}

/**
 * A client for one Marathon cluster. Create it when the provider starts and
 * {@linkcode close} it when it stops (it owns an HTTP client and probe timers).
 */
export class MarathonClient {
  readonly #members: MemberState[];
  readonly #auth: string | undefined;
  readonly #log: Logger;
  readonly #fetch: typeof fetch;
  readonly #client: Deno.HttpClient;
  readonly #headerTimeoutMs: number;
  readonly #dialTimeoutMs: number;
  readonly #recheckMs: number;
  readonly #trace: boolean;
  readonly #life = new AbortController();
  readonly #probes = new Set<Promise<void>>();
  #preferred: MemberState;

  /**
   * @throws {TypeError} If the endpoint list is invalid.
   */
  constructor(options: MarathonClientOptions) {
    const o = options.options;
    this.#members = parseEndpoints(o.endpoint, { dcos: Boolean(o.dcosToken) }).map((m) => ({
      ...m,
      up: true,
      probe: undefined,
    }));
    this.#preferred = this.#members[0]!;
    this.#auth = authorizationFor(o);
    this.#log = options.log;
    this.#fetch = options.fetch ?? fetch;
    this.#headerTimeoutMs = o.responseHeaderTimeout;
    this.#dialTimeoutMs = o.dialerTimeout;
    this.#recheckMs = options.memberRecheckMs ?? MEMBER_RECHECK_MS;
    this.#trace = o.trace;
    const tls = options.tls;
    this.#client = Deno.createHttpClient({
      ...(tls?.caCerts ? { caCerts: tls.caCerts } : {}),
      ...(tls?.cert && tls.key ? { cert: tls.cert, key: tls.key } : {}),
    });
  }

  /** Member base URLs, in configuration order. */
  get members(): string[] {
    return this.#members.map((m) => m.url);
  }

  /** Members currently marked down. */
  get downMembers(): string[] {
    return this.#members.filter((m) => !m.up).map((m) => m.url);
  }

  /** The member tried first (the last one that answered). */
  get preferred(): string {
    return this.#preferred.url;
  }

  /**
   * `GET /v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness`.
   *
   * @returns The raw `apps` array (elements are checked by the builder, one app at a time).
   * @throws {MarathonRequestError} If no member answers with a JSON object holding an `apps` array.
   */
  async fetchApps(signal: AbortSignal): Promise<unknown[]> {
    const exchange = await this.#call(APPS_PATH, "application/json", signal);
    const { response } = exchange;
    if (!response.ok) throw await this.#statusError(exchange, "GET /v2/apps");
    let text: string;
    const timer = setTimeout(() => exchange.abort(), this.#headerTimeoutMs);
    try {
      text = await response.text();
    } catch (error) {
      if (signal.aborted) throw error;
      throw new MarathonRequestError(
        "timeout",
        `Marathon's answer to GET /v2/apps from ${exchange.member} did not complete within ${this.#headerTimeoutMs} ms (${
          (error as Error).message
        })`,
        { cause: error },
      );
    } finally {
      clearTimeout(timer);
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (error) {
      throw new MarathonRequestError(
        "malformed",
        `Marathon's answer to GET /v2/apps from ${exchange.member} is not valid JSON (${
          (error as Error).message
        }; ${text.length} bytes)`,
      );
    }
    const apps = typeof json === "object" && json !== null && !Array.isArray(json)
      ? (json as Record<string, unknown>).apps
      : undefined;
    if (!Array.isArray(apps)) {
      throw new MarathonRequestError(
        "malformed",
        `Marathon's answer to GET /v2/apps from ${exchange.member} is not an object with an 'apps' array`,
      );
    }
    return apps;
  }

  /**
   * Opens `GET /v2/events` (`Accept: text/event-stream`, exactly: Marathon
   * answers 405 otherwise), following a standby's 302 to the leader.
   *
   * @param eventTypes Sent as `event_type` filters (Marathon 1.3.7+; older ones send everything).
   * @returns The 200 exchange; read `response.body`, call `abort()` to close it.
   * @throws {MarathonRequestError} If no member opens a stream.
   */
  async openEvents(
    eventTypes: readonly string[],
    signal: AbortSignal,
  ): Promise<MarathonExchange> {
    const query = [
      ...eventTypes.map((t) => `event_type=${encodeURIComponent(t)}`),
      "plan-format=light",
    ].join("&");
    const exchange = await this.#call(`/v2/events?${query}`, "text/event-stream", signal);
    if (exchange.response.status !== 200 || !exchange.response.body) {
      throw await this.#statusError(exchange, "GET /v2/events");
    }
    return exchange;
  }

  /** Stops probing members, aborts probes and closes the HTTP client. */
  async close(): Promise<void> {
    this.#life.abort();
    for (const m of this.#members) {
      clearTimeout(m.probe);
      m.probe = undefined;
    }
    await Promise.all(this.#probes);
    this.#client.close();
  }

  async #statusError(exchange: MarathonExchange, what: string): Promise<MarathonRequestError> {
    const { response } = exchange;
    let detail = "";
    // A body that never ends must not hold the provider: the status is enough.
    const timer = setTimeout(() => exchange.abort(), Math.min(this.#headerTimeoutMs, 5_000));
    try {
      detail = errorDetail(await readLimited(response, 16_384));
    } catch {
      // The status is enough.
    } finally {
      clearTimeout(timer);
      exchange.abort();
    }
    const suffix = detail ? `: ${detail}` : "";
    if (response.status === 401 || response.status === 403) {
      const challenge = response.headers.get("www-authenticate");
      return new MarathonRequestError(
        "unauthorized",
        `Marathon refused ${what} with HTTP ${response.status}${suffix}${
          challenge ? ` (WWW-Authenticate: ${challenge})` : ""
        }; check providers.marathon.basic or providers.marathon.dcosToken`,
        { status: response.status },
      );
    }
    if (REDIRECTS.has(response.status)) {
      return new MarathonRequestError(
        "redirect",
        `${what} at ${exchange.url} redirected with HTTP ${response.status} but no Location`,
        { status: response.status },
      );
    }
    return new MarathonRequestError(
      "status",
      `Marathon answered ${what} at ${exchange.url} with HTTP ${response.status}${suffix}`,
      { status: response.status },
    );
  }

  /** Members in the order to try: the preferred one, the other up ones, then the down ones. */
  #order(): MemberState[] {
    const up = this.#members.filter((m) => m.up && m !== this.#preferred);
    const down = this.#members.filter((m) => !m.up && m !== this.#preferred);
    return this.#preferred.up
      ? [this.#preferred, ...up, ...down]
      : [...up, this.#preferred, ...down];
  }

  /** One request, failed over across members on connection errors, timeouts and 5xx. */
  async #call(path: string, accept: string, signal: AbortSignal): Promise<MarathonExchange> {
    const failures: [string, MarathonRequestError][] = [];
    for (const member of this.#order()) {
      if (signal.aborted) throw signal.reason;
      let exchange: MarathonExchange;
      try {
        exchange = await this.#exchange(member, path, accept, signal, this.#headerTimeoutMs);
      } catch (error) {
        if (!(error instanceof MarathonRequestError) || error.kind === "redirect") throw error;
        this.#markDown(member, error);
        failures.push([member.url, error]);
        continue;
      }
      if (exchange.response.status >= 500) {
        const error = await this.#statusError(exchange, `GET ${path.split("?")[0]}`);
        this.#markDown(member, error);
        failures.push([member.url, error]);
        continue;
      }
      this.#markUp(member);
      this.#preferred = member;
      return exchange;
    }
    if (failures.length === 1) throw failures[0]![1];
    const keys = [...new Set(failures.map(([, e]) => e.key))].sort();
    const first = failures[0]![1];
    throw new MarathonRequestError(
      keys.length === 1 ? first.kind : "unreachable",
      `every Marathon member failed: ${
        failures.map(([url, e]) => `${url}: ${e.message}`).join("; ")
      }`,
      {
        key: keys.join(","),
        ...(keys.length === 1 && first.status !== undefined ? { status: first.status } : {}),
      },
    );
  }

  /** One request to one member, redirects followed by hand with the same headers. */
  async #exchange(
    member: MemberState,
    path: string,
    accept: string,
    signal: AbortSignal,
    timeoutMs: number,
  ): Promise<MarathonExchange> {
    const headers = new Headers({ Accept: accept });
    const auth = this.#auth ?? member.userAuth;
    if (auth) headers.set("Authorization", auth);
    let url = member.url + path;
    for (let hop = 0;; hop++) {
      const started = performance.now();
      const abort = new AbortController();
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        abort.abort(new DOMException("response header timeout", "TimeoutError"));
      }, timeoutMs);
      let response: Response;
      try {
        response = await this.#fetch(url, {
          headers,
          redirect: "manual",
          signal: AbortSignal.any([signal, abort.signal]),
          client: this.#client,
        });
      } catch (error) {
        if (signal.aborted) throw signal.reason ?? error;
        if (timedOut) {
          throw new MarathonRequestError(
            "timeout",
            `no response headers from ${url} within ${timeoutMs} ms`,
            { cause: error },
          );
        }
        throw new MarathonRequestError("unreachable", `cannot reach ${url}: ${describe(error)}`, {
          cause: error,
        });
      } finally {
        clearTimeout(timer);
      }
      if (this.#trace) {
        this.#log.debug("Marathon request", {
          url,
          status: response.status,
          ms: Math.round(performance.now() - started),
        });
      }
      const location = response.headers.get("location");
      if (!REDIRECTS.has(response.status) || location === null) {
        return { response, url, member: member.url, abort: () => abort.abort() };
      }
      await response.body?.cancel();
      if (hop + 1 >= MAX_REDIRECTS) {
        throw new MarathonRequestError(
          "redirect",
          `more than ${MAX_REDIRECTS} redirects from ${member.url + path}`,
        );
      }
      const next = new URL(location, url);
      if (next.protocol !== "http:" && next.protocol !== "https:") {
        throw new MarathonRequestError("redirect", `${url} redirected to ${next.href}`);
      }
      if (new URL(url).protocol === "https:" && next.protocol === "http:") {
        throw new MarathonRequestError(
          "redirect",
          `${url} redirected to ${next.href}: Pacer does not follow https to http (it would send the credentials in clear)`,
        );
      }
      url = next.href;
    }
  }

  #markDown(member: MemberState, error: MarathonRequestError): void {
    if (member.up) {
      member.up = false;
      const fields = {
        member: member.url,
        error: error.message,
        reprobeEveryMs: this.#recheckMs,
      };
      // With one member the provider's own failure log says it all.
      if (this.#members.length > 1) {
        this.#log.warn(
          "Marathon member is down; using the others and probing it with /ping",
          fields,
        );
      } else this.#log.debug("Marathon member is down; probing it with /ping", fields);
    }
    this.#scheduleProbe(member);
  }

  #markUp(member: MemberState): void {
    clearTimeout(member.probe);
    member.probe = undefined;
    if (member.up) return;
    member.up = true;
    if (this.#members.length > 1) {
      this.#log.info("Marathon member is up again", { member: member.url });
    } else this.#log.debug("Marathon member is up again", { member: member.url });
  }

  #scheduleProbe(member: MemberState): void {
    if (member.probe !== undefined || this.#life.signal.aborted) return;
    member.probe = setTimeout(() => {
      member.probe = undefined;
      const probe = this.#probe(member);
      this.#probes.add(probe);
      probe.finally(() => this.#probes.delete(probe));
    }, this.#recheckMs);
  }

  async #probe(member: MemberState): Promise<void> {
    if (member.up || this.#life.signal.aborted) return;
    try {
      const exchange = await this.#exchange(
        member,
        "/ping",
        "text/plain",
        this.#life.signal,
        this.#dialTimeoutMs,
      );
      await exchange.response.body?.cancel();
      if (exchange.response.ok) {
        this.#markUp(member);
        return;
      }
    } catch {
      // Still down.
    }
    if (!member.up) this.#scheduleProbe(member);
  }
}

/** An error's message with its causes (`fetch failed: invalid peer certificate: UnknownIssuer`). */
function describe(error: unknown): string {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 4; depth++) {
    const message = e instanceof Error ? e.message : String(e);
    if (message && !parts.includes(message)) parts.push(message);
    e = e instanceof Error ? e.cause : undefined;
  }
  return parts.join(": ") || "unknown error";
}

/** Reads at most `limit` bytes of a body as text, then cancels the rest. */
async function readLimited(response: Response, limit: number): Promise<string> {
  if (!response.body) return "";
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    while (text.length < limit) {
      const { done, value } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
  return text;
}
