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
 * the entrypoint (the read deadline), which subscribed; for it, a plain
 * `Request` with `signal: from.signal` measured cheaper than the subclass.
 *
 * One consequence of the lazy link: `fetch(derived)` without an init does
 * not see the client leave; pass `{ signal: derived.signal }` (Pacer's
 * forwarder builds its own signal and never does that).
 *
 * @module
 */

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

/**
 * A request to `url` built with `init`, replacing `from`: its `signal`
 * follows `from`'s, linked lazily when `from` has no body (see above).
 *
 * @param url The new request's URL.
 * @param init Everything but the signal.
 * @param from The request this one replaces.
 * @returns The new request.
 */
export function derivedRequest(url: string, init: RequestInit, from: Request): Request {
  if (from.body !== null) return new Request(url, { ...init, signal: from.signal });
  return new DerivedRequest(url, init, from);
}
