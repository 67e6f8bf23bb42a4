import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/redirect_regex/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ redirectRegex: raw });
}

function app(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", (c) => c.text("next"));
  return app;
}

async function build(raw: unknown): Promise<Hono> {
  return app(await createFromRaw(plugin, raw));
}

function send(
  app: Hono,
  url: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const target = new URL(url);
  const authority = url.replace(/^[a-z]+:\/\//, "").replace(/[/?].*$/, "");
  return Promise.resolve(
    app.request(
      target.href,
      { method: init.method ?? "GET", headers: { host: authority, ...init.headers } },
      pacerEnv("10.0.0.1", { tls: target.protocol === "https:" }),
    ),
  );
}

// Traefik's pkg/middlewares/redirect/redirect_regex_test.go. A request target
// always has a path, so URLs end with "/".
const cases: {
  desc: string;
  config: Record<string, unknown>;
  url: string;
  method?: string;
  headers?: Record<string, string>;
  location?: string;
  status: number;
}[] = [
  {
    desc: "simple redirection",
    config: {
      regex: "^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$",
      replacement: "https://${1}bar$2:443$4",
    },
    url: "http://foo.com:80",
    location: "https://foobar.com:443/",
    status: 302,
  },
  {
    desc: "URL doesn't match regex",
    config: {
      regex: "^(?:http?:\\/\\/)(foo)(\\.com)(:\\d+)(.*)$",
      replacement: "https://${1}bar$2:443$4",
    },
    url: "http://bar.com:80",
    status: 200,
  },
  {
    desc: "invalid rewritten URL",
    config: { regex: "^(.*)$", replacement: "http://exa mple.com/" },
    url: "http://foo.com:80",
    status: 502,
  },
  {
    desc: "HTTP to HTTPS permanent",
    config: { regex: "^http://", replacement: "https://$1", permanent: true },
    url: "http://foo",
    location: "https://foo/",
    status: 301,
  },
  {
    desc: "HTTPS to HTTP permanent",
    config: { regex: "https://foo", replacement: "http://foo", permanent: true },
    url: "https://foo",
    location: "http://foo/",
    status: 301,
  },
  {
    desc: "HTTP to HTTPS",
    config: { regex: "http://foo:80", replacement: "https://foo:443" },
    url: "http://foo:80",
    location: "https://foo:443/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto (ignored)",
    config: { regex: "http://foo:80", replacement: "https://foo:443" },
    url: "http://foo:80",
    headers: { "X-Forwarded-Proto": "https" },
    location: "https://foo:443/",
    status: 302,
  },
  {
    desc: "HTTPS to HTTP",
    config: { regex: "https://foo:443", replacement: "http://foo:80" },
    url: "https://foo:443",
    location: "http://foo:80/",
    status: 302,
  },
  {
    desc: "HTTP to HTTP",
    config: { regex: "http://foo:80", replacement: "http://foo:88" },
    url: "http://foo:80",
    location: "http://foo:88/",
    status: 302,
  },
  {
    desc: "HTTP to HTTP POST",
    config: { regex: "^http://", replacement: "https://$1" },
    url: "http://foo",
    method: "POST",
    location: "https://foo/",
    status: 307,
  },
  {
    desc: "HTTP to HTTP POST permanent",
    config: { regex: "^http://", replacement: "https://$1", permanent: true },
    url: "http://foo",
    method: "POST",
    location: "https://foo/",
    status: 308,
  },
  {
    desc: "an unchanged URL is passed on, not redirected",
    config: { regex: "^http://foo/(.*)", replacement: "http://foo/$1" },
    url: "http://foo/x?y=1",
    status: 200,
  },
  {
    desc: "path and query take part in the match",
    config: { regex: "^https?://([^/]+)/old/(?P<rest>.*)", replacement: "https://$1/new/${rest}" },
    url: "http://example.com:8080/old/a/b?c=d",
    location: "https://example.com:8080/new/a/b?c=d",
    status: 302,
  },
  {
    desc: "Go's \\A, \\z, POSIX classes and inline flags",
    config: { regex: "\\Ahttp://(?i)WWW\\.([[:alnum:].]+)/\\z", replacement: "https://$1/" },
    url: "http://www.example.org/",
    location: "https://example.org/",
    status: 302,
  },
];

Deno.test("redirectRegex() redirects to the rewritten URL (Traefik's table)", async () => {
  for (const test of cases) {
    const app = await build(test.config);
    const init: { method?: string; headers?: Record<string, string> } = {};
    if (test.method) init.method = test.method;
    if (test.headers) init.headers = test.headers;
    const res = await send(app, test.url, init);
    assert.equal(res.status, test.status, test.desc);
    assert.equal(res.headers.get("location"), test.location ?? null, test.desc);
    const body = await res.text();
    if (test.status === 200) assert.equal(body, "next", test.desc);
  }
});

Deno.test("redirectRegex() answers with the status text, as Traefik does", async () => {
  const app = await build({ regex: "^http://", replacement: "https://" });
  const res = await send(app, "http://foo/");
  assert.equal(res.status, 302);
  assert.equal(await res.text(), "Found");
});

Deno.test("redirectRegex() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{ replacement: "https://x" }, /'redirectRegex\.regex'/],
    [
      { regex: "^(.*", replacement: "$1" },
      /'redirectRegex\.regex': invalid regular expression "\^\(\.\*"/,
    ],
    [{ regex: "^http://" }, /'redirectRegex\.replacement'/],
    [
      { regex: "^http://", replacement: "" },
      /'redirectRegex\.replacement': replacement cannot be empty/,
    ],
    [{ regex: "^http://", replacement: "https://", permanent: 1 }, /'redirectRegex\.permanent'/],
    [{ regex: "^http://", replacement: "https://", scheme: "https" }, /unknown option 'scheme'/],
    // Go rejects what RE2 cannot do in linear time: backreferences, lookaround.
    [{ regex: "(a)\\1", replacement: "x" }, /invalid escape sequence/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
