import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/strip_prefix_regex/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ stripPrefixRegex: raw });
}

function echo(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", (c) =>
    c.json({
      path: new URL(c.req.raw.url).pathname,
      prefix: c.req.raw.headers.get("x-forwarded-prefix"),
    }));
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return echo(await createFromRaw(plugin, raw));
}

// Traefik's pkg/middlewares/stripprefixregex/strip_prefix_regex_test.go
// (an empty stripped path is "/" in a URL).
const cases: [path: string, expectedPath: string, expectedHeader: string | null][] = [
  ["/a/test", "/a/test", null],
  ["/a/test/", "/a/test/", null],
  ["/a/api/", "/", "/a/api/"],
  ["/a/api/test", "/test", "/a/api/"],
  ["/a/api/test/", "/test/", "/a/api/"],
  ["/b/api/", "/", "/b/api/"],
  ["/b/api", "/b/api", null],
  ["/b/api/test1", "/test1", "/b/api/"],
  ["/b/api2/test2", "/test2", "/b/api2/"],
  ["/c/api/123/", "/", "/c/api/123/"],
  ["/c/api/123", "/c/api/123", null],
  ["/c/api/123/test3", "/test3", "/c/api/123/"],
  ["/c/api/abc/test4", "/c/api/abc/test4", null],
  ["/a/api/a%2Fb", "/a%2Fb", "/a/api/"],
];

Deno.test("stripPrefixRegex() strips the matched prefix (Traefik's table)", async () => {
  const app = await build({ regex: ["/a/api/", "/b/([a-z0-9]+)/", "/c/[a-z0-9]+/[0-9]+/"] });
  for (const [path, expectedPath, expectedHeader] of cases) {
    const body = await (await app.request(`http://localhost${path}`)).json();
    assert.equal(body.path, expectedPath, path);
    assert.equal(body.prefix, expectedHeader, path);
  }
});

Deno.test("stripPrefixRegex() only strips a match at the start of the path", async () => {
  const app = await build({ regex: ["/api/"] });
  const body = await (await app.request("http://localhost/v1/api/x")).json();
  assert.equal(body.path, "/v1/api/x");
  assert.equal(body.prefix, null);
});

Deno.test("stripPrefixRegex() reads Go syntax: named groups and flags", async () => {
  const app = await build({ regex: [" (?i)/(?P<tenant>[a-z]+)/v[[:digit:]]+/ "] });
  const body = await (await app.request("http://localhost/ACME/V2/orders")).json();
  assert.equal(body.path, "/orders");
  assert.equal(body.prefix, "/ACME/V2/");
});

Deno.test("stripPrefixRegex() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /'stripPrefixRegex\.regex'/],
    [{ regex: [] }, /'stripPrefixRegex\.regex': regex is empty/],
    [
      { regex: ["/ok/", "a(b"] },
      /'stripPrefixRegex\.regex\[1\]': invalid regular expression "a\(b"/,
    ],
    // Go's messages (RE2 has no backreferences or lookaround).
    [{ regex: ["(a)\\1"] }, /'stripPrefixRegex\.regex\[0\]': .*invalid escape sequence/],
    [
      { regex: ["/a(?=b)"] },
      /'stripPrefixRegex\.regex\[0\]': .*invalid or unsupported Perl syntax/,
    ],
    [{ regex: ["/a"], prefixes: ["/b"] }, /unknown option 'prefixes'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
