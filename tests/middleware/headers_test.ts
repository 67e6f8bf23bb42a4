import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Handler, MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { memoryLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin, { type HeadersConfig } from "../../src/middleware/headers/mod.ts";
import { createFromRaw, testContext } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ headers: raw });
}

/** The final handler echoes the request headers and host it received. */
const echo: Handler = (c) =>
  c.json({
    headers: Object.fromEntries(c.req.raw.headers),
    urlHost: new URL(c.req.raw.url).host,
  });

function app(mw: MiddlewareHandler, handler: Handler = echo): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", handler);
  return app;
}

async function build(raw: unknown, handler?: Handler): Promise<Hono> {
  return app(await createFromRaw(plugin, raw), handler);
}

/** Response headers, minus the ones the final handler's body brings. */
function headersOf(res: Response): Record<string, string> {
  const out = Object.fromEntries(res.headers);
  delete out["content-type"];
  return out;
}

/** A final handler answering 200 with no body and the given headers. */
function answer(headers: [string, string][] = []): Handler {
  return () => {
    const h = new Headers();
    for (const [k, v] of headers) h.append(k, v);
    return new Response(null, { status: 200, headers: h });
  };
}

// Traefik's TestNewHeader_customRequestHeader.
Deno.test("headers() sets, overrides and removes custom request headers", async () => {
  const cases: {
    desc: string;
    config: Record<string, string>;
    expected: Record<string, string>;
  }[] = [
    {
      desc: "adds a header",
      config: { "X-Custom-Request-Header": "test_request" },
      expected: { foo: "bar", "x-custom-request-header": "test_request" },
    },
    {
      desc: "delete a header",
      config: { "X-Forwarded-For": "", "X-Custom-Request-Header": "", Foo: "" },
      expected: {},
    },
    { desc: "override a header", config: { Foo: "test" }, expected: { foo: "test" } },
  ];
  for (const test of cases) {
    const a = await build({ customRequestHeaders: test.config });
    const res = await a.request("http://example.org/foo", {
      headers: { Foo: "bar", "X-Forwarded-For": "1.2.3.4", "X-Custom-Request-Header": "old" },
    });
    assert.equal(res.status, 200, test.desc);
    const body = await res.json();
    const sent = { ...body.headers };
    if (test.desc !== "delete a header") delete sent["x-forwarded-for"];
    if (test.desc !== "adds a header" && test.desc !== "delete a header") {
      delete sent["x-custom-request-header"];
    }
    assert.deepEqual(sent, test.expected, test.desc);
  }
});

// Traefik's TestNewHeader_customRequestHeader_Host.
Deno.test("headers() changes the Host sent to the service, not the URL", async () => {
  const a = await build({ customRequestHeaders: { Host: "example.com" } });
  const body = await (await a.request("http://example.org/foo")).json();
  assert.equal(body.headers.host, "example.com");
  assert.equal(body.urlHost, "example.org");
});

// Traefik's TestNewHeader_CORSPreflights.
Deno.test("headers() answers CORS preflights itself", async () => {
  const cases: {
    desc: string;
    config: Record<string, unknown>;
    request: Record<string, string>;
    expected: Record<string, string>;
  }[] = [
    {
      desc: "Test Simple Preflight",
      config: {
        accessControlAllowMethods: ["GET", "OPTIONS", "PUT"],
        accessControlAllowOriginList: ["https://foo.bar.org"],
        accessControlMaxAge: 600,
      },
      request: {
        "Access-Control-Request-Headers": "origin",
        "Access-Control-Request-Method": "GET, OPTIONS",
        Origin: "https://foo.bar.org",
      },
      expected: {
        "content-length": "0",
        "access-control-allow-origin": "https://foo.bar.org",
        "access-control-max-age": "600",
        "access-control-allow-methods": "GET,OPTIONS,PUT",
      },
    },
    {
      desc: "Wildcard origin Preflight",
      config: {
        accessControlAllowMethods: ["GET", "OPTIONS", "PUT"],
        accessControlAllowOriginList: ["*"],
        accessControlMaxAge: 600,
      },
      request: { "Access-Control-Request-Method": "GET", Origin: "https://foo.bar.org" },
      expected: {
        "content-length": "0",
        "access-control-allow-origin": "*",
        "access-control-max-age": "600",
        "access-control-allow-methods": "GET,OPTIONS,PUT",
      },
    },
    {
      desc: "Allow Credentials Preflight",
      config: {
        accessControlAllowMethods: ["GET", "OPTIONS", "PUT"],
        accessControlAllowOriginList: ["*"],
        accessControlAllowCredentials: true,
        accessControlMaxAge: 600,
      },
      request: { "Access-Control-Request-Method": "GET", Origin: "https://foo.bar.org" },
      expected: {
        "content-length": "0",
        "access-control-allow-origin": "*",
        "access-control-max-age": "600",
        "access-control-allow-methods": "GET,OPTIONS,PUT",
        "access-control-allow-credentials": "true",
      },
    },
    {
      desc: "Allow Headers Preflight",
      config: {
        accessControlAllowMethods: ["GET", "OPTIONS", "PUT"],
        accessControlAllowOriginList: ["*"],
        accessControlAllowHeaders: ["origin", "X-Forwarded-For"],
        accessControlMaxAge: 600,
      },
      request: {
        "Access-Control-Request-Headers": "origin",
        "Access-Control-Request-Method": "GET",
        Origin: "https://foo.bar.org",
      },
      expected: {
        "content-length": "0",
        "access-control-allow-origin": "*",
        "access-control-max-age": "600",
        "access-control-allow-methods": "GET,OPTIONS,PUT",
        "access-control-allow-headers": "origin,X-Forwarded-For",
      },
    },
    {
      desc: "Origin not allowed: no Allow-Origin, Max-Age still sent",
      config: { accessControlAllowOriginList: ["https://other.org"] },
      request: { "Access-Control-Request-Method": "GET", Origin: "https://foo.bar.org" },
      expected: { "content-length": "0", "access-control-max-age": "0" },
    },
  ];
  for (const test of cases) {
    let reached = false;
    const a = await build(test.config, (c) => {
      reached = true;
      return c.text("service");
    });
    const res = await a.request("http://localhost/foo", {
      method: "OPTIONS",
      headers: test.request,
    });
    assert.equal(res.status, 200, test.desc);
    assert.deepEqual(Object.fromEntries(res.headers), test.expected, test.desc);
    assert.equal(await res.text(), "", test.desc);
    assert.equal(reached, false, `${test.desc}: the preflight must not reach the service`);
  }
});

Deno.test("headers() forwards OPTIONS requests that are not preflights", async () => {
  const a = await build({ accessControlAllowOriginList: ["*"] }, (c) => c.text("service"));
  const res = await a.request("http://localhost/", {
    method: "OPTIONS",
    headers: { Origin: "https://a.org" },
  });
  assert.equal(await res.text(), "service");
  assert.equal(res.headers.get("access-control-allow-origin"), "*");
});

// Traefik's TestNewHeader_CORSResponses.
Deno.test("headers() adds CORS headers to responses", async () => {
  const cases: {
    desc: string;
    config: Record<string, unknown>;
    next?: [string, string][];
    request: Record<string, string>;
    expected: Record<string, string>;
  }[] = [
    {
      desc: "Test Simple Request",
      config: { accessControlAllowOriginList: ["https://foo.bar.org"] },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org" },
    },
    {
      desc: "Wildcard origin Request",
      config: { accessControlAllowOriginList: ["*"] },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "*" },
    },
    {
      desc: "Regexp Origin Request",
      config: { accessControlAllowOriginListRegex: ["^https?://([a-z]+)\\.bar\\.org$"] },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org" },
    },
    {
      desc: "Partial Regexp Origin Request",
      config: { accessControlAllowOriginListRegex: ["([a-z]+)\\.bar"] },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org" },
    },
    {
      desc: "Regexp Origin Request without matching",
      config: { accessControlAllowOriginListRegex: ["([a-z]+)\\.bar\\.org"] },
      request: { Origin: "https://bar.org" },
      expected: {},
    },
    {
      desc: "Empty origin Request",
      config: { accessControlAllowOriginList: ["https://foo.bar.org"] },
      request: {},
      expected: {},
    },
    {
      desc: "Allow Credentials Request",
      config: { accessControlAllowOriginList: ["*"], accessControlAllowCredentials: true },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "*", "access-control-allow-credentials": "true" },
    },
    {
      desc: "Expose Headers Request",
      config: {
        accessControlAllowOriginList: ["*"],
        accessControlExposeHeaders: ["origin", "X-Forwarded-For"],
      },
      request: { Origin: "https://foo.bar.org" },
      expected: {
        "access-control-allow-origin": "*",
        "access-control-expose-headers": "origin,X-Forwarded-For",
      },
    },
    {
      desc: "Test Simple Request with Vary Headers",
      config: { accessControlAllowOriginList: ["https://foo.bar.org"], addVaryHeader: true },
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org", vary: "Origin" },
    },
    {
      desc: "Test Simple Request with Vary Headers and non-empty response",
      config: { accessControlAllowOriginList: ["https://foo.bar.org"], addVaryHeader: true },
      next: [["Vary", "Testing"]],
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org", vary: "Testing,Origin" },
    },
    {
      desc: "Test Simple Request with Vary Headers and existing vary:origin response",
      config: { accessControlAllowOriginList: ["https://foo.bar.org"], addVaryHeader: true },
      next: [["Vary", "Origin"]],
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "https://foo.bar.org", vary: "Origin" },
    },
    {
      desc: "Test Simple Request with non-empty response: set ACAO",
      config: { accessControlAllowOriginList: ["*"] },
      next: [["Access-Control-Allow-Origin", "http://foo.bar.org"]],
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "*" },
    },
    {
      desc: "Test Simple Request with non-empty response: add ACAO",
      config: { accessControlAllowOriginList: ["*"] },
      next: [["Access-Control-Allow-Origin", "http://foo.bar.org"], [
        "Access-Control-Allow-Origin",
        "http://b.org",
      ]],
      request: { Origin: "https://foo.bar.org" },
      expected: { "access-control-allow-origin": "*" },
    },
    {
      desc: "Test Simple CustomRequestHeaders Not Hijacked by CORS",
      config: { customRequestHeaders: { foo: "bar" } },
      request: {
        "Access-Control-Request-Headers": "origin",
        "Access-Control-Request-Method": "GET",
        Origin: "https://foo.bar.org",
      },
      expected: {},
    },
  ];
  for (const test of cases) {
    const a = await build(test.config, answer(test.next));
    const res = await a.request("http://localhost/foo", { headers: test.request });
    assert.equal(res.status, 200, test.desc);
    assert.deepEqual(headersOf(res), test.expected, test.desc);
  }
});

// Traefik's TestNewHeader_customResponseHeaders.
Deno.test("headers() sets and removes custom response headers", async () => {
  const cases: {
    desc: string;
    config: Record<string, string>;
    expected: Record<string, string>;
  }[] = [
    {
      desc: "Test Simple Response",
      config: { Testing: "foo", Testing2: "bar" },
      expected: { foo: "bar", testing: "foo", testing2: "bar" },
    },
    {
      desc: "empty Custom Header",
      config: { Testing: "foo", Testing2: "" },
      expected: { foo: "bar", testing: "foo" },
    },
    {
      desc: "Deleting Custom Header",
      config: { Testing: "foo", Foo: "" },
      expected: { testing: "foo" },
    },
  ];
  for (const test of cases) {
    const a = await build({ customResponseHeaders: test.config }, answer([["Foo", "bar"]]));
    const res = await a.request("http://localhost/foo");
    assert.deepEqual(headersOf(res), test.expected, test.desc);
  }
});

// Traefik's Test_newSecure_modifyResponse, plus the other fixed headers.
Deno.test("headers() sets security headers on the response", async () => {
  const cases: {
    desc: string;
    config: Record<string, unknown>;
    expected: Record<string, string>;
  }[] = [
    {
      desc: "FeaturePolicy",
      config: { featurePolicy: "vibrate 'none';" },
      expected: { "feature-policy": "vibrate 'none';" },
    },
    {
      desc: "STSSeconds",
      config: { stsSeconds: 1, forceSTSHeader: true },
      expected: { "strict-transport-security": "max-age=1" },
    },
    {
      desc: "STSSeconds and STSPreload",
      config: { stsSeconds: 1, forceSTSHeader: true, stsPreload: true },
      expected: { "strict-transport-security": "max-age=1; preload" },
    },
    {
      desc: "STS with subdomains and preload",
      config: {
        stsSeconds: 31536000,
        forceSTSHeader: true,
        stsIncludeSubdomains: true,
        stsPreload: true,
      },
      expected: { "strict-transport-security": "max-age=31536000; includeSubDomains; preload" },
    },
    {
      desc: "CustomFrameOptionsValue",
      config: { customFrameOptionsValue: "foo" },
      expected: { "x-frame-options": "foo" },
    },
    { desc: "FrameDeny", config: { frameDeny: true }, expected: { "x-frame-options": "DENY" } },
    {
      desc: "CustomFrameOptionsValue overrides FrameDeny",
      config: { frameDeny: true, customFrameOptionsValue: "SAMEORIGIN" },
      expected: { "x-frame-options": "SAMEORIGIN" },
    },
    {
      desc: "ContentTypeNosniff",
      config: { contentTypeNosniff: true },
      expected: { "x-content-type-options": "nosniff" },
    },
    {
      desc: "BrowserXssFilter",
      config: { browserXssFilter: true },
      expected: { "x-xss-protection": "1; mode=block" },
    },
    {
      desc: "CustomBrowserXSSValue overrides BrowserXssFilter",
      config: { browserXssFilter: true, customBrowserXSSValue: "0" },
      expected: { "x-xss-protection": "0" },
    },
    {
      desc: "ContentSecurityPolicy",
      config: { contentSecurityPolicy: "default-src 'self'" },
      expected: { "content-security-policy": "default-src 'self'" },
    },
    {
      desc: "ContentSecurityPolicyReportOnly",
      config: { contentSecurityPolicyReportOnly: "default-src 'self'" },
      expected: { "content-security-policy-report-only": "default-src 'self'" },
    },
    {
      desc: "ReferrerPolicy",
      config: { referrerPolicy: "same-origin" },
      expected: { "referrer-policy": "same-origin" },
    },
    {
      desc: "PermissionsPolicy",
      config: { permissionsPolicy: "camera=()" },
      expected: { "permissions-policy": "camera=()" },
    },
    { desc: "STS without TLS and without force: none", config: { stsSeconds: 10 }, expected: {} },
    { desc: "PublicKey without TLS: none", config: { publicKey: 'pin-sha256="x"' }, expected: {} },
  ];
  for (const test of cases) {
    const a = await build(test.config, answer());
    const res = await a.request("http://localhost/foo");
    assert.deepEqual(headersOf(res), test.expected, test.desc);
  }
});

Deno.test("headers() sends STS and HPKP over HTTPS only, unless isDevelopment", async () => {
  const config = { stsSeconds: 60, publicKey: 'pin-sha256="abc"; max-age=10' };
  const a = await build(config, answer());
  const overTLS = await a.request("https://localhost/", {}, pacerEnv("10.0.0.1", { tls: true }));
  assert.equal(overTLS.headers.get("strict-transport-security"), "max-age=60");
  assert.equal(overTLS.headers.get("public-key-pins"), 'pin-sha256="abc"; max-age=10');
  const plain = await a.request("http://localhost/", {}, pacerEnv("10.0.0.1", { tls: false }));
  assert.equal(plain.headers.get("strict-transport-security"), null);
  assert.equal(plain.headers.get("public-key-pins"), null);

  const proxied = await build(
    { ...config, sslProxyHeaders: { "X-Forwarded-Proto": "https" } },
    answer(),
  );
  const viaProxy = await proxied.request("http://localhost/", {
    headers: { "X-Forwarded-Proto": "https" },
  });
  assert.equal(viaProxy.headers.get("strict-transport-security"), "max-age=60");

  const dev = await build({ ...config, forceSTSHeader: true, isDevelopment: true }, answer());
  const devRes = await dev.request("https://localhost/", {}, pacerEnv("10.0.0.1", { tls: true }));
  assert.equal(devRes.headers.get("strict-transport-security"), null);
  assert.equal(devRes.headers.get("public-key-pins"), null);
});

Deno.test("headers() refuses hosts outside allowedHosts with 500 Bad Host", async () => {
  let reached = 0;
  const next: Handler = (c) => {
    reached++;
    return c.text("ok");
  };
  const a = await build(
    { allowedHosts: ["example.com"], hostsProxyHeaders: ["X-Forwarded-Host"] },
    next,
  );
  const ok = await a.request("http://EXAMPLE.com/");
  assert.equal(ok.status, 200);
  assert.equal(await ok.text(), "ok");
  const bad = await a.request("http://evil.com/");
  assert.equal(bad.status, 500);
  assert.equal(await bad.text(), "Bad Host");
  const proxied = await a.request("http://internal:8080/", {
    headers: { "X-Forwarded-Host": "example.com" },
  });
  assert.equal(proxied.status, 200);
  await proxied.body?.cancel();
  const spoofed = await a.request("http://example.com/", {
    headers: { "X-Forwarded-Host": "evil.com" },
  });
  assert.equal(spoofed.status, 500);
  await spoofed.body?.cancel();
  assert.equal(reached, 2);

  const dev = await build({ allowedHosts: ["example.com"], isDevelopment: true }, next);
  assert.equal((await dev.request("http://evil.com/")).status, 200);
});

Deno.test("headers() applies custom response headers after security headers", async () => {
  const a = await build(
    { frameDeny: true, customResponseHeaders: { "X-Frame-Options": "" } },
    answer(),
  );
  const res = await a.request("http://localhost/");
  assert.equal(res.headers.get("x-frame-options"), null);
});

Deno.test("headers() edits responses whose headers are immutable", async () => {
  const a = await build(
    { customResponseHeaders: { "X-Added": "1", Location: "" }, frameDeny: true },
    () => Response.redirect("http://elsewhere/", 302),
  );
  const res = await a.request("http://localhost/");
  assert.equal(res.status, 302);
  assert.equal(res.headers.get("x-added"), "1");
  assert.equal(res.headers.get("location"), null);
  assert.equal(res.headers.get("x-frame-options"), "DENY");
});

Deno.test("headers() reads option names case-insensitively, as labels send them", async () => {
  const a = await build({ customrequestheaders: { "X-Script-Name": "test" }, FRAMEDENY: true });
  const res = await a.request("http://localhost/");
  assert.equal(res.headers.get("x-frame-options"), "DENY");
  assert.equal((await res.json()).headers["x-script-name"], "test");
});

Deno.test("headers() warns about the deprecated featurePolicy when built", async () => {
  const { log, records } = memoryLogger("warn");
  const resolved = resolve({ featurePolicy: "vibrate 'none'" });
  assert.ok(resolved.ok);
  await plugin.create(resolved.options as HeadersConfig, testContext({ log }));
  assert.match(String(records()[0]?.msg), /featurePolicy is deprecated/);
});

Deno.test("headers() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{}, /headers configuration not valid/],
    [
      { sslRedirect: true, frameDeny: true },
      /'headers\.sslRedirect': sslRedirect was removed in Traefik v3.*redirectScheme/,
    ],
    [{ sslHost: "example.com", frameDeny: true }, /'headers\.sslHost': .*redirectRegex/],
    [
      { customRequestHeaders: { "Bad Name": "x" } },
      /'headers\.customRequestHeaders\.Bad Name': 'Bad Name' is not a valid header name/,
    ],
    [
      { customResponseHeaders: { "X-A": "a\nb" } },
      /'headers\.customResponseHeaders\.X-A': a header value cannot contain/,
    ],
    [
      { accessControlAllowOriginListRegex: ["a(b"] },
      /'headers\.accessControlAllowOriginListRegex\[0\]': invalid regular expression/,
    ],
    [{ accessControlMaxAge: -1 }, /'headers\.accessControlMaxAge'/],
    [{ stsSeconds: 1.5 }, /'headers\.stsSeconds'/],
    [{ frameDeny: "true!" }, /'headers\.frameDeny'/],
    [{ frameDeny: true, customHeaders: {} }, /unknown option 'customHeaders'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
  // Traefik v2 configurations that leave the removed options off still load.
  assert.ok(resolve({ sslRedirect: false, frameDeny: true }).ok);
});
