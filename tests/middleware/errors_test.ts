import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Handler } from "hono";
import type { ServiceCall } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin, { type ErrorsConfig, parseStatusRanges } from "../../src/middleware/errors/mod.ts";
import { testContext } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ errors: raw });
}

/** What the error page service saw, per call. */
interface PageCall {
  method: string;
  url: string;
  host: string | null;
  cookie: string | null;
  body: string;
}

/** The error page service: a small Hono app, called as `ctx.service()` would. */
function pageService(calls: PageCall[], page: Handler = defaultPage): ServiceCall {
  const app = new Hono();
  app.all("*", async (c, next) => {
    calls.push({
      method: c.req.method,
      url: c.req.url,
      host: c.req.header("host") ?? null,
      cookie: c.req.header("cookie") ?? null,
      body: await c.req.text(),
    });
    await next();
  });
  app.all("*", page);
  return (_c, request) => Promise.resolve(app.fetch(request));
}

const defaultPage: Handler = (c) => {
  c.header("x-page", "1");
  return c.text(
    `My error page for ${new URL(c.req.url).pathname}${new URL(c.req.url).search}`,
    200,
  );
};

/** A backend answering `status` with its reason phrase and its own header. */
function backend(status: number): Handler {
  return () =>
    new Response(status === 304 ? null : `backend ${status}`, {
      status,
      headers: { "x-backend": "1", "content-type": "text/plain" },
    });
}

async function build(
  raw: Record<string, unknown>,
  next: Handler,
  service: ServiceCall,
): Promise<Hono> {
  const resolved = resolve({ service: "error", ...raw });
  assert.ok(resolved.ok, resolved.ok ? "" : resolved.error);
  const ctx = testContext({ service: (name) => name === "error" ? service : undefined });
  const app = new Hono();
  app.use(await plugin.create(resolved.options as ErrorsConfig, ctx));
  app.all("*", next);
  return app;
}

function get(app: Hono, init: RequestInit = {}): Promise<Response> {
  return Promise.resolve(app.request("http://localhost/test?foo=bar&baz=buz", init));
}

// Traefik's pkg/middlewares/customerrors/custom_errors_test.go TestHandler.
Deno.test("errors() serves the page for statuses in range (Traefik's table)", async () => {
  const cases: {
    desc: string;
    config: Record<string, unknown>;
    code: number;
    body: string;
    pageURL?: string;
  }[] = [
    {
      desc: "no error",
      config: { query: "/test", status: ["500-501", "503-599"] },
      code: 200,
      body: "backend 200",
    },
    {
      desc: "no error, but not a 200",
      config: { query: "/test", status: ["500-501", "503-599"] },
      code: 206,
      body: "backend 206",
    },
    {
      desc: "a 304, so no Write called",
      config: { query: "/test", status: ["500-501", "503-599"] },
      code: 304,
      body: "",
    },
    {
      desc: "in the range",
      config: { query: "/test", status: ["500-501", "503-599"] },
      code: 500,
      body: "My error page for /test",
      pageURL: "http://localhost/test",
    },
    {
      desc: "not in the range",
      config: { query: "/test", status: ["500-501", "503-599"] },
      code: 502,
      body: "backend 502",
    },
    {
      desc: "query replacement",
      config: { query: "/{status}", status: ["503-503"] },
      code: 503,
      body: "My error page for /503",
      pageURL: "http://localhost/503",
    },
    {
      desc: "single code and query replacement",
      config: { query: "/{status}", status: ["503"] },
      code: 503,
      body: "My error page for /503",
    },
    {
      desc: "query without a leading slash",
      config: { query: "{status}.html", status: ["404"] },
      code: 404,
      body: "My error page for /404.html",
    },
    {
      desc: "full query replacement",
      config: { query: "/?status={status}&url={url}", status: ["503"] },
      code: 503,
      body:
        "My error page for /?status=503&url=http%3A%2F%2Flocalhost%2Ftest%3Ffoo%3Dbar%26baz%3Dbuz",
    },
    {
      desc: "no query: the root",
      config: { status: ["500"] },
      code: 500,
      body: "My error page for /",
    },
    {
      desc: "numbers and lists, as YAML and labels give them",
      config: { status: [418, "500,503"] },
      code: 418,
      body: "My error page for /",
    },
  ];
  for (const test of cases) {
    const calls: PageCall[] = [];
    const app = await build(test.config, backend(test.code), pageService(calls));
    const res = await get(app);
    assert.equal(res.status, test.code, test.desc);
    assert.equal(await res.text(), test.body, test.desc);
    const caught = test.body.startsWith("My error page");
    assert.equal(calls.length, caught ? 1 : 0, test.desc);
    assert.equal(res.headers.get("x-page"), caught ? "1" : null, `${test.desc}: page headers`);
    assert.equal(
      res.headers.get("x-backend"),
      caught ? null : "1",
      `${test.desc}: backend headers`,
    );
    if (test.pageURL) assert.equal(calls[0]?.url, test.pageURL, test.desc);
  }
});

Deno.test("errors() asks the page with a GET carrying the client's headers, not its body", async () => {
  const calls: PageCall[] = [];
  const app = await build(
    { status: ["500-599"], query: "/oops" },
    backend(500),
    pageService(calls),
  );
  const res = await app.request("http://shop.example:8080/cart", {
    method: "POST",
    body: "order=1",
    headers: { cookie: "session=abc", host: "shop.example:8080" },
  });
  assert.equal(res.status, 500);
  await res.body?.cancel();
  assert.deepEqual(calls, [{
    method: "GET",
    url: "http://shop.example:8080/oops",
    host: "shop.example:8080",
    cookie: "session=abc",
    body: "",
  }]);
});

Deno.test("errors() rewrites statuses with statusRewrites (Traefik v3.4)", async () => {
  const cases: { code: number; expected: number; path: string }[] = [
    { code: 418, expected: 404, path: "/404-418.html" },
    { code: 503, expected: 500, path: "/500-503.html" },
    { code: 500, expected: 500, path: "/500-500.html" },
  ];
  for (const test of cases) {
    const calls: PageCall[] = [];
    const app = await build(
      {
        status: ["418", "500-599"],
        statusRewrites: { "418": 404, "502-504": "500" },
        query: "/{status}-{originalStatus}.html",
      },
      backend(test.code),
      pageService(calls),
    );
    const res = await get(app);
    assert.equal(res.status, test.expected, String(test.code));
    assert.equal(await res.text(), `My error page for ${test.path}`, String(test.code));
  }
});

Deno.test("errors() releases the caught response's body", async () => {
  let cancelled = false;
  const next: Handler = () =>
    new Response(
      new ReadableStream({
        pull(controller) {
          controller.enqueue(new TextEncoder().encode("chunk"));
        },
        cancel() {
          cancelled = true;
        },
      }),
      { status: 502 },
    );
  const app = await build({ status: ["502"] }, next, pageService([]));
  const res = await get(app);
  assert.equal(res.status, 502);
  assert.equal(await res.text(), "My error page for /");
  assert.equal(cancelled, true);
});

Deno.test("errors() answers the status text when the page service fails", async () => {
  const failing: ServiceCall = () => Promise.reject(new Error("connection refused"));
  const app = await build({ status: ["503"] }, backend(503), failing);
  const res = await get(app);
  assert.equal(res.status, 503);
  assert.equal(await res.text(), "Service Unavailable");
});

Deno.test("errors() cannot be built without its service", async () => {
  const resolved = resolve({ status: ["500"], service: "missing" });
  assert.ok(resolved.ok);
  await assert.rejects(
    async () => await plugin.create(resolved.options as ErrorsConfig, testContext()),
    /Cannot create errors middleware as service 'missing' does not exist/,
  );
});

Deno.test("parseStatusRanges() reads Traefik's status syntax", () => {
  assert.deepEqual(parseStatusRanges(["404,418", "500-599", 302]), [[404, 404], [418, 418], [
    500,
    599,
  ], [302, 302]]);
  assert.throws(() => parseStatusRanges(["5xx"]), RangeError);
});

Deno.test("errors() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{ status: ["500"] }, /'errors\.service'/],
    [{ status: ["500"], service: "" }, /'errors\.service': service is required/],
    [
      { status: ["5xx"], service: "e" },
      /'errors\.status\[0\]': '5xx' is not a status code or range/,
    ],
    [
      { status: ["404", "500-700"], service: "e" },
      /'errors\.status\[1\]': '500-700' is outside 100-599/,
    ],
    [{ status: ["599-500"], service: "e" }, /'errors\.status\[0\]': '599-500' is an empty range/],
    [{ status: "500", service: "e" }, /'errors\.status'/],
    [
      { status: ["500"], service: "e", statusRewrites: { abc: 404 } },
      /'errors\.statusRewrites\.abc': 'abc' is not a status code/,
    ],
    [
      { status: ["500"], service: "e", statusRewrites: { "418": 42 } },
      /'errors\.statusRewrites\.418': must be a status code/,
    ],
    [
      { status: ["500"], service: "e", statusRewrites: { "418": "x" } },
      /'errors\.statusRewrites\.418'/,
    ],
    [{ status: ["500"], service: "e", backend: "old" }, /unknown option 'backend'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
