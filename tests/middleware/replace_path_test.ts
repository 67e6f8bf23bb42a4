import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/replace_path/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ replacePath: raw });
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
      replaced: c.req.raw.headers.get("x-replaced-path"),
    });
  });
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return echo(await createFromRaw(plugin, raw));
}

// Traefik's pkg/middlewares/replacepath/replace_path_test.go.
const cases = [
  {
    desc: "simple path",
    path: "/example",
    replacement: "/replacement-path",
    expected: "/replacement-path",
    header: "/example",
  },
  {
    desc: "long path",
    path: "/some/really/long/path",
    replacement: "/replacement-path",
    expected: "/replacement-path",
    header: "/some/really/long/path",
  },
  {
    desc: "path with escaped value",
    path: "/foo%2Fbar",
    replacement: "/replacement-path",
    expected: "/replacement-path",
    header: "/foo%2Fbar",
  },
  {
    desc: "replacement with escaped value",
    path: "/path",
    replacement: "/foo%2Fbar",
    expected: "/foo%2Fbar",
    header: "/path",
  },
  {
    desc: "replacement with percent encoded backspace char",
    path: "/path/%08bar",
    replacement: "/path/%08bar",
    expected: "/path/%08bar",
    header: "/path/%08bar",
  },
];

Deno.test("replacePath() replaces the path and sets X-Replaced-Path (Traefik's table)", async () => {
  for (const test of cases) {
    const app = await build({ path: test.replacement });
    const body = await (await app.request(`http://localhost${test.path}`)).json();
    assert.equal(body.path, test.expected, test.desc);
    assert.equal(body.reqPath, test.expected, `${test.desc} (c.req.path)`);
    assert.equal(body.replaced, test.header, test.desc);
  }
});

Deno.test("replacePath() keeps the query string", async () => {
  const app = await build({ path: "/new" });
  const body = await (await app.request("http://localhost/old?a=1")).json();
  assert.equal(body.path, "/new");
  assert.equal(body.search, "?a=1");
});

Deno.test("replacePath() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /'replacePath\.path'/],
    [{ path: "" }, /'replacePath\.path': path cannot be empty/],
    [{ path: "/a%zzb" }, /'replacePath\.path': invalid URL escape "%zz"/],
    [{ path: "/a", regex: "x" }, /unknown option 'regex'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
