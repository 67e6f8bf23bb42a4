/**
 * Stops sending requests to a failing service for a while (Traefik's
 * `circuitBreaker`, with vulcand/oxy `cbreaker` semantics).
 *
 * States:
 * - **closed** (oxy "standby"): requests pass and are measured. At most every
 *   `checkPeriod`, after a response, `expression` is evaluated; when it holds,
 *   the breaker opens and the measurements are reset.
 * - **open** ("tripped"): for `fallbackDuration`, every request gets
 *   `responseCode` (503) with its status text, without reaching the service.
 * - **recovering**: for `recoveryDuration`, a growing share of requests
 *   passes (the target ratio rises linearly from 0 to 0.5 of the requests
 *   seen); the rest get the fallback. If `expression` holds again, the breaker
 *   opens again; if the recovery period ends without that, it closes.
 *
 * Measurements (see `_metrics.ts`): status codes and network errors over the
 * last 10 s, latencies over about a minute. Latency is the time until the
 * rest of the chain produced the response head (the body still streams).
 *
 * **Network errors.** A network error is a request that never got an answer
 * from the upstream. Pacer's forwarder answers those itself with 502 (connect
 * or reset) or 504 (timeout) and marks its answer with the header
 * `X-Pacer-Upstream-Error` (`src/service/forward.ts`, removed before the
 * response leaves Pacer). `NetworkErrorRatio()` counts 502/504 responses that
 * carry this header; a 502 sent by the upstream itself is a response, counted
 * by `ResponseCodeRatio` only. (oxy counts every 502/504, as its own
 * forwarder is the only source of those in Traefik.)
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     breaker:
 *       circuitBreaker:
 *         expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.25 || NetworkErrorRatio() > 0.5"
 *         fallbackDuration: 30s
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { STATUS_CODES } from "node:http";
import { definePlugin, duration, z } from "../../plugin/mod.ts";
import type { Logger } from "../../log/logger.ts";
import { type Condition, parseExpression } from "./_expression.ts";
import { RequestMetrics } from "./_metrics.ts";

/**
 * Header Pacer's forwarder sets on the 502/504 it generates for upstream
 * connection failures (see the module doc).
 */
export const UPSTREAM_ERROR_HEADER = "x-pacer-upstream-error";

/** circuitBreaker options (Traefik v3 names and defaults). */
export const circuitBreakerConfig = z.strictObject({
  /**
   * When to open, e.g. `NetworkErrorRatio() > 0.5`,
   * `ResponseCodeRatio(500, 600, 0, 600) > 0.25`, `LatencyAtQuantileMS(50.0) > 100`,
   * combined with `&&`, `||` and parentheses. Required.
   */
  expression: z.string().superRefine((source, ctx) => {
    try {
      parseExpression(source);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: `invalid expression: ${(error as Error).message}` });
    }
  }),
  /**
   * Interval between evaluations of `expression` (0 means the default).
   * @default {"100ms"}
   */
  checkPeriod: duration().default(100),
  /**
   * How long the breaker stays open before recovering (0 means the default).
   * @default {"10s"}
   */
  fallbackDuration: duration().default(10_000),
  /**
   * How long the recovery ramp lasts (0 means the default).
   * @default {"10s"}
   */
  recoveryDuration: duration().default(10_000),
  /**
   * Status answered while open (0 means the default).
   * @default {503}
   */
  responseCode: z.number().int().refine((code) => code === 0 || STATUS_CODES[code] !== undefined, {
    message: "must be an HTTP status code such as 503",
  }).default(503),
});
/** Validated circuitBreaker options. */
export type CircuitBreakerConfig = z.output<typeof circuitBreakerConfig>;

/** Breaker states, with Traefik's (oxy's) names. */
export type BreakerState = "standby" | "tripped" | "recovering";

/** Test seams and hooks of {@linkcode circuitBreaker}. */
export interface CircuitBreakerOptions {
  /** Monotonic clock in milliseconds. @default {performance.now} */
  readonly now?: () => number;
  /** Where state changes are logged. */
  readonly log?: Logger;
  /** Called on every state change (metrics, tests). */
  readonly onStateChange?: (state: BreakerState) => void;
}

/**
 * oxy's ratioController: lets through a share of requests that grows
 * linearly from 0 to 0.5 over the recovery period.
 */
class RatioController {
  #allowed = 0;
  #denied = 0;

  constructor(readonly start: number, readonly duration: number) {}

  allow(now: number): boolean {
    const target = 0.5 * (now - this.start) / this.duration;
    if ((this.#allowed + 1) / (this.#allowed + 1 + this.#denied) < target) {
      this.#allowed++;
      return true;
    }
    this.#denied++;
    return false;
  }
}

function orDefault(value: number, fallback: number): number {
  return value > 0 ? value : fallback;
}

/** Whether a response is a Pacer-generated answer to an upstream connection failure. */
function isNetworkError(res: Response): boolean {
  return (res.status === 502 || res.status === 504) && res.headers.has(UPSTREAM_ERROR_HEADER);
}

/**
 * Builds the circuit breaker. Its state and measurements live as long as the
 * returned middleware (one configuration generation, one router).
 * @throws {SyntaxError} If `expression` does not parse (the schema reports it first).
 */
export function circuitBreaker(
  config: CircuitBreakerConfig,
  options: CircuitBreakerOptions = {},
): MiddlewareHandler {
  const now = options.now ?? (() => performance.now());
  const condition: Condition = parseExpression(config.expression);
  const checkPeriod = orDefault(config.checkPeriod, 100);
  const fallbackDuration = orDefault(config.fallbackDuration, 10_000);
  const recoveryDuration = orDefault(config.recoveryDuration, 10_000);
  const responseCode = orDefault(config.responseCode, 503);
  const responseText = STATUS_CODES[responseCode] ?? "";
  const metrics = new RequestMetrics(now, condition.usesLatency);
  const log = options.log;

  let state: BreakerState = "standby";
  let until = 0;
  let lastCheck = -Infinity;
  let ratio: RatioController | undefined;

  function setState(next: BreakerState, nextUntil: number): void {
    state = next;
    until = nextUntil;
    if (next === "tripped") {
      log?.warn("Circuit breaker open: requests get the fallback", {
        expression: config.expression,
        for: `${fallbackDuration}ms`,
      });
    } else if (next === "recovering") {
      log?.info("Circuit breaker recovering", { for: `${recoveryDuration}ms` });
    } else {
      log?.info("Circuit breaker closed");
    }
    options.onStateChange?.(next);
  }

  /** oxy's activateFallback: whether this request gets the fallback. */
  function useFallback(): boolean {
    if (state === "standby") return false;
    const t = now();
    if (state === "tripped") {
      if (t < until) return true;
      setState("recovering", t + recoveryDuration);
      ratio = new RatioController(t, recoveryDuration);
    }
    if (t > until) {
      setState("standby", t);
      return false;
    }
    return !ratio!.allow(t);
  }

  /** oxy's checkAndSet, after each served request. */
  function check(): void {
    const t = now();
    if (!(t > lastCheck)) return;
    lastCheck = t + checkPeriod;
    if (state === "tripped") return;
    if (!condition(metrics.measurements())) return;
    setState("tripped", t + fallbackDuration);
    metrics.reset();
  }

  function fallback(): Response {
    return new Response(responseText, {
      status: responseCode,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }

  return async function circuitBreaker(c, next) {
    if (useFallback()) return fallback();
    const start = now();
    await next();
    metrics.record(c.res.status, isNetworkError(c.res), now() - start);
    check();
  };
}

/** The circuitBreaker plugin. */
export default definePlugin({
  name: "circuitBreaker",
  description: "Stops calling a failing service for a while",
  config: circuitBreakerConfig,
  create: (config, ctx) => circuitBreaker(config, { log: ctx.log }),
});
