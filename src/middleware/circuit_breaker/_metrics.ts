/**
 * Rolling request metrics for the circuit breaker, after vulcand/oxy
 * `memmetrics.RTMetrics`: counts over a 10 × 1 s rolling window (total,
 * network errors, per status code) and a latency histogram over 6 × 10 s
 * (about a minute), with ~1 % precision like oxy's 2-significant-figure HDR
 * histogram. Memory is fixed by design: a few counters per status code seen,
 * and sparse histogram buckets.
 *
 * @module
 */
import type { Measurements } from "./_expression.ts";

/** A count over the last `slots × resolution` milliseconds. */
class RollingCounter {
  readonly #ids: Float64Array;
  readonly #counts: Float64Array;
  readonly #resolution: number;

  constructor(slots = 10, resolution = 1000) {
    this.#ids = new Float64Array(slots).fill(-1);
    this.#counts = new Float64Array(slots);
    this.#resolution = resolution;
  }

  inc(now: number): void {
    const id = Math.floor(now / this.#resolution);
    const i = id % this.#ids.length;
    if (this.#ids[i] !== id) {
      this.#ids[i] = id;
      this.#counts[i] = 0;
    }
    this.#counts[i]!++;
  }

  count(now: number): number {
    const newest = Math.floor(now / this.#resolution);
    const oldest = newest - this.#ids.length + 1;
    let sum = 0;
    for (let i = 0; i < this.#ids.length; i++) {
      const id = this.#ids[i]!;
      if (id >= oldest && id <= newest) sum += this.#counts[i]!;
    }
    return sum;
  }
}

const EXACT = 256; // microseconds below this are their own bucket
const SUB_BITS = 7; // 128 sub-buckets per power of two: < 0.8 % error
const MAX_US = 3_600_000_000; // one hour, oxy's histogram ceiling

/** Histogram bucket of a latency in microseconds. */
function bucketOf(us: number): number {
  const v = Math.min(MAX_US, Math.max(1, Math.round(us)));
  if (v < EXACT) return v;
  const exp = 31 - Math.clz32(v);
  const sub = v >>> (exp - SUB_BITS);
  return EXACT + (exp - 8) * 128 + (sub - 128);
}

/** Highest latency (microseconds) a bucket stands for, as HDR reports it. */
function bucketTop(bucket: number): number {
  if (bucket < EXACT) return bucket;
  const k = bucket - EXACT;
  const exp = 8 + Math.floor(k / 128);
  const sub = 128 + (k % 128);
  return (sub + 1) * 2 ** (exp - SUB_BITS) - 1;
}

/** Latencies over `slots` rotating sub-histograms of `period` ms each. */
class RollingHistogram {
  readonly #slots: Map<number, number>[];
  readonly #period: number;
  #index = 0;
  #lastRoll: number;

  constructor(now: number, slots = 6, period = 10_000) {
    this.#slots = Array.from({ length: slots }, () => new Map());
    this.#period = period;
    this.#lastRoll = now;
  }

  record(us: number, now: number): void {
    const elapsed = now - this.#lastRoll;
    if (elapsed >= this.#period) {
      const steps = Math.min(this.#slots.length, Math.floor(elapsed / this.#period));
      for (let i = 0; i < steps; i++) {
        this.#index = (this.#index + 1) % this.#slots.length;
        this.#slots[this.#index]!.clear();
      }
      this.#lastRoll = now;
    }
    const slot = this.#slots[this.#index]!;
    const b = bucketOf(us);
    slot.set(b, (slot.get(b) ?? 0) + 1);
  }

  /** HDR's `ValueAtQuantile`, in microseconds; 0 without data. */
  valueAtQuantile(quantile: number): number {
    const merged = new Map<number, number>();
    let total = 0;
    for (const slot of this.#slots) {
      for (const [b, n] of slot) {
        merged.set(b, (merged.get(b) ?? 0) + n);
        total += n;
      }
    }
    if (total === 0) return 0;
    const wanted = Math.max(1, Math.floor((Math.min(100, quantile) / 100) * total + 0.5));
    let seen = 0;
    for (const b of [...merged.keys()].sort((x, y) => x - y)) {
      seen += merged.get(b)!;
      if (seen >= wanted) return bucketTop(b);
    }
    return 0;
  }

  reset(now: number): void {
    for (const slot of this.#slots) slot.clear();
    this.#index = 0;
    this.#lastRoll = now;
  }
}

/** What the breaker has seen lately; resets when it trips. */
export class RequestMetrics {
  #total = new RollingCounter();
  #netErrors = new RollingCounter();
  #codes = new Map<number, RollingCounter>();
  readonly #latency: RollingHistogram | undefined;
  readonly #now: () => number;

  /**
   * @param now Clock in milliseconds.
   * @param withLatency Record latencies (only expressions using LatencyAtQuantileMS need them).
   */
  constructor(now: () => number, withLatency: boolean) {
    this.#now = now;
    this.#latency = withLatency ? new RollingHistogram(now()) : undefined;
  }

  /** Records one served request. */
  record(status: number, networkError: boolean, latencyMs: number): void {
    const now = this.#now();
    this.#total.inc(now);
    if (networkError) this.#netErrors.inc(now);
    let codes = this.#codes.get(status);
    if (!codes) this.#codes.set(status, codes = new RollingCounter());
    codes.inc(now);
    this.#latency?.record(latencyMs * 1000, now);
  }

  /** Forgets everything (oxy resets its metrics when the breaker trips). */
  reset(): void {
    this.#total = new RollingCounter();
    this.#netErrors = new RollingCounter();
    this.#codes = new Map();
    this.#latency?.reset(this.#now());
  }

  /** A view for evaluating an expression now. */
  measurements(): Measurements {
    const now = this.#now();
    return {
      networkErrorRatio: () => {
        const total = this.#total.count(now);
        return total === 0 ? 0 : this.#netErrors.count(now) / total;
      },
      responseCodeRatio: (fromA, toA, fromB, toB) => {
        let a = 0;
        let b = 0;
        for (const [code, counter] of this.#codes) {
          const n = counter.count(now);
          if (code >= fromA && code < toA) a += n;
          if (code >= fromB && code < toB) b += n;
        }
        return b === 0 ? 0 : a / b;
      },
      latencyAtQuantileMS: (q) => Math.trunc((this.#latency?.valueAtQuantile(q) ?? 0) / 1000),
    };
  }
}
