import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { Hono } from "hono";
import canaryPlugin, { canary, type CanaryConfig, canaryConfig } from "../../plugins/canary/mod.ts";
import type { ServiceCall } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { upstream } from "../_helpers/upstream.ts";
import { testContext } from "../middleware/_ctx.ts";
import { configuredPacer, repoPath } from "./_configured.ts";

/** A fake canary service recording the requests it got. */
function fakeService(): { call: ServiceCall; paths: string[] } {
  const paths: string[] = [];
  return {
    paths,
    call: (_c, request) => {
      paths.push(new URL(request.url).pathname);
      return Promise.resolve(new Response("canary"));
    },
  };
}

function appWith(config: Partial<CanaryConfig>, call: ServiceCall): Hono {
  const app = new Hono();
  app.use(canary(canaryConfig.parse({ service: "api-canary", ...config }), call));
  app.all("*", (c) => c.text(`stable, canary=${c.get("canary")}`));
  return app;
}

Deno.test("canary() sends a request whose header matches a value to the canary service", async () => {
  const svc = fakeService();
  const app = appWith({ header: "X-Canary", values: ["always", "1"] }, svc.call);
  equal(await (await app.request("/a", { headers: { "X-Canary": "always" } })).text(), "canary");
  equal(await (await app.request("/b", { headers: { "X-Canary": "1" } })).text(), "canary");
  equal(
    await (await app.request("/c", { headers: { "X-Canary": "never" } })).text(),
    "stable, canary=false",
  );
  equal(await (await app.request("/d")).text(), "stable, canary=false");
  deepEqual(svc.paths, ["/a", "/b"]);
});

Deno.test("canary() matches a cookie, exactly or by regex", async () => {
  const svc = fakeService();
  const app = appWith({ cookie: "release", values: ["beta"], regex: "^rc-\\d+$" }, svc.call);
  const cases: [string | undefined, string][] = [
    ["release=beta", "canary"],
    ["theme=dark; release=rc-12", "canary"],
    ["release=rc-x", "stable, canary=false"],
    ["release=BETA", "stable, canary=false"],
    ["other=beta", "stable, canary=false"],
    [undefined, "stable, canary=false"],
  ];
  for (const [cookie, expected] of cases) {
    const res = await app.request("/", cookie ? { headers: { cookie } } : {});
    equal(await res.text(), expected, `cookie ${cookie}`);
  }
});

Deno.test("canary() with header and cookie: either one matching selects the canary", async () => {
  const svc = fakeService();
  const app = appWith({ header: "X-Canary", cookie: "canary", values: ["yes"] }, svc.call);
  equal(await (await app.request("/", { headers: { "x-canary": "yes" } })).text(), "canary");
  equal(await (await app.request("/", { headers: { cookie: "canary=yes" } })).text(), "canary");
  equal(
    await (await app.request("/", { headers: { "x-canary": "no", cookie: "canary=no" } })).text(),
    "stable, canary=false",
  );
});

Deno.test("canary() tags responses with responseHeader, even immutable ones", async () => {
  const app = appWith(
    { header: "X-Canary", values: ["1"], responseHeader: "X-Served-By" },
    () => Promise.resolve(Response.redirect("http://canary.test/", 302)),
  );
  const canaryRes = await app.request("/", { headers: { "X-Canary": "1" } });
  equal(canaryRes.status, 302);
  equal(canaryRes.headers.get("x-served-by"), "canary");
  const stableRes = await app.request("/");
  await stableRes.body?.cancel();
  equal(stableRes.headers.get("x-served-by"), "stable");
});

Deno.test("canary plugin: create() fails clearly when the service does not exist", () => {
  throws(
    () =>
      canaryPlugin.create(
        canaryConfig.parse({ service: "nope", header: "X-C", values: ["1"] }),
        testContext(),
      ),
    (error: Error) => {
      equal(error.name, "RangeError");
      match(
        error.message,
        /Cannot create canary middleware as 'service' names no usable service: current value is 'nope'/,
      );
      return true;
    },
  );
});

Deno.test("canary plugin: create() calls the service ctx.service() returns", async () => {
  const svc = fakeService();
  const asked: string[] = [];
  const handler = await canaryPlugin.create(
    canaryConfig.parse({ service: "api-canary", header: "X-C", values: ["1"] }),
    testContext({ service: (name) => (asked.push(name), svc.call) }),
  );
  const app = new Hono().use(handler).get("/", (c) => c.text("stable"));
  equal(await (await app.request("/", { headers: { "X-C": "1" } })).text(), "canary");
  deepEqual(asked, ["api-canary"]);
});

Deno.test("canary plugin: invalid options are reported with their key path", () => {
  const registry = new MiddlewareRegistry().registerPlugin("canary", canaryPlugin, "test");
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ header: "X-C", values: ["1"] }, /'plugin\.canary\.service'/],
    [{ service: "s", values: ["1"] }, /'plugin\.canary': set 'header' or 'cookie'/],
    [{ service: "s", header: "X-C" }, /'plugin\.canary': set 'values' or 'regex'/],
    [
      { service: "s", header: "X-C", regex: "(" },
      /'plugin\.canary\.regex': is not a valid regular expression/,
    ],
    [{ service: "s", header: "X-C", values: "1" }, /'plugin\.canary\.values'/],
  ];
  for (const [options, expected] of cases) {
    const r = registry.resolve({ plugin: { canary: options } });
    ok(!r.ok, JSON.stringify(options));
    match(r.error, expected);
  }
});

Deno.test("canary plugin loaded from config: a real Pacer splits traffic; a missing service disables only its router", async () => {
  await using stable = await upstream("stable");
  await using canaryUp = await upstream("canary");
  await using p = await configuredPacer({
    plugins: { canary: repoPath("plugins/canary/mod.ts") },
    dynamic: `http:
  routers:
    api:
      rule: PathPrefix(\`/api\`)
      entryPoints: [web]
      service: api
      middlewares: [beta]
    broken:
      rule: PathPrefix(\`/broken\`)
      entryPoints: [web]
      service: api
      middlewares: [to-nowhere]
  middlewares:
    beta:
      plugin:
        canary:
          header: X-Canary
          cookie: canary
          values: [always]
          service: api-canary
          responseHeader: X-Track
    to-nowhere:
      plugin:
        canary:
          header: X-Canary
          values: [always]
          service: missing
  services:
    api:
      loadBalancer:
        servers: [{ url: "${stable.url}" }]
    api-canary:
      loadBalancer:
        servers: [{ url: "${canaryUp.url}" }]
`,
  });
  const plain = await p.request("/api/x");
  equal(await plain.text(), "stable");
  equal(plain.headers.get("x-track"), "stable");
  const byHeader = await p.request("/api/x", { headers: { "X-Canary": "always" } });
  equal(await byHeader.text(), "canary");
  equal(byHeader.headers.get("x-track"), "canary");
  equal(
    await (await p.request("/api/y", { headers: { cookie: "canary=always" } })).text(),
    "canary",
  );
  deepEqual(canaryUp.seen.map((s) => s.path), ["/api/x", "/api/y"]);

  const gone = await p.request("/broken");
  await gone.body?.cancel();
  equal(gone.status, 404, "the disabled router does not route");
  const raw = await p.rawdata();
  equal(raw.routers["broken@file"]?.status, "disabled");
  match(
    raw.routers["broken@file"]?.error?.join() ?? "",
    /middleware 'to-nowhere@file' \(canary\) failed to start: Cannot create canary middleware as 'service' names no usable service: current value is 'missing'/,
  );
  equal(raw.routers["api@file"]?.status, "enabled");
});
