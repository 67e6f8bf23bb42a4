import { deepEqual, equal, match, notEqual, ok } from "node:assert/strict";
import { Hono } from "hono";
import requestIdPlugin, {
  requestId,
  type RequestIdConfig,
  requestIdConfig,
  uuidv7,
} from "../../plugins/request_id/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { buildConfiguration } from "../../src/provider/marathon/build.ts";
import { app as marathonApp, localhostTask } from "../provider/marathon/_builders.ts";
import { upstream } from "../_helpers/upstream.ts";
import { testContext } from "../middleware/_ctx.ts";
import { configuredPacer, repoPath } from "./_configured.ts";

const UUID4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** An app whose handler reports what it saw: the forwarded header and the context variable. */
function appWith(config: Partial<RequestIdConfig>, generate?: () => string): Hono {
  const app = new Hono();
  app.use(requestId(requestIdConfig.parse(config), generate ? { generate } : {}));
  app.all("*", (c) =>
    c.json({
      header: c.req.header(config.headerName ?? "X-Request-Id") ?? null,
      variable: c.get("requestId"),
    }));
  return app;
}

Deno.test("requestId() generates a UUID, forwards it, sets c.var.requestId and echoes it", async () => {
  const res = await appWith({}).request("/");
  const seen = await res.json();
  match(seen.header, UUID4);
  equal(seen.variable, seen.header);
  equal(res.headers.get("x-request-id"), seen.header);
});

Deno.test("requestId() keeps a valid incoming id", async () => {
  const res = await appWith({}).request("/", { headers: { "X-Request-Id": "abc-123.def:4/5+6=" } });
  deepEqual(await res.json(), { header: "abc-123.def:4/5+6=", variable: "abc-123.def:4/5+6=" });
  equal(res.headers.get("x-request-id"), "abc-123.def:4/5+6=");
});

Deno.test("requestId() replaces incoming ids that are malformed or too long", async () => {
  const app = appWith({ maxLength: 16 }, () => "generated");
  for (const bad of ['{"inject":1}', "a b", "one, two", "x".repeat(17), "ümlaut", "<script>"]) {
    const res = await app.request("/", { headers: { "X-Request-Id": bad } });
    const seen = await res.json();
    equal(seen.header, "generated", `replaced: ${JSON.stringify(bad)}`);
    equal(res.headers.get("x-request-id"), "generated");
  }
});

Deno.test("requestId() always generates when trustIncoming is false", async () => {
  const res = await appWith({ trustIncoming: false }, () => "fresh").request("/", {
    headers: { "X-Request-Id": "client-chosen" },
  });
  deepEqual(await res.json(), { header: "fresh", variable: "fresh" });
});

Deno.test("requestId() honours headerName, pattern and echo", async () => {
  const app = appWith(
    { headerName: "X-Correlation-Id", pattern: "^req-[0-9]+$", echo: false },
    () => "req-0",
  );
  const kept = await app.request("/", { headers: { "x-correlation-id": "req-42" } });
  deepEqual(await kept.json(), { header: "req-42", variable: "req-42" });
  equal(kept.headers.get("x-correlation-id"), null, "echo: false");
  const replaced = await app.request("/", { headers: { "x-correlation-id": "abc" } });
  equal((await replaced.json()).header, "req-0");
});

Deno.test("uuidv7() puts the time first, version 7 and the RFC 9562 variant", () => {
  const at = Date.UTC(2026, 0, 2, 3, 4, 5, 6);
  const id = uuidv7(at);
  match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  equal(parseInt(id.replace(/-/g, "").slice(0, 12), 16), at);
  notEqual(uuidv7(at), id, "random part differs");
  ok(uuidv7(at + 1) > id, "sorts by time");
});

Deno.test("requestId plugin: generator uuidv7 through create()", async () => {
  const app = new Hono();
  app.use(
    await requestIdPlugin.create(requestIdConfig.parse({ generator: "uuidv7" }), testContext()),
  );
  app.get("/", (c) => c.text(c.get("requestId")));
  const res = await app.request("/");
  match(await res.text(), /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
});

Deno.test("requestId plugin: invalid options are reported with their key path", () => {
  const registry = new MiddlewareRegistry().registerPlugin("requestId", requestIdPlugin, "test");
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ headerName: "X Request" }, /'plugin\.requestId\.headerName': must be an HTTP header name/],
    [{ pattern: "([" }, /'plugin\.requestId\.pattern': is not a valid regular expression/],
    [{ maxLength: 0 }, /'plugin\.requestId\.maxLength'/],
    [{ generator: "snowflake" }, /'plugin\.requestId\.generator'/],
    [{ headerNme: "X-Id" }, /unknown option 'headerNme'/],
  ];
  for (const [options, expected] of cases) {
    const r = registry.resolve({ plugin: { requestId: options } });
    ok(!r.ok, JSON.stringify(options));
    match(r.error, expected);
  }
});

Deno.test("requestId plugin: options from Marathon labels are typed by the plugin's schema", () => {
  const registry = new MiddlewareRegistry().registerPlugin("requestId", requestIdPlugin, "test");
  const { config } = buildConfiguration(
    [marathonApp({
      id: "/api",
      labels: {
        "traefik.http.middlewares.ids.plugin.requestId.headerName": "X-Trace-Id",
        "traefik.http.middlewares.ids.plugin.requestId.trustIncoming": "false",
        "traefik.http.middlewares.ids.plugin.requestId.maxLength": "64",
        "traefik.http.routers.api.middlewares": "ids",
      },
      tasks: [localhostTask({ ports: [80] })],
    })],
    {},
    { now: new Date(0), registry },
  );
  deepEqual(config.http?.middlewares?.ids, {
    plugin: { requestId: { headerName: "X-Trace-Id", trustIncoming: false, maxLength: 64 } },
  });
  ok(registry.resolve(config.http!.middlewares!.ids).ok);
});

Deno.test("requestId plugin loaded from config: a real Pacer forwards and echoes the id", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    plugins: { requestId: repoPath("plugins/request_id/mod.ts") },
    dynamic: `http:
  routers:
    api:
      rule: PathPrefix(\`/\`)
      entryPoints: [web]
      service: api
      middlewares: [ids]
  middlewares:
    ids:
      plugin:
        requestId:
          headerName: X-Correlation-Id
  services:
    api:
      loadBalancer:
        servers:
          - url: ${up.url}
`,
  });
  const fresh = await p.request("/a");
  equal(await fresh.text(), "up");
  const id = fresh.headers.get("x-correlation-id");
  match(id ?? "", UUID4);
  equal(up.seen[0]!.headers.get("x-correlation-id"), id, "forwarded upstream");

  const kept = await p.request("/b", { headers: { "X-Correlation-Id": "trace-7" } });
  await kept.body?.cancel();
  equal(kept.headers.get("x-correlation-id"), "trace-7");
  equal(up.seen[1]!.headers.get("x-correlation-id"), "trace-7");
  ok(
    p.records().some((r) => r.msg === "Plugin loaded" && r.plugin === "requestId"),
    "the loader logged the plugin",
  );
});
