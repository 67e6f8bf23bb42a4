import assert from "node:assert/strict";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { memoryLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import forwardAuthPlugin, {
  forwardAuth,
  type ForwardAuthConfig,
  forwardAuthConfig,
  type ForwardAuthOptions,
} from "../../src/middleware/forward_auth/mod.ts";
import { testContext } from "./_ctx.ts";

// A throwaway self-signed certificate for 127.0.0.1 (valid until 2126), for
// the TLS test only. Generated with:
// openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
//   -subj /CN=pacer-test-auth -addext subjectAltName=IP:127.0.0.1,DNS:localhost
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBpTCCAUqgAwIBAgIUSftvpPdrJNLQhB9atz1EQTe5TskwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPcGFjZXItdGVzdC1hdXRoMCAXDTI2MTEyNDE2MDAzNVoYDzIx
MjYxMDMxMTYwMDM1WjAaMRgwFgYDVQQDDA9wYWNlci10ZXN0LWF1dGgwWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAASTPHGayHtuh//LG87hT1M0OkGEAk8YR1sduXHO
7qPXX4Czk4EzSvvjQyZnbVVbqQ7ecsV2HBQK0Ck/vTkTq/3To2wwajAdBgNVHQ4E
FgQU1Cqvp0LdB1EOh3z6wwIi54qzLP4wHwYDVR0jBBgwFoAU1Cqvp0LdB1EOh3z6
wwIi54qzLP4wGgYDVR0RBBMwEYcEfwAAAYIJbG9jYWxob3N0MAwGA1UdEwEB/wQC
MAAwCgYIKoZIzj0EAwIDSQAwRgIhAKsVedYDEqmUbj2HhJRwp3rnEex2CnAB1s7b
kCMtfNkcAiEA6l1tqb2kUeM4IOPYKiJ13gljkS8s4+i7X6bySJ35ITM=
-----END CERTIFICATE-----
`;
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgauL5P6ZFZ9n69f+Q
F5RrkcOM0NyC148dufO3ZuDHouChRANCAASTPHGayHtuh//LG87hT1M0OkGEAk8Y
R1sduXHO7qPXX4Czk4EzSvvjQyZnbVVbqQ7ecsV2HBQK0Ck/vTkTq/3T
-----END PRIVATE KEY-----
`;

/** What the auth server saw. */
interface Seen {
  method: string;
  path: string;
  headers: Headers;
  body: string;
}

type AuthHandler = (req: Request) => Response | Promise<Response>;

/** Runs `fn` with a real auth server on 127.0.0.1, closed afterwards. */
async function withAuthServer(
  handler: AuthHandler,
  fn: (address: string, seen: Seen[]) => Promise<void>,
  tls?: { cert: string; key: string },
): Promise<void> {
  const seen: Seen[] = [];
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {}, ...tls },
    async (req) => {
      const url = new URL(req.url);
      seen.push({
        method: req.method,
        path: url.pathname + url.search,
        headers: new Headers(req.headers),
        body: await req.text(),
      });
      return handler(req);
    },
  );
  await fn(`${tls ? "https" : "http"}://127.0.0.1:${server.addr.port}/auth`, seen);
}

function config(raw: Record<string, unknown>): ForwardAuthConfig {
  return forwardAuthConfig.parse(raw);
}

/** An app whose service echoes what it received, and counts calls. */
function appWith(mw: MiddlewareHandler, service?: (c: import("hono").Context) => Response) {
  const app = new Hono();
  let calls = 0;
  app.use(mw);
  app.all("*", async (c) => {
    calls++;
    if (service) return service(c);
    return c.json({
      method: c.req.method,
      headers: Object.fromEntries(c.req.raw.headers),
      body: await c.req.text(),
      user: c.get("clientUsername") ?? null,
    });
  });
  return { app, calls: () => calls };
}

function mw(raw: Record<string, unknown>, options: ForwardAuthOptions = {}): MiddlewareHandler {
  return forwardAuth(config(raw), options);
}

Deno.test("forwardAuth() returns the auth server's refusal: status, headers, body", async () => {
  await withAuthServer(() => {
    const headers = new Headers({
      "proxy-authenticate": "test",
      "x-foo": "bar",
      "content-type": "text/plain; charset=utf-8",
    });
    headers.append("set-cookie", "example=testing; Path=/");
    headers.append("set-cookie", "other=1");
    return new Response("Forbidden\n", { status: 403, headers });
  }, async (address) => {
    const { app, calls } = appWith(mw({ address }));
    const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
    assert.equal(res.status, 403);
    assert.equal(res.headers.get("proxy-authenticate"), "test");
    assert.equal(res.headers.get("x-foo"), "bar");
    assert.deepEqual(res.headers.getSetCookie(), ["example=testing; Path=/", "other=1"]);
    assert.equal(await res.text(), "Forbidden\n");
    assert.equal(calls(), 0, "the service is not called");
  });
});

Deno.test("forwardAuth() lets a 2xx through with authResponseHeaders and the regex (Traefik's success test)", async () => {
  await withAuthServer(() => {
    const headers = new Headers({
      "x-auth-user": "user@example.com",
      "x-auth-secret": "secret",
      "foo-bar": "auth-value",
    });
    headers.append("x-auth-group", "group1");
    headers.append("x-auth-group", "group2");
    return new Response("Success\n", { headers });
  }, async (address) => {
    const { app } = appWith(mw({
      address,
      authResponseHeaders: ["X-Auth-User", "X-Auth-Group"],
      authResponseHeadersRegex: "^Foo-",
    }));
    const res = await app.request("/", {
      headers: {
        "x-auth-group": "admin_group",
        "foo-bar": "client-value",
        "foo-baz": "client-value",
      },
    }, pacerEnv("10.0.0.1"));
    assert.equal(res.status, 200);
    const { headers } = await res.json();
    assert.equal(headers["x-auth-user"], "user@example.com");
    assert.equal(headers["x-auth-secret"], undefined);
    assert.equal(headers["x-auth-group"], "group1, group2");
    assert.equal(headers["foo-bar"], "auth-value");
    assert.equal(headers["foo-baz"], undefined, "client headers matching the regex are removed");
  });
});

Deno.test("forwardAuth() does not follow redirects and resolves Location against address", async () => {
  let location = "/login?next=%2F";
  await withAuthServer(
    () => new Response("go away", { status: 302, headers: { location } }),
    async (address, seen) => {
      const origin = new URL(address).origin;
      const cases: { raw: Record<string, unknown>; location: string; want: string }[] = [
        { raw: { address }, location: "/login?next=%2F", want: `${origin}/login?next=%2F` },
        {
          raw: { address, preserveLocationHeader: true },
          location: "/login?next=%2F",
          want: "/login?next=%2F",
        },
        {
          raw: { address },
          location: "http://example.com/redirect-test",
          want: "http://example.com/redirect-test",
        },
      ];
      for (const tc of cases) {
        location = tc.location;
        const before = seen.length;
        const { app } = appWith(mw(tc.raw));
        const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
        assert.equal(res.status, 302);
        assert.equal(res.headers.get("location"), tc.want);
        assert.equal(await res.text(), "go away");
        assert.equal(seen.length, before + 1, "one auth call, no redirect followed");
      }
    },
  );
});

Deno.test("forwardAuth() sends the X-Forwarded-* headers (Traefik's writeHeader table)", async () => {
  await withAuthServer(() => new Response("ok"), async (address, seen) => {
    const added = new Set(["host", "accept", "accept-encoding", "user-agent", "accept-language"]);
    const cases: {
      name: string;
      headers: Record<string, string>;
      trust?: boolean;
      peerTrusted?: boolean;
      authRequestHeaders?: string[];
      want: Record<string, string | null>;
      exact?: boolean;
    }[] = [
      {
        name: "trust forward header",
        headers: { accept: "application/json", "x-forwarded-host": "fii.bir" },
        trust: true,
        want: { accept: "application/json", "x-forwarded-host": "fii.bir" },
      },
      {
        name: "do not trust forward header",
        headers: { accept: "application/json", "x-forwarded-host": "fii.bir" },
        want: { accept: "application/json", "x-forwarded-host": "foo.bar" },
      },
      {
        name: "trust forwarded URI",
        headers: { "x-forwarded-host": "fii.bir", "x-forwarded-uri": "/forward?q=1" },
        trust: true,
        want: { "x-forwarded-host": "fii.bir", "x-forwarded-uri": "/forward?q=1" },
      },
      {
        name: "do not trust forwarded URI",
        headers: { "x-forwarded-host": "fii.bir", "x-forwarded-uri": "/forward?q=1" },
        want: { "x-forwarded-host": "foo.bar", "x-forwarded-uri": "/path?q=1" },
      },
      {
        name: "trust forwarded method",
        headers: { "x-forwarded-method": "OPTIONS" },
        trust: true,
        want: { "x-forwarded-method": "OPTIONS" },
      },
      {
        name: "do not trust forwarded method",
        headers: { "x-forwarded-method": "OPTIONS" },
        want: { "x-forwarded-method": "GET" },
      },
      {
        name: "X-Forwarded-For: peer, or appended to a trusted list",
        headers: { "x-forwarded-for": "1.1.1.1" },
        trust: true,
        want: { "x-forwarded-for": "1.1.1.1, 10.0.0.1" },
      },
      {
        name: "X-Forwarded-For replaced; other X-Forwarded-* of a trusted peer pass",
        headers: { "x-forwarded-for": "1.1.1.1", "x-forwarded-prefix": "/x" },
        want: { "x-forwarded-for": "10.0.0.1", "x-forwarded-prefix": "/x" },
      },
      {
        name: "untrusted peer: its X-Forwarded-* are dropped, even with trustForwardHeader",
        headers: {
          "x-forwarded-for": "1.1.1.1",
          "x-forwarded-host": "fii.bir",
          "x-forwarded-prefix": "/x",
          "x-real-ip": "1.1.1.1",
        },
        trust: true,
        peerTrusted: false,
        want: {
          "x-forwarded-for": "10.0.0.1",
          "x-forwarded-host": "foo.bar",
          "x-forwarded-prefix": null,
          "x-real-ip": null,
        },
      },
      {
        name: "remove hop-by-hop headers",
        headers: {
          connection: "close, x-listed",
          "keep-alive": "timeout=5",
          "proxy-authenticate": "ProxyAuthenticate",
          "proxy-authorization": "ProxyAuthorization",
          te: "trailers",
          trailer: "X-Trailer",
          "x-listed": "dropped too",
          "x-customheader": "CustomHeader",
        },
        want: {
          "x-customheader": "CustomHeader",
          "x-forwarded-proto": "http",
          "x-forwarded-host": "foo.bar",
          "x-forwarded-uri": "/path?q=1",
          "x-forwarded-method": "GET",
          "x-forwarded-for": "10.0.0.1",
          "proxy-authenticate": "ProxyAuthenticate",
          "proxy-authorization": "ProxyAuthorization",
        },
        exact: true,
      },
      {
        name: "filter forward request headers",
        headers: {
          "x-customheader": "CustomHeader",
          "content-type": "multipart/form-data; boundary=---123456",
        },
        authRequestHeaders: ["X-CustomHeader", "X-Non-Exists-Header"],
        want: {
          "x-customheader": "CustomHeader",
          "x-forwarded-proto": "http",
          "x-forwarded-host": "foo.bar",
          "x-forwarded-uri": "/path?q=1",
          "x-forwarded-method": "GET",
          "x-forwarded-for": "10.0.0.1",
        },
        exact: true,
      },
    ];
    for (const tc of cases) {
      const app = new Hono();
      if (tc.peerTrusted !== undefined) {
        // What the entrypoint records about the connection (src/service/context.ts).
        const facts = { ip: "10.0.0.1", tls: false, trusted: tc.peerTrusted };
        app.use(async (c, next) => {
          c.set("client" as never, facts as never);
          await next();
        });
      }
      app.use(mw({
        address,
        trustForwardHeader: tc.trust ?? false,
        authRequestHeaders: tc.authRequestHeaders ?? [],
      }));
      app.all("*", (c) => c.text("ok"));
      const res = await app.request(
        "http://foo.bar/path?q=1",
        { headers: tc.headers },
        pacerEnv("10.0.0.1"),
      );
      assert.equal(res.status, 200, tc.name);
      await res.body?.cancel();
      const got = seen.at(-1)!;
      assert.equal(got.method, "GET", tc.name);
      assert.equal(got.path, "/auth", tc.name);
      for (const [name, value] of Object.entries(tc.want)) {
        assert.equal(got.headers.get(name), value, `${tc.name}: ${name}`);
      }
      if (tc.exact) {
        const unexpected = [...got.headers.keys()].filter((k) => !(k in tc.want) && !added.has(k));
        assert.deepEqual(unexpected, [], tc.name);
      }
    }
  });
});

Deno.test("forwardAuth() reports X-Forwarded-Proto https on a TLS entrypoint", async () => {
  await withAuthServer(() => new Response("ok"), async (address, seen) => {
    const { app } = appWith(mw({ address }));
    const res = await app.request(
      "https://secure.example/x",
      {},
      pacerEnv("10.0.0.1", { tls: true }),
    );
    await res.body?.cancel();
    assert.equal(seen[0]!.headers.get("x-forwarded-proto"), "https");
    assert.equal(seen[0]!.headers.get("x-forwarded-host"), "secure.example");
  });
});

Deno.test("forwardAuth() answers an empty 500 when the auth server is unreachable", async () => {
  const server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    () => new Response(),
  );
  const address = `http://127.0.0.1:${server.addr.port}/auth`;
  await server.shutdown();
  const { app, calls } = appWith(mw({ address }));
  const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
  assert.equal(res.status, 500);
  assert.equal(await res.text(), "");
  assert.equal(calls(), 0);
});

Deno.test("forwardAuth() gives up on an auth server that does not answer in time", async () => {
  const { install } = await import("@sinonjs/fake-timers");
  let release!: () => void;
  const stuck = new Promise<void>((r) => release = r);
  await withAuthServer(async () => {
    await stuck;
    return new Response("late");
  }, async (address) => {
    const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      const { app, calls } = appWith(mw({ address }));
      const pending = Promise.resolve(app.request("/", {}, pacerEnv("10.0.0.1")));
      await clock.tickAsync(29_000);
      let settled = false;
      pending.then(() => settled = true);
      await clock.tickAsync(0);
      assert.equal(settled, false, "still waiting after 29 s");
      await clock.tickAsync(1_001);
      const res = await pending;
      assert.equal(res.status, 500);
      assert.equal(calls(), 0);
    } finally {
      clock.uninstall();
      release();
    }
  });
});

Deno.test("forwardAuth() answers 499 and aborts the auth request when the client goes away", async () => {
  let authAborted!: () => void;
  const aborted = new Promise<void>((resolve) => authAborted = resolve);
  await withAuthServer(async (req) => {
    await new Promise<void>((resolve) => {
      req.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    authAborted();
    return new Response("too late");
  }, async (address) => {
    const { app, calls } = appWith(mw({ address }));
    const client = new AbortController();
    const pending = Promise.resolve(
      app.request(new Request("http://a.test/", { signal: client.signal }), {}, pacerEnv()),
    );
    await new Promise((resolve) => setTimeout(resolve, 120)); // past the watch's 25–50 ms
    client.abort();
    const res = await pending;
    assert.equal(res.status, 499);
    assert.equal(calls(), 0);
    await aborted; // the auth server saw its request end
  });
});

Deno.test("forwardAuth() adds addAuthCookiesToResponse cookies, replacing the service's", async () => {
  await withAuthServer(() => {
    const headers = new Headers();
    headers.append("set-cookie", "session=auth; Path=/; HttpOnly");
    headers.append("set-cookie", "ignored=auth");
    return new Response(null, { status: 204, headers });
  }, async (address) => {
    const { app } = appWith(mw({ address, addAuthCookiesToResponse: ["session"] }), (c) => {
      c.header("set-cookie", "session=service", { append: true });
      c.header("set-cookie", "theme=dark", { append: true });
      c.header("x-service", "yes");
      return c.text("page", 201);
    });
    const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
    assert.equal(res.status, 201);
    assert.equal(res.headers.get("x-service"), "yes");
    assert.deepEqual(res.headers.getSetCookie(), ["theme=dark", "session=auth; Path=/; HttpOnly"]);
    assert.equal(await res.text(), "page");
  });
});

Deno.test("forwardAuth() forwards the body with forwardBody, within maxBodySize", async () => {
  await withAuthServer(() => new Response("ok"), async (address, seen) => {
    const cases: {
      name: string;
      raw: Record<string, unknown>;
      method: string;
      want: { status: number; authMethod?: string; authBody?: string; serviceBody?: string };
    }[] = [
      {
        name: "no forwardBody: auth gets GET without body, service gets the body",
        raw: { address },
        method: "POST",
        want: { status: 200, authMethod: "GET", authBody: "", serviceBody: "hello" },
      },
      {
        name: "forwardBody: sent as POST (fetch cannot send a GET body)",
        raw: { address, forwardBody: true },
        method: "POST",
        want: { status: 200, authMethod: "POST", authBody: "hello", serviceBody: "hello" },
      },
      {
        name: "forwardBody with preserveRequestMethod",
        raw: { address, forwardBody: true, preserveRequestMethod: true },
        method: "PUT",
        want: { status: 200, authMethod: "PUT", authBody: "hello", serviceBody: "hello" },
      },
      {
        name: "body at maxBodySize",
        raw: { address, forwardBody: true, maxBodySize: 5 },
        method: "POST",
        want: { status: 200, authMethod: "POST", authBody: "hello", serviceBody: "hello" },
      },
      {
        name: "body over maxBodySize: 401, auth server not called",
        raw: { address, forwardBody: true, maxBodySize: 4 },
        method: "POST",
        want: { status: 401 },
      },
    ];
    for (const tc of cases) {
      const before = seen.length;
      const { app, calls } = appWith(mw(tc.raw));
      const res = await app.request(
        "/",
        { method: tc.method, body: "hello" },
        pacerEnv("10.0.0.1"),
      );
      assert.equal(res.status, tc.want.status, tc.name);
      if (tc.want.status !== 200) {
        assert.equal(await res.text(), "", tc.name);
        assert.equal(seen.length, before, tc.name);
        assert.equal(calls(), 0, tc.name);
        continue;
      }
      const echoed = await res.json();
      const got = seen.at(-1)!;
      assert.equal(got.method, tc.want.authMethod, tc.name);
      assert.equal(got.body, tc.want.authBody, tc.name);
      assert.equal(got.headers.get("x-forwarded-method"), tc.method, tc.name);
      assert.equal(echoed.body, tc.want.serviceBody, tc.name);
      assert.equal(echoed.method, tc.method, tc.name);
    }
  });
});

Deno.test("forwardAuth() answers an empty 401 when the auth answer exceeds maxResponseBodySize", async () => {
  let status = 403;
  await withAuthServer(() => new Response("Forbidden\n", { status }), async (address) => {
    const cases: { status: number; max: number; want: [number, string] }[] = [
      { status: 403, max: -1, want: [403, "Forbidden\n"] },
      { status: 403, max: 10, want: [403, "Forbidden\n"] },
      { status: 403, max: 9, want: [401, ""] },
      { status: 200, max: 9, want: [401, ""] },
      { status: 200, max: 10, want: [200, "service"] },
    ];
    for (const tc of cases) {
      status = tc.status;
      const { app } = appWith(
        mw({ address, maxResponseBodySize: tc.max }),
        (c) => c.text("service"),
      );
      const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
      assert.deepEqual([res.status, await res.text()], tc.want, JSON.stringify(tc));
    }
  });
});

Deno.test("forwardAuth() takes the user name from headerField", async () => {
  await withAuthServer(
    () => new Response(null, { status: 200, headers: { "x-auth-user": "alice" } }),
    async (address) => {
      const { app } = appWith(mw({ address, headerField: "X-Auth-User" }));
      const res = await app.request("/", {}, pacerEnv("10.0.0.1"));
      assert.equal((await res.json()).user, "alice");
    },
  );
});

Deno.test("forwardAuth() calls an https auth server trusted through tls.ca, and closes its client", async () => {
  await withAuthServer(() => new Response("ok"), async (address) => {
    const ctx = testContext();
    try {
      const trusted = await forwardAuthPlugin.create(
        config({ address, tls: { ca: TEST_CERT } }),
        ctx,
      );
      const ok = await appWith(trusted).app.request("/", {}, pacerEnv("10.0.0.1"));
      assert.equal(ok.status, 200);
      await ok.body?.cancel();

      const untrusted = appWith(mw({ address })).app;
      const refused = await untrusted.request("/", {}, pacerEnv("10.0.0.1"));
      assert.equal(refused.status, 500, "the test CA is not trusted by default");
      await refused.body?.cancel();
    } finally {
      ctx.dispose(); // closes the HTTP client; the resource sanitizer checks it
    }
  }, { cert: TEST_CERT, key: TEST_KEY });
});

Deno.test("forwardAuth() closes its client only once no request is being authenticated", async () => {
  await withAuthServer(
    (req) => new Response(null, { status: req.method === "POST" ? 200 : 400 }),
    async (address) => {
      const generation = new AbortController();
      const client = Deno.createHttpClient({});
      const { app } = appWith(
        mw({ address, forwardBody: true }, { client, signal: generation.signal }),
      );
      let push!: ReadableStreamDefaultController<Uint8Array>;
      const body = new ReadableStream<Uint8Array>({ start: (c) => void (push = c) });
      const pending = Promise.resolve(
        app.request(
          "/",
          { method: "POST", body, duplex: "half" } as RequestInit,
          pacerEnv("10.0.0.1"),
        ),
      );
      push.enqueue(new TextEncoder().encode("part"));
      await Promise.resolve();
      generation.abort(); // replaced while the body is still being read: before fetch
      push.close();
      const res = await pending;
      assert.equal(res.status, 200, "the request still used the open client");
      assert.equal((await res.json()).body, "part");
      // Closed now: the resource sanitizer fails the test if the client leaked.
    },
  );
});

Deno.test("forwardAuth() fails to build when a tls file cannot be read", async () => {
  await assert.rejects(
    async () =>
      await forwardAuthPlugin.create(
        config({ address: "https://auth.example", tls: { ca: "/nonexistent/ca.pem" } }),
        testContext(),
      ),
    /'tls\.ca' cannot be read: \/nonexistent\/ca\.pem/,
  );
});

Deno.test("forwardAuth() warns that tls.insecureSkipVerify has no effect", async () => {
  const { log, records } = memoryLogger("warn");
  const ctx = testContext({ log });
  try {
    await forwardAuthPlugin.create(
      config({ address: "https://auth.example", tls: { insecureSkipVerify: true } }),
      ctx,
    );
    assert.match(String(records()[0]?.msg), /insecureSkipVerify has no effect/);
  } finally {
    ctx.dispose();
  }
});

Deno.test("forwardAuth() options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(forwardAuthPlugin);
  const cases: { raw: unknown; want: RegExp }[] = [
    { raw: {}, want: /'forwardAuth\.address'/ },
    {
      raw: { address: "not a url" },
      want: /'forwardAuth\.address': must be an http:\/\/ or https:\/\/ URL/,
    },
    { raw: { address: "ftp://auth" }, want: /'forwardAuth\.address'/ },
    {
      raw: { address: "http://auth", tls: { cert: "c.pem" } },
      want: /'forwardAuth\.tls\.key': cert and key must be set together/,
    },
    {
      raw: { address: "http://auth", tls: { key: "k.pem" } },
      want: /'forwardAuth\.tls\.cert': cert and key must be set together/,
    },
    {
      raw: { address: "http://auth", authResponseHeadersRegex: "([" },
      want: /'forwardAuth\.authResponseHeadersRegex': invalid regular expression "\(\["/,
    },
    { raw: { address: "http://auth", maxBodySize: -2 }, want: /'forwardAuth\.maxBodySize'/ },
    {
      raw: { address: "http://auth", maxResponseBodySize: 1.5 },
      want: /'forwardAuth\.maxResponseBodySize'/,
    },
    {
      raw: { address: "http://auth", authResponseHeaders: "X-User" },
      want: /'forwardAuth\.authResponseHeaders'/,
    },
    {
      raw: { address: "http://auth", tls: { insecure: true } },
      want: /'forwardAuth\.tls': unknown option 'insecure'/,
    },
    {
      raw: { address: "http://auth", trustForwardHeaders: true },
      want: /unknown option 'trustForwardHeaders'/,
    },
  ];
  for (const { raw, want } of cases) {
    const result = registry.resolve({ forwardAuth: raw });
    assert.equal(result.ok, false, JSON.stringify(raw));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({
    forwardauth: { Address: "http://auth:8080/verify", TRUSTFORWARDHEADER: true },
  });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: unknown }).options, {
    address: "http://auth:8080/verify",
    trustForwardHeader: true,
    authResponseHeaders: [],
    authResponseHeadersRegex: "",
    authRequestHeaders: [],
    addAuthCookiesToResponse: [],
    forwardBody: false,
    maxBodySize: -1,
    maxResponseBodySize: -1,
    preserveLocationHeader: false,
    preserveRequestMethod: false,
  });
});
