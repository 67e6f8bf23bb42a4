/**
 * Capped exponential backoff with jitter for the Marathon provider's retries
 * (failed fetches) and event-stream reconnects. The waits themselves use
 * `src/util/delay.ts`, built on `setTimeout`, so tests drive them with fake
 * timers.
 *
 * @module
 */

/** Settings of a {@linkcode Backoff}. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  readonly initialMs: number;
  /** Upper bound of the delay, before jitter (ms). */
  readonly maxMs: number;
  /** Growth per attempt. @default {2} */
  readonly factor?: number;
  /**
   * Fraction of each delay that is random: a delay `d` becomes a value in
   * `[d × (1 − jitter), d]`, so clients that lost Marathon together do not
   * come back together. @default {0.5}
   */
  readonly jitter?: number;
  /** Random source in [0, 1). @default {Math.random} */
  readonly random?: () => number;
}

/** A capped exponential backoff with jitter. */
export class Backoff {
  readonly #initialMs: number;
  readonly #maxMs: number;
  readonly #factor: number;
  readonly #jitter: number;
  readonly #random: () => number;
  #attempt = 0;

  /**
   * @throws {RangeError} If a setting is out of range.
   */
  constructor(options: BackoffOptions) {
    const factor = options.factor ?? 2;
    const jitter = options.jitter ?? 0.5;
    if (!(options.initialMs >= 0) || !(options.maxMs >= options.initialMs)) {
      throw new RangeError(
        `Cannot create a backoff as 'maxMs' must be >= 'initialMs' >= 0: current values are ${options.initialMs} and ${options.maxMs}`,
      );
    }
    if (!(factor >= 1)) {
      throw new RangeError(
        `Cannot create a backoff as 'factor' must be >= 1: current value is ${factor}`,
      );
    }
    if (!(jitter >= 0 && jitter <= 1)) {
      throw new RangeError(
        `Cannot create a backoff as 'jitter' must be between 0 and 1: current value is ${jitter}`,
      );
    }
    this.#initialMs = options.initialMs;
    this.#maxMs = options.maxMs;
    this.#factor = factor;
    this.#jitter = jitter;
    this.#random = options.random ?? Math.random;
  }

  /** Retries handed out since the last {@linkcode reset}. */
  get attempts(): number {
    return this.#attempt;
  }

  /** The delay before the next retry (ms, jittered); each call grows the next one. */
  next(): number {
    // The exponent stops at 64 so many failures never reach Infinity (or NaN with 0 ms).
    const base = Math.min(
      this.#maxMs,
      this.#initialMs * this.#factor ** Math.min(this.#attempt, 64),
    );
    this.#attempt++;
    const r = Math.min(Math.max(this.#random(), 0), 1);
    return Math.round(base * (1 - this.#jitter * r));
  }

  /** Starts over from `initialMs` (after a success or a stable period). */
  reset(): void {
    this.#attempt = 0;
  }
}
