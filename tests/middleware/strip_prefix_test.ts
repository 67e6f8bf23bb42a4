import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/strip_prefix/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ stripPrefix: raw });
}

function echo(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", (c) => {
    const url = new URL(c.req.raw.url);
    return c.json({
      path: url.pathname,
      search: url.search,
      reqPath: c.req.path,
      prefix: c.req.raw.headers.get("x-forwarded-prefix"),
    });
  });
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return echo(await createFromRaw(plugin, raw));
}

// Traefik's pkg/middlewares/stripprefix/strip_prefix_test.go, with Pacer's
// default forceSlash: true (an empty path is "/" in a URL either way).
const cases: {
  desc: string;
  config: Record<string, unknown>;
  path: string;
  expectedPath: string;
  expectedHeader: string | null;
}[] = [
  {
    desc: "wildcard (.*) requests",
    config: { prefixes: ["/"] },
    path: "/",
    expectedPath: "/",
    expectedHeader: "/",
  },
  {
    desc: "wildcard (.*) requests without forceSlash",
    config: { prefixes: ["/"], forceSlash: false },
    path: "/",
    expectedPath: "/",
    expectedHeader: "/",
  },
  {
    desc: "prefix and path matching",
    config: { prefixes: ["/stat"] },
    path: "/stat",
    expectedPath: "/",
    expectedHeader: "/stat",
  },
  {
    desc: "path prefix on exactly matching path",
    config: { prefixes: ["/stat/"] },
    path: "/stat/",
    expectedPath: "/",
    expectedHeader: "/stat/",
  },
  {
    desc: "path prefix on matching longer path",
    config: { prefixes: ["/stat/"] },
    path: "/stat/us",
    expectedPath: "/us",
    expectedHeader: "/stat/",
  },
  {
    desc: "path prefix on mismatching path",
    config: { prefixes: ["/stat/"] },
    path: "/status",
    expectedPath: "/status",
    expectedHeader: null,
  },
  {
    desc: "general prefix on matching path",
    config: { prefixes: ["/stat"] },
    path: "/stat/",
    expectedPath: "/",
    expectedHeader: "/stat",
  },
  {
    desc: "earlier prefix matching",
    config: { prefixes: ["/stat", "/stat/us"] },
    path: "/stat/us",
    expectedPath: "/us",
    expectedHeader: "/stat",
  },
  {
    desc: "later prefix matching",
    config: { prefixes: ["/mismatch", "/stat"] },
    path: "/stat",
    expectedPath: "/",
    expectedHeader: "/stat",
  },
  {
    desc: "prefix matching within slash boundaries",
    config: { prefixes: ["/stat"] },
    path: "/status",
    expectedPath: "/us",
    expectedHeader: "/stat",
  },
  {
    desc: "raw path is also stripped",
    config: { prefixes: ["/stat"] },
    path: "/stat/a%2Fb",
    expectedPath: "/a%2Fb",
    expectedHeader: "/stat",
  },
  {
    desc: "prefix matched against the decoded path keeps the rest escaped",
    config: { prefixes: ["/a/b"] },
    path: "/a%2Fb/c%20d",
    expectedPath: "/c%20d",
    expectedHeader: "/a/b",
  },
  {
    desc: "non-ASCII prefix",
    config: { prefixes: ["/café"] },
    path: "/caf%C3%A9/menu",
    expectedPath: "/menu",
    expectedHeader: "/caf\u00c3\u00a9", // UTF-8 bytes on the wire, as Go sends them
  },
  {
    desc: "a double slash after the prefix stays (Traefik trims one slash, then adds one)",
    config: { prefixes: ["/api"] },
    path: "/api//x",
    expectedPath: "//x",
    expectedHeader: "/api",
  },
  {
    desc: "a double slash after the prefix stays without forceSlash",
    config: { prefixes: ["/api"], forceSlash: false },
    path: "/api//x",
    expectedPath: "//x",
    expectedHeader: "/api",
  },
];

Deno.test("stripPrefix() strips the first matching prefix (Traefik's table)", async () => {
  for (const test of cases) {
    const app = await build(test.config);
    const res = await app.request(`http://localhost${test.path}`);
    assert.equal(res.status, 200, test.desc);
    const body = await res.json();
    assert.equal(body.path, test.expectedPath, test.desc);
    assert.equal(body.reqPath, test.expectedPath, `${test.desc} (c.req.path)`);
    assert.equal(body.prefix, test.expectedHeader, test.desc);
  }
});

Deno.test("stripPrefix() keeps the query and appends to an existing X-Forwarded-Prefix", async () => {
  const app = await build({ prefixes: ["/api"] });
  const res = await app.request("http://localhost/api/users?id=1&x=%20", {
    headers: { "x-forwarded-prefix": "/outer" },
  });
  const body = await res.json();
  assert.equal(body.path, "/users");
  assert.equal(body.search, "?id=1&x=%20");
  assert.equal(body.prefix, "/outer, /api");
});

Deno.test("stripPrefix() accepts Traefik's option names in any case", async () => {
  const app = await build({ PREFIXES: ["/v1"], forceslash: false });
  const body = await (await app.request("http://localhost/v1/x")).json();
  assert.equal(body.path, "/x");
});

Deno.test("stripPrefix() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /'stripPrefix\.prefixes'/],
    [{ prefixes: [] }, /'stripPrefix\.prefixes': prefixes is empty/],
    [{ prefixes: [""] }, /'stripPrefix\.prefixes\[0\]': a prefix cannot be empty/],
    [{ prefixes: "/api" }, /'stripPrefix\.prefixes'/],
    [{ prefixes: ["/a"], forceSlash: "yes" }, /'stripPrefix\.forceSlash'/],
    [{ prefixes: ["/a"], prefix: "/b" }, /unknown option 'prefix'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
