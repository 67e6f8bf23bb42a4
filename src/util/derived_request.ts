/**
 * Requests built from another one (a rewrite, a replay with a buffered
 * body) that still show the client going away: their `signal` is the one of
 * the request they came from.
 *
 * Linking a signal to the request from `Deno.serve` subscribes to it, which
 * costs an extra asynchronous operation (see `src/service/client_watch.ts`).
 * A request without a body has not subscribed yet, so its derived request
 * ({@linkcode DerivedRequest}) returns the original's signal from a getter
 * and links nothing up front. A request with a body was already wrapped at
 * the entrypoint by the read deadline (`readTimeout`, 60 s by default),
 * which subscribed; for it, a plain `Request` with `signal: from.signal`
 * measured cheaper than the subclass.
 *
 * One consequence of the lazy link: `fetch(derived)` without an init does
 * not see the client leave; pass `{ signal: derived.signal }` (Pacer's
 * forwarder builds its own signal and never does that).
 *
 * @module
 */
import { headerPairs } from "./headers.ts";

/** A `Request` whose `signal` is the signal of the request it derives from. */
export class DerivedRequest extends Request {
  readonly #from: Request;

  /**
   * @param url The new request's URL.
   * @param init Method, headers, body… (a `signal` in it is shadowed).
   * @param from The request this one replaces.
   */
  constructor(url: string, init: RequestInit, from: Request) {
    super(url, init);
    this.#from = from;
  }

  /** The signal of the request this one derives from. */
  override get signal(): AbortSignal {
    return this.#from.signal;
  }
}

/** What a derived request changes; everything else is taken from the original. */
export interface RequestChange {
  /** The new URL (default: the original's). */
  readonly url?: string | undefined;
  /** The new method (default: the original's). */
  readonly method?: string | undefined;
  /** All headers, as name/value pairs (default: the original's). */
  readonly headers?: readonly [string, string][] | undefined;
  /** The body; `null` for none (default: the original's, streamed on). */
  readonly body?: BodyInit | null;
}

/**
 * A request replacing `from`, with `change` applied; redirect mode and
 * signal follow `from` (the signal lazily when `from` has no body: see
 * above).
 *
 * @param from The request this one replaces.
 * @param change What differs from `from`.
 * @returns The new request.
 * @throws {TypeError} If the result would be a GET or HEAD with a body, or
 *   `from`'s body, carried over, was already read.
 */
export function derivedRequest(from: Request, change: RequestChange = {}): Request {
  const init: RequestInit & { duplex?: "half" } = {
    method: change.method ?? from.method,
    headers: change.headers ? change.headers as [string, string][] : headerPairs(from.headers),
    redirect: from.redirect,
  };
  const body = change.body === undefined ? from.body : change.body;
  if (body !== null) {
    init.body = body;
    init.duplex = "half";
  }
  const url = change.url ?? from.url;
  if (from.body !== null) return new Request(url, { ...init, signal: from.signal });
  return new DerivedRequest(url, init, from);
}
