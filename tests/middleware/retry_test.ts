import { deepEqual, equal, ok } from "node:assert/strict";
import {
  retryable,
  RetryBudget,
  retryConfig,
  sharedBudget,
  sharedBudgetCount,
} from "../../src/middleware/retry/mod.ts";
import type { ConfigMessage } from "../../src/provider/provider.ts";
import { failureResponse } from "../../src/service/forward.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import retryPlugin from "../../src/middleware/retry/mod.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { closedPort, upstream } from "../_helpers/upstream.ts";

/** A raw TCP upstream that reads a request and closes the connection without answering. */
function resettingUpstream(): { url: string; hits: () => number; close: () => void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let hits = 0;
  (async () => {
    for await (const conn of listener) {
      hits++;
      const buf = new Uint8Array(65536);
      await conn.read(buf).catch(() => null);
      conn.close();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    hits: () => hits,
    close: () => listener.close(),
  };
}

function withRetry(services: Record<string, unknown>, retry: Record<string, unknown> = {}) {
  return {
    http: {
      routers: { r: { rule: "PathPrefix(`/`)", service: "s", middlewares: ["retry"] } },
      services,
      middlewares: { retry: { retry: { attempts: 3, initialInterval: "1ms", ...retry } } },
    },
  };
}

Deno.test("retry() sends a refused request to another server, POST body intact", async () => {
  await using good = await upstream(
    "good",
    async (request) => new Response(`got ${await request.text()}`),
  );
  await using p = await startPacer({
    config: withRetry({ s: lbService([`http://127.0.0.1:${closedPort()}`, good.url]) }),
  });
  for (let i = 0; i < 4; i++) {
    const res = await p.request("x.test", "/", { method: "POST", body: `payload-${i}` });
    equal(res.status, 200);
    equal(await res.text(), `got payload-${i}`);
  }
});

Deno.test("retry() retries an idempotent request after a reset, never a POST", async () => {
  const reset = resettingUpstream();
  try {
    await using good = await upstream("good");
    await using p = await startPacer({
      chain: { healthGate: false, drain: true },
      config: {
        http: {
          routers: {
            get: { rule: "Method(`GET`)", service: "both", middlewares: ["retry"] },
            post: { rule: "Method(`POST`)", service: "resetOnly", middlewares: ["retry"] },
          },
          services: { both: lbService([reset.url, good.url]), resetOnly: lbService([reset.url]) },
          middlewares: { retry: { retry: { attempts: 3, initialInterval: "1ms" } } },
        },
      },
    });
    // Round robin starts on the resetting server: the GET is retried on the good one.
    equal(await (await p.request("x.test", "/")).text(), "good");
    equal(reset.hits(), 1);
    const post = await p.request("x.test", "/", { method: "POST", body: "once" });
    equal(post.status, 502);
    await post.body?.cancel();
    equal(reset.hits(), 2, "the POST reached the resetting server once and was not retried");
  } finally {
    reset.close();
  }
});

Deno.test("retry() retries listed statuses for idempotent methods only", async () => {
  let calls = 0;
  await using flaky = await upstream(
    "flaky",
    () => new Response("busy", { status: calls++ % 2 === 0 ? 503 : 200 }),
  );
  await using p = await startPacer({
    config: withRetry({ s: lbService([flaky.url]) }, { statusCodes: [503] }),
  });
  const get = await p.request("x.test", "/");
  equal(get.status, 200);
  await get.body?.cancel();
  calls = 0;
  const post = await p.request("x.test", "/", { method: "POST", body: "x" });
  equal(post.status, 503);
  await post.body?.cancel();
});

Deno.test("retry() does not buffer or retry a body larger than maxRequestBodyBytes, and forwards it whole", async () => {
  let seenBytes = 0;
  await using sink = await upstream("sink", async (request) => {
    seenBytes = (await request.arrayBuffer()).byteLength;
    return new Response("stored");
  });
  await using p = await startPacer({
    config: withRetry({ s: lbService([`http://127.0.0.1:${closedPort()}`, sink.url]) }, {
      maxRequestBodyBytes: 1000,
    }),
  });
  const chunks = new ReadableStream({
    start(c) {
      for (let i = 0; i < 4; i++) c.enqueue(new Uint8Array(600));
      c.close();
    },
  });
  // First attempt lands on the refused server: a big body is not replayed.
  const res = await p.request("x.test", "/", { method: "PUT", body: chunks });
  equal(res.status, 502);
  await res.body?.cancel();
  const small = await p.request("x.test", "/", { method: "PUT", body: new Uint8Array(2400) });
  equal(await small.text(), "stored", "a body with a known size goes straight to a server");
  equal(seenBytes, 2400);
});

Deno.test("retry() goes to a different server on each attempt", async () => {
  await using good = await upstream("good");
  const dead = [closedPort(), closedPort()].map((port) => `http://127.0.0.1:${port}`);
  await using p = await startPacer({
    // Without the health gate, a refused server stays in rotation: only the retry's tried set steers.
    chain: { healthGate: false, drain: true },
    config: withRetry({ s: lbService([...dead, good.url]) }, { budget: { ratio: 10 } }),
  });
  for (let i = 0; i < 6; i++) equal(await (await p.request("x.test", "/")).text(), "good");
  equal(good.seen.length, 6);
});

Deno.test("RetryBudget allows retries up to the ratio of requests in the window", () => {
  let now = 0;
  const budget = new RetryBudget({ ratio: 0.2, window: 10_000, minRetries: 1 }, () => now);
  for (let i = 0; i < 20; i++) budget.request();
  const granted = Array.from({ length: 10 }, () => budget.tryRetry()).filter(Boolean).length;
  equal(granted, 4);
  now = 11_000; // the window moved on
  ok(budget.tryRetry(), "minRetries still allows one in a quiet window");
  ok(!budget.tryRetry());
});

Deno.test("sharedBudget() carries a router's budget over reloads and drops it with the last generation", () => {
  const settings = { ratio: 0.5, window: 10_000, minRetries: 0 };
  const before = sharedBudgetCount();
  const first = new AbortController();
  const a = sharedBudget("r@file\0retry@file", settings, first.signal);
  for (let i = 0; i < 10; i++) a.request();
  // A reload: the new generation is built before the old one retires.
  const second = new AbortController();
  const b = sharedBudget("r@file\0retry@file", settings, second.signal);
  first.abort();
  equal(b, a, "the same budget, with the requests it counted");
  equal(Array.from({ length: 8 }, () => b.tryRetry()).filter(Boolean).length, 5);
  // Other settings: a budget of their own.
  const third = new AbortController();
  const c = sharedBudget("r@file\0retry@file", { ...settings, ratio: 1 }, third.signal);
  ok(c !== b);
  second.abort();
  third.abort();
  equal(sharedBudgetCount(), before, "nothing kept once every generation using it is retired");
});

Deno.test("retry's budget survives a configuration reload (a deploy is when retries are needed)", async () => {
  await using good = await upstream("good");
  const dead = `http://127.0.0.1:${closedPort()}`;
  let emit!: (m: ConfigMessage) => void;
  // At most 0.3 retries per request seen, none for free.
  const config = (servers: string[]) => ({
    provider: "file",
    config: withRetry({ s: lbService(servers) }, { budget: { ratio: 0.3, minRetries: 0 } }),
  });
  const provider = {
    name: "file",
    run(send: (m: ConfigMessage) => void, signal: AbortSignal) {
      emit = send;
      send(config([good.url]));
      return new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
    },
  };
  await using p = await startPacer({ providers: [provider], chain: { healthGate: false } });
  for (let i = 0; i < 10; i++) await (await p.request("x.test")).body?.cancel();
  // A deploy: the new configuration has a server that refuses connections.
  const generation = p.pacer.generation;
  emit(config([dead, good.url]));
  await p.pacer.settled();
  ok(p.pacer.generation !== generation, "a new generation is live");
  // Every other request meets the dead server first and needs a retry. The
  // 10 requests counted before the reload pay for them; a budget made with
  // the new generation would have counted 2 requests by the second retry,
  // and refused it (502).
  const statuses = [];
  for (let i = 0; i < 4; i++) {
    const res = await p.request("x.test");
    statuses.push(res.status);
    await res.body?.cancel();
  }
  deepEqual(statuses, [200, 200, 200, 200]);
});

Deno.test("retry() stops retrying when the budget is spent", async () => {
  await using p = await startPacer({
    config: withRetry(
      { s: lbService([`http://127.0.0.1:${closedPort()}`]) },
      { budget: { ratio: 0, minRetries: 0 } },
    ),
    chain: { healthGate: false, drain: true },
  });
  const res = await p.request("x.test", "/");
  equal(res.status, 502);
  await res.body?.cancel();
});

Deno.test("retryable() follows the safety rules", () => {
  const cases: [string, Response, boolean][] = [
    ["POST", failureResponse(502, "x", { kind: "connect" }), true],
    ["POST", failureResponse(502, "x", { kind: "reset" }), false],
    ["GET", failureResponse(502, "x", { kind: "reset" }), true],
    ["PUT", failureResponse(504, "x", { kind: "timeout" }), true],
    ["GET", failureResponse(499, "x", { kind: "client-gone" }), false],
    ["GET", failureResponse(503, "x", { kind: "no-server" }), false],
    ["GET", new Response("", { status: 503 }), false],
  ];
  deepEqual(cases.map(([m, r]) => retryable(m, r, []).retry), cases.map(([, , want]) => want));
  equal(retryable("GET", new Response("", { status: 503 }), [503]).retry, true);
  equal(retryable("PATCH", new Response("", { status: 503 }), [503]).retry, false);
});

Deno.test("retry options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(retryPlugin);
  const bad = registry.resolve({ retry: { attempts: 0, initialInterval: "soon" } });
  ok(!bad.ok);
  ok(bad.error.includes("'retry.attempts'"), bad.error);
  ok(bad.error.includes("'retry.initialInterval'"), bad.error);
  const good = retryConfig.parse({ attempts: 4, initialInterval: "50ms" });
  equal(good.initialInterval, 50);
});

Deno.test("retry() attempts made after a reload run on the live configuration's servers", async () => {
  // The old server holds every request, then resets it once the test says so.
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  let gotRequest!: () => void;
  const requestArrived = new Promise<void>((r) => gotRequest = r);
  (async () => {
    for await (const conn of listener) {
      held.push(conn);
      await conn.read(new Uint8Array(4096)).catch(() => null);
      gotRequest();
    }
  })().catch(() => {});
  const oldUrl = `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`;
  await using fresh = await upstream("replacement");
  let emit!: (m: import("../../src/provider/provider.ts").ConfigMessage) => void;
  const provider = {
    name: "file",
    run(e: typeof emit, signal: AbortSignal) {
      emit = e;
      e({ provider: "file", config: withRetry({ s: lbService([oldUrl]) }) });
      return new Promise<void>((r) => signal.addEventListener("abort", () => r()));
    },
  };
  try {
    await using p = await startPacer({ providers: [provider] });
    const pending = p.request("x.test", "/");
    await requestArrived;
    emit({ provider: "file", config: withRetry({ s: lbService([fresh.url]) }) });
    await p.pacer.settled();
    for (const conn of held) conn.close(); // the old server dies mid-request
    const res = await pending;
    equal(res.status, 200);
    equal(await res.text(), "replacement");
  } finally {
    listener.close();
    for (const conn of held) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
  }
});
