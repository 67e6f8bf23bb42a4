import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { Hono } from "hono";
import { sign } from "hono/jwt";
import jwtPlugin, {
  claimHeaderValue,
  jwt,
  type JwtConfig,
  jwtConfig,
} from "../../plugins/jwt/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { upstream } from "../_helpers/upstream.ts";
import { configuredPacer, repoPath } from "./_configured.ts";

const SECRET = "it-is-very-secret";
const NOW = () => Math.floor(Date.now() / 1000);

/** An app whose handler echoes the headers the upstream would get. */
function appWith(config: Record<string, unknown>, env?: Record<string, string>): Hono {
  const app = new Hono();
  app.use(jwt(jwtConfig.parse(config), env ? { env: (name) => env[name] } : {}));
  app.all("*", (c) =>
    c.json({
      user: c.req.header("x-user-id") ?? null,
      roles: c.req.header("x-roles") ?? null,
      authorization: c.req.header("authorization") ?? null,
    }));
  return app;
}

const forwarding: Partial<JwtConfig> = {
  secret: SECRET,
  forwardClaims: { sub: "X-User-Id", roles: "X-Roles" },
};

Deno.test("jwt() accepts a valid bearer token and forwards the chosen claims as headers", async () => {
  const token = await sign({ sub: "u-1", roles: ["admin", "ops"], exp: NOW() + 60 }, SECRET);
  const res = await appWith(forwarding).request("/", {
    headers: { authorization: `Bearer ${token}` },
  });
  equal(res.status, 200);
  deepEqual(await res.json(), {
    user: "u-1",
    roles: "admin,ops",
    authorization: `Bearer ${token}`,
  });
});

Deno.test("jwt() answers 401 with a Bearer challenge for a missing, forged or expired token", async () => {
  const app = appWith(forwarding);
  const forged = await sign({ sub: "u-1" }, "another-secret");
  const expired = await sign({ sub: "u-1", exp: NOW() - 60 }, SECRET);
  for (const authorization of [undefined, `Bearer ${forged}`, `Bearer ${expired}`, "Basic eDp5"]) {
    const res = await app.request("/", authorization ? { headers: { authorization } } : {});
    equal(res.status, 401, `authorization: ${authorization}`);
    match(res.headers.get("www-authenticate") ?? "", /^Bearer realm=/);
    await res.body?.cancel();
  }
});

Deno.test("jwt() drops claim headers the client sent itself", async () => {
  const token = await sign({ role: "user" }, SECRET); // no `sub` claim
  const res = await appWith(forwarding).request("/", {
    headers: { authorization: `Bearer ${token}`, "x-user-id": "admin", "x-roles": "root" },
  });
  deepEqual(await res.json(), {
    user: null,
    roles: null,
    authorization: `Bearer ${token}`,
  });
});

Deno.test("jwt() reads the token from a cookie, checks issuer and audience, strips the token", async () => {
  const app = appWith({
    secret: SECRET,
    alg: "HS512",
    cookie: "session",
    issuer: "https://id.example",
    audience: ["api"],
    stripToken: true,
    forwardClaims: { sub: "X-User-Id" },
  });
  const good = await sign({ sub: "u-2", iss: "https://id.example", aud: "api" }, SECRET, "HS512");
  const res = await app.request("/", { headers: { cookie: `session=${good}` } });
  equal(res.status, 200);
  deepEqual(await res.json(), { user: "u-2", roles: null, authorization: null });

  const viaHeader = await app.request("/", { headers: { authorization: `Bearer ${good}` } });
  equal((await viaHeader.json()).authorization, null, "stripToken removes the header");

  for (
    const payload of [
      { sub: "u-2", iss: "https://evil.example", aud: "api" },
      { sub: "u-2", iss: "https://id.example", aud: "web" },
    ]
  ) {
    const bad = await sign(payload, SECRET, "HS512");
    const denied = await app.request("/", { headers: { cookie: `session=${bad}` } });
    equal(denied.status, 401, JSON.stringify(payload));
    await denied.body?.cancel();
  }
  const wrongAlg = await sign({ sub: "u-2", iss: "https://id.example", aud: "api" }, SECRET);
  const denied = await app.request("/", { headers: { cookie: `session=${wrongAlg}` } });
  equal(denied.status, 401, "HS256 token when HS512 is required");
  await denied.body?.cancel();
});

Deno.test("jwt() takes the secret from secretEnv, and refuses to start when it is unset", async () => {
  const token = await sign({ sub: "u-3" }, SECRET);
  const app = appWith({ secretEnv: "API_SECRET", forwardClaims: { sub: "X-User-Id" } }, {
    API_SECRET: SECRET,
  });
  const res = await app.request("/", { headers: { authorization: `Bearer ${token}` } });
  equal((await res.json()).user, "u-3");
  throws(
    () => jwt(jwtConfig.parse({ secretEnv: "NOT_SET" }), { env: () => undefined }),
    /Cannot create jwt middleware as 'secretEnv' names an unset environment variable: current value is 'NOT_SET'/,
  );
});

Deno.test("claimHeaderValue() makes any claim a valid header value", () => {
  equal(claimHeaderValue("plain"), "plain");
  equal(claimHeaderValue(42), "42");
  equal(claimHeaderValue(["a", 1, true]), "a,1,true");
  equal(claimHeaderValue({ org: "x" }), '{"org":"x"}');
  equal(claimHeaderValue("line\nbreak"), "line%0Abreak");
  equal(claimHeaderValue("Zoë"), "Zo%C3%AB");
  equal(new Headers({ x: claimHeaderValue("tab\there\r\n") }).get("x"), "tab%09here%0D%0A");
});

Deno.test("jwt plugin: invalid options are reported with their key path", () => {
  const registry = new MiddlewareRegistry().registerPlugin("jwt", jwtPlugin, "test");
  const cases: [Record<string, unknown>, RegExp][] = [
    [{}, /'plugin\.jwt': set exactly one of 'secret' and 'secretEnv'/],
    [{ secret: "s", secretEnv: "S" }, /set exactly one of 'secret' and 'secretEnv'/],
    [{ secret: "s", alg: "none" }, /'plugin\.jwt\.alg'/],
    [
      { secret: "s", forwardClaims: { sub: "X User" } },
      /'plugin\.jwt\.forwardClaims\.sub': must be an HTTP header name/,
    ],
    [{ secret: "s", audience: [] }, /'plugin\.jwt\.audience'/],
  ];
  for (const [options, expected] of cases) {
    const r = registry.resolve({ plugin: { jwt: options } });
    ok(!r.ok, JSON.stringify(options));
    match(r.error, expected);
  }
});

Deno.test("jwt plugin loaded from config: a real Pacer rejects anonymous requests and forwards claims", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    plugins: { jwt: repoPath("plugins/jwt/mod.ts") },
    dynamic: `http:
  routers:
    private:
      rule: PathPrefix(\`/private\`)
      entryPoints: [web]
      service: app
      middlewares: [auth]
    public:
      rule: PathPrefix(\`/public\`)
      entryPoints: [web]
      service: app
  middlewares:
    auth:
      plugin:
        jwt:
          secret: ${SECRET}
          forwardClaims:
            sub: X-User-Id
  services:
    app:
      loadBalancer:
        servers: [{ url: "${up.url}" }]
`,
  });
  const anonymous = await p.request("/private/a");
  equal(anonymous.status, 401);
  await anonymous.body?.cancel();
  equal(await (await p.request("/public/a")).text(), "up");

  const token = await sign({ sub: "u-9" }, SECRET);
  const ok200 = await p.request("/private/b", { headers: { authorization: `Bearer ${token}` } });
  equal(await ok200.text(), "up");
  const seen = up.seen.find((s) => s.path === "/private/b");
  equal(seen?.headers.get("x-user-id"), "u-9");
  equal(up.seen.some((s) => s.path === "/private/a"), false, "the 401 never reached the upstream");
});
