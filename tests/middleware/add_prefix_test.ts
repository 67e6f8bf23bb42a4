import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/add_prefix/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ addPrefix: raw });
}

function echo(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", async (c) => {
    const url = new URL(c.req.raw.url);
    return c.json({
      path: url.pathname,
      search: url.search,
      reqPath: c.req.path,
      method: c.req.method,
      body: await c.req.raw.text(),
    });
  });
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return echo(await createFromRaw(plugin, raw));
}

// Traefik's pkg/middlewares/addprefix/add_prefix_test.go.
const cases = [
  { desc: "works with a regular path", prefix: "/a", path: "/b", expected: "/a/b" },
  { desc: "works with missing leading slash", prefix: "a", path: "/", expected: "/a/" },
  { desc: "works with a raw path", prefix: "/a", path: "/b%2Fc", expected: "/a/b%2Fc" },
  { desc: "keeps a trailing slash of the prefix", prefix: "/a/", path: "/b", expected: "/a//b" },
  {
    desc: "escapes what a path cannot hold",
    prefix: "/my app",
    path: "/x",
    expected: "/my%20app/x",
  },
];

Deno.test("addPrefix() adds the prefix to the path (Traefik's table)", async () => {
  for (const test of cases) {
    const app = await build({ prefix: test.prefix });
    const body = await (await app.request(`http://localhost${test.path}`)).json();
    assert.equal(body.path, test.expected, test.desc);
    assert.equal(body.reqPath, test.expected, `${test.desc} (c.req.path)`);
  }
});

Deno.test("addPrefix() keeps the query, method and body", async () => {
  const app = await build({ prefix: "/api" });
  const res = await app.request("http://localhost/items?page=2", { method: "POST", body: "hello" });
  const body = await res.json();
  assert.deepEqual(body, {
    path: "/api/items",
    search: "?page=2",
    reqPath: "/api/items",
    method: "POST",
    body: "hello",
  });
});

Deno.test("addPrefix() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /'addPrefix\.prefix'/],
    [{ prefix: "" }, /'addPrefix\.prefix': prefix cannot be empty/],
    [{ prefix: 3 }, /'addPrefix\.prefix'/],
    [{ prefix: "/a", prefixes: ["/b"] }, /unknown option 'prefixes'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
