/**
 * An in-memory Marathon behind a fake `fetch`, for provider tests under fake
 * timers: `/v2/apps` answers from `apps` (or a handler that may block or
 * fail), `/v2/events` opens a stream the test writes frames to, `/ping`
 * answers `pong`. Every request is recorded with the (fake) time it was made.
 *
 * @module
 */
import type { ConfigMessage } from "../../../src/provider/provider.ts";

const encoder = new TextEncoder();

/** An open `/v2/events` stream. */
export interface FakeStream {
  /** Writes raw text (frames, keep-alives). */
  push(text: string): void;
  /** Writes one Marathon frame (`eventType` added to the data). */
  event(type: string, data?: Record<string, unknown>): void;
  /** Closes it (the provider sees EOF). */
  end(): void;
  /** Whether the provider closed it. */
  readonly closed: boolean;
}

/** A promise the test resolves by hand. */
export interface Gate<T> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
}

/** Creates a {@linkcode Gate}. */
export function gate<T>(): Gate<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The fake cluster. */
export class FakeMarathon {
  /** What `/v2/apps` lists (when `onList` is unset). */
  apps: unknown[] = [];
  /** Overrides `/v2/apps`; called once per request. */
  onList: (() => Response | Promise<Response>) | undefined;
  /** Overrides `/v2/events` (e.g. a 503); unset opens a stream. */
  onEvents: (() => Response | Promise<Response>) | undefined;
  /** Requests: path, query and `Date.now()` when made. */
  readonly requests: { path: string; search: string; at: number; headers: Headers }[] = [];
  readonly streams: FakeStream[] = [];

  /** `/v2/apps` requests so far. */
  get lists(): number {
    return this.requests.filter((r) => r.path.endsWith("/v2/apps")).length;
  }

  /** `/v2/events` requests so far. */
  get connects(): number {
    return this.requests.filter((r) => r.path.endsWith("/v2/events")).length;
  }

  /** The last stream opened. */
  get stream(): FakeStream {
    const s = this.streams.at(-1);
    if (!s) throw new Error("no event stream was opened");
    return s;
  }

  /** A `{"apps": [...]}` answer of the current `apps`. */
  answer(): Response {
    return Response.json({ apps: this.apps });
  }

  readonly fetch: typeof fetch = (input, init = {}) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    this.requests.push({
      path: url.pathname,
      search: url.search,
      at: Date.now(),
      headers: new Headers(init.headers),
    });
    const signal = init.signal ?? undefined;
    const answer = Promise.resolve().then(async () => {
      if (signal?.aborted) throw signal.reason;
      switch (url.pathname.replace(/^.*?(?=\/v2\/|\/ping$)/, "")) {
        case "/v2/apps":
          return this.onList ? await this.onList() : this.answer();
        case "/v2/events":
          return this.onEvents ? await this.onEvents() : this.#open(signal);
        case "/ping":
          return new Response("pong");
        default:
          return Response.json({ message: "HTTP 404 Not Found" }, { status: 404 });
      }
    });
    if (!signal) return answer;
    // Like a real fetch: an abort rejects a request still waiting for its answer.
    return Promise.race([
      answer,
      new Promise<never>((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      }),
    ]);
  };

  #open(signal: AbortSignal | undefined): Response {
    let controller!: ReadableStreamDefaultController<Uint8Array>;
    let closed = false;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c;
      },
      cancel() {
        closed = true;
      },
    });
    const stream: FakeStream = {
      push: (text) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      },
      event: (type, data = {}) =>
        stream.push(
          `event: ${type}\r\ndata: ${JSON.stringify({ ...data, eventType: type })}\r\n\r\n`,
        ),
      end: () => {
        if (closed) return;
        closed = true;
        controller.close();
      },
      get closed() {
        return closed;
      },
    };
    signal?.addEventListener("abort", () => {
      if (closed) return;
      closed = true;
      controller.error(signal.reason);
    }, { once: true });
    this.streams.push(stream);
    return new Response(body, { headers: { "content-type": "text/event-stream;charset=UTF-8" } });
  }
}

/** Server URLs of an HTTP service in an emitted configuration. */
export function serversOf(message: ConfigMessage | undefined, service: string): string[] {
  const services = message?.config.http?.services as
    | Record<string, { loadBalancer?: { servers?: { url: string }[] } }>
    | undefined;
  return (services?.[service]?.loadBalancer?.servers ?? []).map((s) => s.url);
}

/** Router names of an emitted configuration. */
export function routersOf(message: ConfigMessage | undefined): string[] {
  return Object.keys(message?.config.http?.routers ?? {}).sort();
}
