/**
 * Notices a client that goes away while Pacer waits for an upstream's
 * response headers, so the upstream request can be aborted.
 *
 * `request.signal` tells, but in `Deno.serve` subscribing to it costs every
 * request an extra async operation and an `AbortSignal.any`, several percent
 * of a small request's CPU. Nearly every upstream answers within
 * milliseconds, and a client that leaves after the headers arrived is
 * noticed anyway (Deno cancels the response body, which cancels the
 * upstream's). So a request subscribes only once it has waited between
 * `afterMs` and twice that: two buckets, swapped by one shared timer that
 * runs only while requests wait (so it never outlives them).
 *
 * @module
 */

interface Waiter {
  /**
   * Held weakly. Measured under `deno task bench`: holding each waiting
   * request strongly here made V8 promote about 1.2 KB more per request to
   * the old generation and run twice the full collections, about 7 µs of
   * CPU per request. The caller holds the request while it waits (it needs
   * it afterwards), so the reference stays good until the wait ends.
   */
  readonly request: WeakRef<Request>;
  readonly onGone: () => void;
  /** The signal `onGone` listens to, once linked (long waits only). */
  linked: AbortSignal | undefined;
}

/** Watches waiting requests for their client going away. */
export class ClientWatch {
  readonly #afterMs: number;
  /** Waiting since the last tick. */
  #recent = new Set<Waiter>();
  /** Waiting since before the last tick: linked to their signal at the next one. */
  #older = new Set<Waiter>();
  #timer: ReturnType<typeof setInterval> | undefined;

  /** @param afterMs How long a request waits before its client is watched. */
  constructor(afterMs = 25) {
    this.#afterMs = afterMs;
  }

  /**
   * Calls `onGone` if `request`'s client goes away before the returned
   * function is called (call it when the wait is over, however it ended).
   * The caller keeps `request` referenced until then: the watch holds it
   * weakly.
   */
  watch(request: Request, onGone: () => void): () => void {
    const waiter: Waiter = { request: new WeakRef(request), onGone, linked: undefined };
    this.#recent.add(waiter);
    this.#timer ??= setInterval(() => this.#tick(), this.#afterMs);
    return () => this.#end(waiter);
  }

  /** Requests waiting and not yet linked to their signal (for tests). */
  get waiting(): number {
    return this.#recent.size + this.#older.size;
  }

  /** Whether the shared timer runs (for tests: it must not while nothing waits). */
  get ticking(): boolean {
    return this.#timer !== undefined;
  }

  #end(waiter: Waiter): void {
    if (waiter.linked) {
      waiter.linked.removeEventListener("abort", waiter.onGone);
      waiter.linked = undefined;
      return;
    }
    if (!this.#recent.delete(waiter)) this.#older.delete(waiter);
    if (this.#recent.size === 0 && this.#older.size === 0) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #tick(): void {
    for (const waiter of this.#older) {
      // Gone only if the caller broke the contract and let it go: nobody to tell.
      const signal = waiter.request.deref()?.signal;
      if (!signal) continue;
      if (signal.aborted) {
        waiter.onGone();
        continue;
      }
      waiter.linked = signal;
      signal.addEventListener("abort", waiter.onGone, { once: true });
    }
    this.#older.clear();
    [this.#older, this.#recent] = [this.#recent, this.#older];
    if (this.#older.size === 0) this.#stop();
  }
}

/** The watch the forwarder and forwardAuth share (one timer for the process). */
export const clientWatch: ClientWatch = new ClientWatch();
