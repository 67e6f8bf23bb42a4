import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/replace_path_regex/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ replacePathRegex: raw });
}

function echo(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", (c) =>
    c.json({
      path: new URL(c.req.raw.url).pathname,
      replaced: c.req.raw.headers.get("x-replaced-path"),
    }));
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return echo(await createFromRaw(plugin, raw));
}

// Traefik's pkg/middlewares/replacepathregex/replace_path_regex_test.go, plus
// Go template cases.
const cases: {
  desc: string;
  path: string;
  regex: string;
  replacement: string;
  expected: string;
  header: string | null;
}[] = [
  {
    desc: "simple regex",
    path: "/whoami/and/whoami",
    regex: "^/whoami/(.*)",
    replacement: "/who-am-i/$1",
    expected: "/who-am-i/and/whoami",
    header: "/whoami/and/whoami",
  },
  {
    desc: "simple replace (no regex)",
    path: "/whoami/and/whoami",
    regex: "/whoami",
    replacement: "/who-am-i",
    expected: "/who-am-i/and/who-am-i",
    header: "/whoami/and/whoami",
  },
  {
    desc: "no match",
    path: "/whoami/and/whoami",
    regex: "/no-match",
    replacement: "/whoami",
    expected: "/whoami/and/whoami",
    header: null,
  },
  {
    desc: "multiple replacement",
    path: "/downloads/src/source.go",
    regex: "^(?i)/downloads/([^/]+)/([^/]+)$",
    replacement: "/downloads/$1-$2",
    expected: "/downloads/src-source.go",
    header: "/downloads/src/source.go",
  },
  {
    desc: "replacement with escaped char",
    path: "/aaa/bbb",
    regex: "/aaa/bbb",
    replacement: "/foo%2Fbar",
    expected: "/foo%2Fbar",
    header: "/aaa/bbb",
  },
  {
    desc: "path and regex with escaped char",
    path: "/aaa%2Fbbb",
    regex: "/aaa%2Fbbb",
    replacement: "/foo/bar",
    expected: "/foo/bar",
    header: "/aaa%2Fbbb",
  },
  {
    desc: "path with escaped char (no match)",
    path: "/aaa%2Fbbb",
    regex: "/aaa/bbb",
    replacement: "/foo/bar",
    expected: "/aaa%2Fbbb",
    header: null,
  },
  {
    desc: "path with percent encoded backspace char",
    path: "/foo/%08bar",
    regex: "^/foo/(.*)",
    replacement: "/$1",
    expected: "/%08bar",
    header: "/foo/%08bar",
  },
  {
    desc: "braced group before letters",
    path: "/v1/x",
    regex: "^/v(\\d)/(.*)",
    replacement: "/${1}api/$2",
    expected: "/1api/x",
    header: "/v1/x",
  },
  {
    desc: "Go reads $1api as the (missing) group 1api",
    path: "/v1/x",
    regex: "^/v(\\d)/(.*)",
    replacement: "/$1api/$2",
    expected: "//x",
    header: "/v1/x",
  },
  {
    desc: "named groups and $$",
    path: "/u/42",
    regex: "^/u/(?P<id>\\d+)$",
    replacement: "/users/${id}/$$",
    expected: "/users/42/$",
    header: "/u/42",
  },
];

Deno.test("replacePathRegex() rewrites matching paths (Traefik's table)", async () => {
  for (const test of cases) {
    const app = await build({ regex: test.regex, replacement: test.replacement });
    const body = await (await app.request(`http://localhost${test.path}`)).json();
    assert.equal(body.path, test.expected, test.desc);
    assert.equal(body.replaced, test.header, test.desc);
  }
});

Deno.test("replacePathRegex() answers 500 when the result has a malformed escape", async () => {
  const app = await build({ regex: "^/bad/(.*)", replacement: "/%zz$1" });
  const res = await app.request("http://localhost/bad/x");
  assert.equal(res.status, 500);
  assert.match(await res.text(), /invalid URL escape/);
});

Deno.test("replacePathRegex() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{ replacement: "/x" }, /'replacePathRegex\.regex'/],
    [{ regex: "^/a" }, /'replacePathRegex\.replacement'/],
    [
      { regex: "^(?err)/invalid/regexp/([^/]+)$", replacement: "/valid/$1" },
      /'replacePathRegex\.regex': invalid regular expression/,
    ],
    [{ regex: "^/a", replacement: "/b", permanent: true }, /unknown option 'permanent'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
