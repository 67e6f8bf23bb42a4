import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin from "../../src/middleware/redirect_scheme/mod.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ redirectScheme: raw });
}

function app(mw: MiddlewareHandler, trusted = true): Hono {
  const app = new Hono();
  // The entrypoint's client facts (src/service/context.ts), read for X-Forwarded-Proto trust.
  app.use(async (c, next) => {
    (c.set as (key: string, value: unknown) => void)("client", {
      ip: "10.0.0.1",
      tls: false,
      trusted,
    });
    await next();
  });
  app.use(mw);
  app.all("*", (c) => c.text("next"));
  return app;
}

async function build(raw: unknown, trusted = true): Promise<Hono> {
  return app(await createFromRaw(plugin, raw), trusted);
}

/** Sends `url` as a server would receive it: Host header from the authority. */
function send(
  app: Hono,
  url: string,
  init: { method?: string; headers?: Record<string, string>; tls?: boolean } = {},
): Promise<Response> {
  const target = new URL(url);
  const authority = url.replace(/^[a-z]+:\/\//, "").replace(/[/?].*$/, "");
  const headers = { host: authority, ...init.headers };
  return Promise.resolve(
    app.request(
      target.href,
      { method: init.method ?? "GET", headers },
      pacerEnv("10.0.0.1", { tls: init.tls ?? target.protocol === "https:" }),
    ),
  );
}

// Traefik's pkg/middlewares/redirect/redirect_scheme_test.go. A request
// target always has a path, so locations end with "/".
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
    desc: "HTTP to HTTPS",
    config: { scheme: "https" },
    url: "http://foo",
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto",
    config: { scheme: "https" },
    url: "http://foo",
    headers: { "X-Forwarded-Proto": "http" },
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto to HTTPS",
    config: { scheme: "https" },
    url: "http://foo",
    headers: { "X-Forwarded-Proto": "https" },
    status: 200,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto to unknown value",
    config: { scheme: "https" },
    url: "http://foo",
    headers: { "X-Forwarded-Proto": "bar" },
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto to ws",
    config: { scheme: "https" },
    url: "http://foo",
    headers: { "X-Forwarded-Proto": "ws" },
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS, with X-Forwarded-Proto to wss",
    config: { scheme: "https" },
    url: "http://foo",
    headers: { "X-Forwarded-Proto": "wss" },
    status: 200,
  },
  {
    desc: "HTTP with port to HTTPS without port",
    config: { scheme: "https" },
    url: "http://foo:8080",
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP without port to HTTPS with port",
    config: { scheme: "https", port: "8443" },
    url: "http://foo",
    location: "https://foo:8443/",
    status: 302,
  },
  {
    desc: "HTTP with port to HTTPS with port",
    config: { scheme: "https", port: "8443" },
    url: "http://foo:8000",
    location: "https://foo:8443/",
    status: 302,
  },
  {
    desc: "HTTPS with port to HTTPS with port",
    config: { scheme: "https", port: "8443" },
    url: "https://foo:8000",
    location: "https://foo:8443/",
    status: 302,
  },
  {
    desc: "HTTPS with port to HTTPS without port",
    config: { scheme: "https" },
    url: "https://foo:8000",
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "redirection to HTTPS without port from an URL already in https",
    config: { scheme: "https" },
    url: "https://foo:8000/theother",
    location: "https://foo/theother",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS permanent",
    config: { scheme: "https", port: "8443", permanent: true },
    url: "http://foo",
    location: "https://foo:8443/",
    status: 301,
  },
  { desc: "to HTTP 80", config: { scheme: "http", port: "80" }, url: "http://foo:80", status: 200 },
  {
    desc: "to HTTPS 443",
    config: { scheme: "https", port: "443" },
    url: "https://foo:443",
    status: 200,
  },
  {
    desc: "HTTP to wss",
    config: { scheme: "wss", port: "9443" },
    url: "http://foo",
    location: "wss://foo:9443/",
    status: 302,
  },
  {
    desc: "HTTP to wss without port",
    config: { scheme: "wss" },
    url: "http://foo",
    location: "wss://foo/",
    status: 302,
  },
  {
    desc: "HTTP with port to wss without port",
    config: { scheme: "wss" },
    url: "http://foo:5678",
    location: "wss://foo/",
    status: 302,
  },
  {
    desc: "HTTP to HTTPS without port",
    config: { scheme: "https" },
    url: "http://foo:443",
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "HTTP port redirection",
    config: { scheme: "http", port: "8181" },
    url: "http://foo:8080",
    location: "http://foo:8181/",
    status: 302,
  },
  {
    desc: "HTTPS with port 80 to HTTPS without port",
    config: { scheme: "https" },
    url: "https://foo:80",
    location: "https://foo/",
    status: 302,
  },
  {
    desc: "IPV6 HTTP to HTTPS redirection without port",
    config: { scheme: "https" },
    url: "http://[::1]",
    location: "https://[::1]/",
    status: 302,
  },
  {
    desc: "IPV6 HTTP to HTTPS redirection with port",
    config: { scheme: "https", port: "8443" },
    url: "http://[::1]",
    location: "https://[::1]:8443/",
    status: 302,
  },
  {
    desc: "IPV6 HTTP with port 80 to HTTPS redirection without port",
    config: { scheme: "https" },
    url: "http://[::1]:80",
    location: "https://[::1]/",
    status: 302,
  },
  {
    desc: "IPV6 HTTP with port 80 to HTTPS redirection with port",
    config: { scheme: "https", port: "8443" },
    url: "http://[::1]:80",
    location: "https://[::1]:8443/",
    status: 302,
  },
  {
    desc: "the path and query are kept",
    config: { scheme: "https" },
    url: "http://foo/a/b%20c?x=1&y",
    location: "https://foo/a/b%20c?x=1&y",
    status: 302,
  },
  {
    desc: "POST gets 307",
    config: { scheme: "https" },
    url: "http://foo",
    method: "POST",
    location: "https://foo/",
    status: 307,
  },
  {
    desc: "permanent POST gets 308",
    config: { scheme: "https", permanent: true },
    url: "http://foo",
    method: "POST",
    location: "https://foo/",
    status: 308,
  },
  {
    desc: "a numeric port is accepted",
    config: { scheme: "https", port: 8443 },
    url: "http://foo",
    location: "https://foo:8443/",
    status: 302,
  },
];

Deno.test("redirectScheme() redirects to the scheme and port (Traefik's table)", async () => {
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
    else assert.equal(body, test.status === 301 ? "Moved Permanently" : body, test.desc);
  }
});

Deno.test("redirectScheme() uses the TLS of the connection, not the URL alone", async () => {
  const app = await build({ scheme: "https" });
  const res = await send(app, "http://foo/x", { tls: true });
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "next");
});

Deno.test("redirectScheme() ignores X-Forwarded-Proto from an untrusted client", async () => {
  const app = await build({ scheme: "https" }, false);
  const res = await send(app, "http://foo/", { headers: { "X-Forwarded-Proto": "https" } });
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("location"), "https://foo/");
  await res.body?.cancel();
});

Deno.test("redirectScheme() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /'redirectScheme\.scheme'/],
    [{ scheme: "" }, /'redirectScheme\.scheme': you must provide a target scheme/],
    [{ scheme: "ht tp" }, /'redirectScheme\.scheme': must be a URL scheme/],
    [{ scheme: "https", port: "http" }, /'redirectScheme\.port': must be a port number/],
    [{ scheme: "https", port: 70000 }, /'redirectScheme\.port': must be a port number/],
    [{ scheme: "https", permanent: "yes" }, /'redirectScheme\.permanent'/],
    [{ scheme: "https", regex: "x" }, /unknown option 'regex'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
});
