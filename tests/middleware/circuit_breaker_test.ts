import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import circuitBreakerPlugin, {
  type BreakerState,
  circuitBreaker,
  circuitBreakerConfig,
  UPSTREAM_ERROR_HEADER,
} from "../../src/middleware/circuit_breaker/mod.ts";
import { parseExpression } from "../../src/middleware/circuit_breaker/_expression.ts";
import { RequestMetrics } from "../../src/middleware/circuit_breaker/_metrics.ts";
import { testContext } from "./_ctx.ts";

type Upstream = "ok" | "network-error" | "plain-502" | "500";

interface Harness {
  app: Hono;
  states: BreakerState[];
  calls: () => number;
  setUpstream(u: Upstream): void;
  /** Milliseconds each upstream call takes on the fake clock. */
  setLatency(ms: number): void;
  advance(ms: number): void;
  statuses(n: number): Promise<number[]>;
}

function harness(raw: Record<string, unknown>): Harness {
  let clock = 50_000;
  let upstream: Upstream = "ok";
  let latency = 0;
  let calls = 0;
  const states: BreakerState[] = [];
  const app = new Hono();
  app.use(circuitBreaker(circuitBreakerConfig.parse(raw), {
    now: () => clock,
    onStateChange: (s) => states.push(s),
  }));
  app.get("/", (c) => {
    calls++;
    clock += latency;
    switch (upstream) {
      case "network-error":
        return c.text("Bad Gateway", 502, { [UPSTREAM_ERROR_HEADER]: "connect" });
      case "plain-502":
        return c.text("upstream says bad gateway", 502);
      case "500":
        return c.text("oops", 500);
      default:
        return c.text("hello");
    }
  });
  return {
    app,
    states,
    calls: () => calls,
    setUpstream: (u) => upstream = u,
    setLatency: (ms) => latency = ms,
    advance: (ms) => clock += ms,
    async statuses(n) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
        await res.body?.cancel();
        out.push(res.status);
      }
      return out;
    },
  };
}

Deno.test("circuitBreaker() passes requests while the expression does not hold", async () => {
  const h = harness({ expression: "NetworkErrorRatio() > 0.5" });
  const res = await h.app.request("/", {}, pacerEnv());
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "hello");
  assert.deepEqual(h.states, []);
});

Deno.test("circuitBreaker() goes through open, recovering and closed (oxy's full cycle)", async () => {
  const h = harness({ expression: "NetworkErrorRatio() > 0.5" });
  assert.deepEqual(await h.statuses(1), [200]); // evaluated at once: ratio 0

  h.setUpstream("network-error");
  assert.deepEqual(await h.statuses(3), [502, 502, 502], "no evaluation within checkPeriod");
  h.advance(101);
  assert.deepEqual(await h.statuses(1), [502]);
  assert.deepEqual(h.states, ["tripped"], "4 network errors out of 5");

  const before = h.calls();
  const open = await h.app.request("/", {}, pacerEnv());
  assert.equal(open.status, 503);
  assert.equal(await open.text(), "Service Unavailable");
  assert.equal(h.calls(), before, "the service is not called while open");

  h.advance(9_000);
  assert.deepEqual(await h.statuses(1), [503], "still open after 9 s");

  h.setUpstream("ok");
  h.advance(1_001);
  assert.deepEqual(await h.statuses(1), [503], "recovery starts by refusing");
  assert.deepEqual(h.states, ["tripped", "recovering"]);

  h.advance(5_000);
  const ramp = await h.statuses(100);
  const allowed = ramp.filter((s) => s === 200).length;
  assert.ok(allowed > 0 && allowed < 100, `half-way through recovery, ${allowed}/100 passed`);
  assert.ok(ramp.every((s) => s === 200 || s === 503));

  h.advance(5_001);
  assert.deepEqual(await h.statuses(3), [200, 200, 200]);
  assert.deepEqual(h.states, ["tripped", "recovering", "standby"]);
});

Deno.test("circuitBreaker() opens again when the expression holds during recovery", async () => {
  const h = harness({ expression: "NetworkErrorRatio() > 0.5", checkPeriod: "1ms" });
  h.setUpstream("network-error");
  await h.statuses(1);
  assert.deepEqual(h.states, ["tripped"]);
  h.advance(10_001);
  await h.statuses(1);
  assert.deepEqual(h.states, ["tripped", "recovering"]);
  h.advance(5_000);
  let passed = 0;
  for (let i = 0; i < 100 && h.states.length < 3; i++) {
    h.advance(2); // past checkPeriod
    const [status] = await h.statuses(1);
    if (status === 502) passed++;
  }
  assert.ok(passed > 0, "some requests reached the failing service");
  assert.deepEqual(h.states, ["tripped", "recovering", "tripped"]);
  assert.deepEqual(await h.statuses(1), [503]);
});

Deno.test("circuitBreaker() evaluates the expression at most every checkPeriod", async () => {
  const h = harness({ expression: "NetworkErrorRatio() > 0.5", checkPeriod: "1s" });
  assert.deepEqual(await h.statuses(1), [200]);
  h.setUpstream("network-error");
  h.advance(999);
  await h.statuses(5);
  assert.deepEqual(h.states, [], "within checkPeriod");
  h.advance(2);
  await h.statuses(1);
  assert.deepEqual(h.states, ["tripped"]);
});

Deno.test("circuitBreaker() counts only marked 502/504 as network errors", async () => {
  const net = harness({ expression: "NetworkErrorRatio() > 0.5", checkPeriod: "1ms" });
  net.setUpstream("plain-502");
  for (let i = 0; i < 5; i++) {
    net.advance(2);
    await net.statuses(1);
  }
  assert.deepEqual(net.states, [], "an upstream's own 502 is a response, not a network error");

  const codes = harness({
    expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5",
    checkPeriod: "1ms",
  });
  codes.setUpstream("plain-502");
  await codes.statuses(1);
  assert.deepEqual(codes.states, ["tripped"], "but it is a 5xx for ResponseCodeRatio");
});

Deno.test("circuitBreaker() trips on latency and on combined expressions", async () => {
  const slow = harness({ expression: "LatencyAtQuantileMS(50.0) > 100" });
  slow.setLatency(80);
  await slow.statuses(1);
  assert.deepEqual(slow.states, []);
  slow.setLatency(150);
  slow.advance(101);
  await slow.statuses(3);
  slow.advance(101);
  await slow.statuses(1);
  assert.deepEqual(slow.states, ["tripped"], "median 150 ms");

  const both = harness({
    expression:
      "(ResponseCodeRatio(500, 600, 0, 600) > 0.25 && NetworkErrorRatio() < 0.1) || LatencyAtQuantileMS(99) > 10000",
    checkPeriod: "1ms",
  });
  both.setUpstream("500");
  await both.statuses(1);
  assert.deepEqual(both.states, ["tripped"]);
});

Deno.test("circuitBreaker() answers responseCode while open", async () => {
  const h = harness({ expression: "ResponseCodeRatio(500, 600, 0, 600) > 0.5", responseCode: 429 });
  h.setUpstream("500");
  await h.statuses(1);
  const res = await h.app.request("/", {}, pacerEnv());
  assert.equal(res.status, 429);
  assert.equal(await res.text(), "Too Many Requests");
});

Deno.test("circuitBreaker() forgets measurements older than 10 s", () => {
  let clock = 0;
  const m = new RequestMetrics(() => clock, false);
  for (let i = 0; i < 6; i++) m.record(502, true, 0);
  for (let i = 0; i < 4; i++) m.record(200, false, 0);
  assert.equal(m.measurements().networkErrorRatio(), 0.6);
  assert.equal(m.measurements().responseCodeRatio(500, 600, 0, 600), 0.6);
  clock = 9_999;
  m.record(200, false, 0);
  assert.equal(m.measurements().networkErrorRatio(), 6 / 11);
  clock = 10_500;
  assert.equal(m.measurements().networkErrorRatio(), 0, "the first second rolled out");
  assert.equal(m.measurements().responseCodeRatio(200, 300, 0, 600), 1);
  m.reset();
  assert.equal(m.measurements().responseCodeRatio(200, 300, 0, 600), 0);
});

Deno.test("circuitBreaker() latency quantiles are within 1% (oxy's HDR precision)", () => {
  let clock = 0;
  const m = new RequestMetrics(() => clock, true);
  for (let ms = 1; ms <= 1000; ms++) m.record(200, false, ms);
  const q = (x: number) => m.measurements().latencyAtQuantileMS(x);
  assert.ok(Math.abs(q(50) - 500) <= 5, `p50 ${q(50)}`);
  assert.ok(Math.abs(q(99) - 990) <= 10, `p99 ${q(99)}`);
  assert.equal(q(100) >= 1000 && q(100) <= 1008, true, `p100 ${q(100)}`);
  const single = new RequestMetrics(() => clock, true);
  single.record(200, false, 51);
  assert.equal(single.measurements().latencyAtQuantileMS(50), 51, "oxy: 51 ms > 50");
  assert.equal(new RequestMetrics(() => clock, true).measurements().latencyAtQuantileMS(40), 0);
  clock = 70_000; // all 6 × 10 s sub-histograms rotated out
  m.record(200, false, 2);
  assert.equal(q(50), 2);
});

Deno.test("circuitBreaker() expression language follows oxy's predicates (TestTripped table)", () => {
  const stats = (entries: [number, number, number][]) => {
    const m = new RequestMetrics(() => 0, true);
    for (const [code, count, latency] of entries) {
      for (let i = 0; i < count; i++) m.record(code, code === 502 || code === 504, latency);
    }
    return m.measurements();
  };
  const netErrors = stats([[504, 60, 0], [200, 40, 0]]);
  const cases: [string, ReturnType<typeof stats>, boolean][] = [
    ["NetworkErrorRatio() > 0.5", netErrors, true],
    ["NetworkErrorRatio() < 0.5", netErrors, false],
    ["NetworkErrorRatio() >= 0.6 && NetworkErrorRatio() <= 0.6", netErrors, true],
    ["NetworkErrorRatio() == 0.6", netErrors, true],
    ["NetworkErrorRatio() != 0.6", netErrors, false],
    ["0.5 < NetworkErrorRatio()", netErrors, true],
    ["NetworkErrorRatio() > 1", netErrors, false],
    ["LatencyAtQuantileMS(50.0) > 50", stats([[200, 1, 51]]), true],
    ["LatencyAtQuantileMS(50.0) < 50", stats([[200, 1, 51]]), false],
    ["LatencyAtQuantileMS(50) > 50", stats([[200, 1, 51]]), true],
    ["ResponseCodeRatio(500, 600, 0, 600) > 0.5", stats([[200, 5, 0], [500, 6, 0]]), true],
    ["ResponseCodeRatio(500, 600, 0, 600) > 0.5", stats([[200, 5, 0], [500, 4, 0]]), false],
    ["LatencyAtQuantileMS(40.0) > 50", netErrors, false],
    ["NetworkErrorRatio() < 0.1 || (ResponseCodeRatio(200, 300, 0, 600) > 0.3)", netErrors, true],
  ];
  for (const [expression, m, want] of cases) {
    assert.equal(parseExpression(expression)(m), want, expression);
  }
  assert.equal(parseExpression("NetworkErrorRatio() > 0.5").usesLatency, false);
  assert.equal(
    parseExpression("NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 1").usesLatency,
    true,
  );
});

Deno.test("circuitBreaker() reports expression errors with their column", () => {
  const cases: [string, RegExp][] = [
    ["", /unexpected end of expression \(at column 1\)/],
    [
      "NetworkErrorRatio()",
      /must be a comparison .* not NetworkErrorRatio\(\) alone \(at column 1\)/,
    ],
    ["NetworkErrorRatio() > 0.5 &&", /unexpected end of expression \(at column 29\)/],
    ["Foo() > 1", /unsupported function: Foo .*\(at column 1\)/],
    ["NetworkErrorRatio > 0.5", /NetworkErrorRatio is not defined/],
    ["NetworkErrorRatio(1) > 0.5", /takes 0 arguments, got 1/],
    ["ResponseCodeRatio(500, 600, 0) > 0.5", /takes 4 arguments, got 3/],
    ["ResponseCodeRatio(500.5, 600, 0, 600) > 0.5", /integer status codes \(at column 19\)/],
    ["LatencyAtQuantileMS(0) > 1", /quantile in \(0, 100\]/],
    ["LatencyAtQuantileMS(101.0) > 1", /quantile in \(0, 100\]/],
    ["!(NetworkErrorRatio() > 0.5)", /'!' is not supported \(at column 1\)/],
    ["NetworkErrorRatio() > 0.5 $", /unexpected character '\$' \(at column 27\)/],
    ["NetworkErrorRatio() > 0.5)", /unexpected '\)' \(at column 26\)/],
    ["(NetworkErrorRatio() > 0.5", /expected '\)'/],
    ["1 > 2", /compares a function/],
    ["NetworkErrorRatio() > NetworkErrorRatio()", /compares a function/],
    ["NetworkErrorRatio() > 0.5 || 3", /each side of \|\| must be a comparison/],
  ];
  for (const [expression, want] of cases) {
    assert.throws(() => parseExpression(expression), (error: Error) => {
      assert.ok(error instanceof SyntaxError, expression);
      assert.match(error.message, want, expression);
      return true;
    });
  }
});

Deno.test("circuitBreaker() options are validated with located errors", async () => {
  const registry = new MiddlewareRegistry().register(circuitBreakerPlugin);
  const cases: { raw: unknown; want: RegExp }[] = [
    { raw: {}, want: /'circuitBreaker\.expression'/ },
    {
      raw: { expression: "NetworkErrorRatio() >> 0.5" },
      want: /'circuitBreaker\.expression': invalid expression: .*\(at column 22\)/,
    },
    {
      raw: { expression: "NetworkErrorRatio() > 0.5", checkPeriod: "often" },
      want: /'circuitBreaker\.checkPeriod'/,
    },
    {
      raw: { expression: "NetworkErrorRatio() > 0.5", fallbackDuration: "-1s" },
      want: /'circuitBreaker\.fallbackDuration'/,
    },
    {
      raw: { expression: "NetworkErrorRatio() > 0.5", responseCode: 600 },
      want: /'circuitBreaker\.responseCode': must be an HTTP status code/,
    },
    {
      raw: { expression: "NetworkErrorRatio() > 0.5", fallback: "x" },
      want: /unknown option 'fallback'/,
    },
  ];
  for (const { raw, want } of cases) {
    const result = registry.resolve({ circuitBreaker: raw });
    assert.equal(result.ok, false, JSON.stringify(raw));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({
    circuitbreaker: { Expression: "NetworkErrorRatio() > 0.5", CHECKPERIOD: "1s" },
  });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: unknown }).options, {
    expression: "NetworkErrorRatio() > 0.5",
    checkPeriod: 1000,
    fallbackDuration: 10_000,
    recoveryDuration: 10_000,
    responseCode: 503,
  });
  const ctx = testContext();
  const mw = await circuitBreakerPlugin.create(
    circuitBreakerConfig.parse({ expression: "NetworkErrorRatio() > 0.5" }),
    ctx,
  );
  assert.equal(typeof mw, "function");
  ctx.dispose();
});
