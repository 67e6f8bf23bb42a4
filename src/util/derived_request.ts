/**
 * Requests built from another one (a rewrite, a replay with a buffered
 * body) whose `signal` is the one they came from, so a client going away
 * still shows on them.
 *
 * The link is made when `signal` is read, not when the request is built:
 * subscribing to the signal of a request from `Deno.serve` costs an extra
 * asynchronous operation (see `src/service/client_watch.ts`), and
 * `signal: from.signal` in the init would pay it on every such request.
 * One consequence: `fetch(derived)` without an init does not see the
 * client leave; pass `{ signal: derived.signal }` (Pacer's forwarder builds
 * its own signal and never does that).
 *
 * @module
 */

/** A `Request` whose `signal` is the signal of the request it derives from. */
export class DerivedRequest extends Request {
  readonly #from: Request;

  /**
   * @param url The new request's URL.
   * @param init Method, headers, body… (any `signal` in it is ignored by `signal`).
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
