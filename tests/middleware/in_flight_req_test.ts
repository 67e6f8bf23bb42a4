import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import inFlightReqPlugin, {
  inFlightReq,
  inFlightReqConfig,
} from "../../src/middleware/in_flight_req/mod.ts";

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => resolve = r);
  return { promise, resolve };
}

/** An app whose handler waits for `gate` (when given) before answering. */
function appWith(raw: unknown, handler?: () => Promise<Response> | Response): Hono {
  const app = new Hono();
  app.onError((_error, c) => c.text("Internal Server Error", 500)); // quiet: no console output
  app.use(inFlightReq(inFlightReqConfig.parse(raw)));
  app.all("*", () => handler ? handler() : new Response("ok"));
  return app;
}

function req(app: Hono, ip = "10.0.0.1", url = "http://svc.example/"): Promise<Response> {
  return Promise.resolve(app.request(url, {}, pacerEnv(ip)));
}

Deno.test("inFlightReq() answers 429 past amount while requests are in flight", async () => {
  const gate = deferred();
  const app = appWith({ amount: 2 }, async () => {
    await gate.promise;
    return new Response("ok");
  });
  const first = req(app);
  const second = req(app);
  const third = await req(app);
  assert.equal(third.status, 429);
  assert.equal(await third.text(), "max connections reached: 2");
  gate.resolve();
  for (const res of await Promise.all([first, second])) assert.equal(await res.text(), "ok");
  const after = await req(app);
  assert.equal(after.status, 200);
  await after.body?.cancel();
});

Deno.test("inFlightReq() counts a request until its response body finishes streaming", async () => {
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const app = appWith({ amount: 1 }, () =>
    new Response(
      new ReadableStream<Uint8Array>({ start: (c) => void (push = c) }),
      { headers: { "x-kept": "yes" } },
    ));
  const streaming = await req(app);
  assert.equal(streaming.status, 200);
  assert.equal(streaming.headers.get("x-kept"), "yes");

  const blocked = await req(app);
  assert.equal(blocked.status, 429, "headers sent, body still streaming: still in flight");
  await blocked.body?.cancel();

  push.enqueue(new TextEncoder().encode("part"));
  push.close();
  assert.equal(await streaming.text(), "part");

  const after = await req(app, "10.0.0.1");
  assert.equal(after.status, 200, "body done: slot free");
  // This one is never read to the end: cancelling it frees the slot too.
  await after.body?.cancel();
  const again = await req(app);
  assert.equal(again.status, 200);
  push.close();
  await again.body?.cancel();
});

Deno.test("inFlightReq() frees the slot when the body stream fails", async () => {
  let push!: ReadableStreamDefaultController<Uint8Array>;
  const app = appWith(
    { amount: 1 },
    () => new Response(new ReadableStream<Uint8Array>({ start: (c) => void (push = c) })),
  );
  const res = await req(app);
  push.error(new Error("upstream reset"));
  await assert.rejects(res.text());
  const next = await req(app);
  assert.equal(next.status, 200);
  push.close();
  await next.body?.cancel();
});

Deno.test("inFlightReq() frees the slot when the handler fails", async () => {
  let fail = true;
  const app = appWith({ amount: 1 }, () => {
    if (fail) throw new Error("boom");
    return new Response("ok");
  });
  const failed = await req(app);
  assert.equal(failed.status, 500);
  await failed.body?.cancel();
  fail = false;
  const ok = await req(app);
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
});

Deno.test("inFlightReq() groups by request host by default, or by sourceCriterion", async () => {
  const gate = deferred();
  const handler = async () => {
    await gate.promise;
    return new Response(null, { status: 204 });
  };
  const byHost = appWith({ amount: 1 }, handler);
  const held = req(byHost, "10.0.0.1", "http://a.example/");
  const otherIPSameHost = await req(byHost, "10.0.0.2", "http://a.example/");
  assert.equal(otherIPSameHost.status, 429);
  await otherIPSameHost.body?.cancel();
  const otherHost = req(byHost, "10.0.0.1", "http://b.example/");

  const byIP = appWith({ amount: 1, sourceCriterion: { ipStrategy: {} } }, handler);
  const ipHeld = req(byIP, "10.0.0.1", "http://a.example/");
  const sameIPOtherHost = await req(byIP, "10.0.0.1", "http://b.example/");
  assert.equal(sameIPOtherHost.status, 429);
  await sameIPOtherHost.body?.cancel();
  const otherIP = req(byIP, "10.0.0.2", "http://a.example/");

  gate.resolve();
  for (const res of await Promise.all([held, otherHost, ipHeld, otherIP])) {
    assert.equal(res.status, 204);
  }
  const free = await req(byHost, "10.0.0.3", "http://a.example/");
  assert.equal(free.status, 204, "a bodiless response frees the slot at once");
});

Deno.test("inFlightReq() options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(inFlightReqPlugin);
  const cases: { raw: unknown; want: RegExp }[] = [
    { raw: {}, want: /'inFlightReq\.amount'/ },
    { raw: { amount: 0 }, want: /'inFlightReq\.amount'/ },
    { raw: { amount: "ten" }, want: /'inFlightReq\.amount'/ },
    {
      raw: { amount: 1, sourceCriterion: { ipStrategy: {}, requestHost: true } },
      want: /'inFlightReq\.sourceCriterion': iPStrategy and RequestHost are mutually exclusive/,
    },
    { raw: { amount: 1, max: 2 }, want: /unknown option 'max'/ },
  ];
  for (const { raw, want } of cases) {
    const result = registry.resolve({ inFlightReq: raw });
    assert.equal(result.ok, false, JSON.stringify(raw));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({
    inflightreq: { AMOUNT: 5, sourcecriterion: { RequestHeaderName: "X-Key" } },
  });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: unknown }).options, {
    amount: 5,
    sourceCriterion: { requestHeaderName: "X-Key" },
  });
});
