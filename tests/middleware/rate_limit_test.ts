import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import rateLimitPlugin, {
  rateLimit,
  rateLimitConfig,
  type RateLimitOptions,
} from "../../src/middleware/rate_limit/mod.ts";

interface Harness {
  hit(ip?: string, headers?: Record<string, string>): Promise<Response>;
  /** Status codes of `n` sequential requests from `ip`. */
  codes(n: number, ip?: string): Promise<number[]>;
  advance(ms: number): void;
  sleeps: number[];
  served: () => number;
}

function harness(raw: unknown, extra: Partial<RateLimitOptions> = {}): Harness {
  let clock = 1_000_000;
  const sleeps: number[] = [];
  let served = 0;
  const options: RateLimitOptions = {
    now: () => clock,
    sleep: (ms) => {
      sleeps.push(ms);
      clock += ms;
      return Promise.resolve();
    },
    ...extra,
  };
  const app = new Hono();
  app.use(rateLimit(rateLimitConfig.parse(raw), options));
  app.get("/", (c) => {
    served++;
    return c.text("ok");
  });
  const hit = async (ip = "10.0.0.1", headers: Record<string, string> = {}) =>
    await app.request("/", { headers }, pacerEnv(ip));
  return {
    hit,
    async codes(n, ip) {
      const out: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await hit(ip);
        await res.body?.cancel();
        out.push(res.status);
      }
      return out;
    },
    advance: (ms) => clock += ms,
    sleeps,
    served: () => served,
  };
}

Deno.test("rateLimit() answers 429 past the burst, with Retry-After and X-Retry-In", async () => {
  const h = harness({ average: 1, burst: 3 });
  assert.deepEqual(await h.codes(3), [200, 200, 200]);
  const res = await h.hit();
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "1");
  assert.equal(res.headers.get("x-retry-in"), "1s");
  assert.equal(await res.text(), "Too Many Requests");
  assert.equal(h.served(), 3);
});

Deno.test("rateLimit() refills tokens at average / period", async () => {
  const h = harness({ average: 2, burst: 2 }); // 2 req/s
  assert.deepEqual(await h.codes(3), [200, 200, 429]);
  h.advance(500);
  assert.deepEqual(await h.codes(2), [200, 429]);
  h.advance(10_000); // never more than burst
  assert.deepEqual(await h.codes(3), [200, 200, 429]);
});

Deno.test("rateLimit() reads period as the window of average", async () => {
  const h = harness({ average: 6, period: "1m", burst: 1 }); // one request per 10 s
  assert.deepEqual(await h.codes(1), [200]);
  const res = await h.hit();
  assert.equal(res.status, 429);
  assert.equal(res.headers.get("retry-after"), "10");
  assert.equal(res.headers.get("x-retry-in"), "10s");
  await res.body?.cancel();
  h.advance(9_000); // due in 1 s: too far to wait for
  assert.deepEqual(await h.codes(1), [429]);
  h.advance(1_000);
  assert.deepEqual(await h.codes(1), [200]);
  assert.deepEqual(h.sleeps, []);
});

Deno.test("rateLimit() delays a request whose token is due within 1/(2·rate)", async () => {
  const h = harness({ average: 10, burst: 1 }); // 10 req/s: maxDelay 50 ms
  assert.deepEqual(await h.codes(1), [200]);
  const tooSoon = await h.hit();
  assert.equal(tooSoon.status, 429, "100 ms away: refused");
  assert.equal(tooSoon.headers.get("x-retry-in"), "100ms");
  await tooSoon.body?.cancel();
  h.advance(60);
  assert.deepEqual(await h.codes(1), [200], "40 ms away: waits, then served");
  assert.equal(h.sleeps.length, 1);
  assert.ok(Math.abs(h.sleeps[0]! - 40) < 1e-6, `slept ${h.sleeps[0]}`);
  assert.equal(h.served(), 2);
});

Deno.test("rateLimit() does not serve a delayed request whose client went away", async () => {
  let served = 0;
  let clock = 0;
  const app = new Hono();
  const controller = new AbortController();
  app.use(rateLimit(rateLimitConfig.parse({ average: 10, burst: 1 }), {
    now: () => clock,
    sleep: () => {
      controller.abort();
      return Promise.resolve();
    },
  }));
  app.get("/", (c) => {
    served++;
    return c.text("ok");
  });
  await (await app.request("/", {}, pacerEnv("10.0.0.1"))).body?.cancel();
  clock = 60;
  const res = await app.request("/", { signal: controller.signal }, pacerEnv("10.0.0.1"));
  assert.equal(res.status, 499);
  assert.equal(served, 1);
});

Deno.test("rateLimit() waits on real timers when no sleep is injected", async () => {
  const { install } = await import("@sinonjs/fake-timers");
  const clock = install({ toFake: ["setTimeout", "clearTimeout", "performance"] });
  try {
    const app = new Hono();
    let served = 0;
    app.use(rateLimit(rateLimitConfig.parse({ average: 10, burst: 1 })));
    app.get("/", (c) => {
      served++;
      return c.text("ok");
    });
    await (await app.request("/", {}, pacerEnv("10.0.0.1"))).body?.cancel();
    await clock.tickAsync(70);
    let done = false;
    const pending = Promise.resolve(app.request("/", {}, pacerEnv("10.0.0.1"))).then((r) => {
      done = true;
      return r;
    });
    await clock.tickAsync(20);
    assert.equal(done, false, "still waiting for its token");
    await clock.tickAsync(15);
    const res = await pending;
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal(served, 2);
  } finally {
    clock.uninstall();
  }
});

Deno.test("rateLimit() with average 0 never limits", async () => {
  const h = harness({ average: 0, burst: 1 });
  const codes = await h.codes(200);
  assert.ok(codes.every((c) => c === 200));
});

Deno.test("rateLimit() keeps one bucket per source", async () => {
  const h = harness({ average: 1, burst: 1 });
  assert.deepEqual(await h.codes(2, "10.0.0.1"), [200, 429]);
  assert.deepEqual(await h.codes(2, "10.0.0.2"), [200, 429]);

  const byHeader = harness({
    average: 1,
    burst: 1,
    sourceCriterion: { requestHeaderName: "X-Tenant" },
  });
  const tenant = async (t: string, ip: string) => {
    const res = await byHeader.hit(ip, { "x-tenant": t });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await tenant("a", "10.0.0.1"), 200);
  assert.equal(await tenant("a", "10.0.0.2"), 429, "same tenant, other IP");
  assert.equal(await tenant("b", "10.0.0.1"), 200);

  const byDepth = harness({ average: 1, burst: 1, sourceCriterion: { ipStrategy: { depth: 1 } } });
  const via = async (xff: string) => {
    const res = await byDepth.hit("10.0.0.1", { "x-forwarded-for": xff });
    await res.body?.cancel();
    return res.status;
  };
  assert.equal(await via("1.1.1.1"), 200);
  assert.equal(await via("2.2.2.2"), 200);
  assert.equal(await via("1.1.1.1"), 429);
});

Deno.test("rateLimit() bounds the number of tracked sources", async () => {
  const h = harness({ average: 1, burst: 1 }, { maxSources: 3 });
  assert.deepEqual(await h.codes(2, "10.0.0.1"), [200, 429]);
  for (const ip of ["10.0.0.2", "10.0.0.3"]) assert.deepEqual(await h.codes(1, ip), [200]);
  assert.deepEqual(await h.codes(1, "10.0.0.1"), [429], "tracked: 3 sources fit");
  // A 4th source pushes out the least recently seen one (10.0.0.2), not 10.0.0.1.
  assert.deepEqual(await h.codes(1, "10.0.0.4"), [200]);
  assert.deepEqual(await h.codes(1, "10.0.0.1"), [429], "10.0.0.1 is still tracked");
  assert.deepEqual(await h.codes(1, "10.0.0.2"), [200], "10.0.0.2 was forgotten: a full bucket");
  assert.deepEqual(await h.codes(1, "10.0.0.1"), [429]);
});

Deno.test("rateLimit() options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(rateLimitPlugin);
  const cases: { raw: unknown; want: RegExp }[] = [
    { raw: { average: -1 }, want: /'rateLimit\.average'/ },
    { raw: { average: 1.5 }, want: /'rateLimit\.average'/ },
    { raw: { burst: -2 }, want: /'rateLimit\.burst'/ },
    { raw: { period: "soon" }, want: /'rateLimit\.period': Invalid duration/ },
    { raw: { period: "-1s" }, want: /'rateLimit\.period'/ },
    {
      raw: { sourceCriterion: { requestHost: true, requestHeaderName: "X" } },
      want:
        /'rateLimit\.sourceCriterion': requestHost and RequestHeaderName are mutually exclusive/,
    },
    {
      raw: { sourceCriterion: { ipStrategy: { excludedIPs: ["x"] } } },
      want: /'rateLimit\.sourceCriterion\.ipStrategy\.excludedIPs\[0\]'/,
    },
    { raw: { redis: { endpoints: ["x"] } }, want: /unknown option 'redis'/ },
  ];
  for (const { raw, want } of cases) {
    const result = registry.resolve({ rateLimit: raw });
    assert.equal(result.ok, false, JSON.stringify(raw));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({ ratelimit: { Average: 100, PERIOD: "1m", burst: 50 } });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: unknown }).options, {
    average: 100,
    period: 60_000,
    burst: 50,
  });
  const defaults = registry.resolve({ rateLimit: {} });
  assert.deepEqual((defaults as { options: unknown }).options, {
    average: 0,
    period: 1000,
    burst: 1,
  });
});
