/**
 * Failure isolation through a real Pacer started from configuration files:
 * a plugin that cannot load, whose options are invalid, whose `create`
 * throws or hangs, or that throws or hangs while handling a request, only
 * affects the routers using it. The plugin modules are written to a temp
 * dir per test (a module with a syntax error cannot live in the repo: it
 * would break `deno check` and `deno fmt`).
 *
 * @module
 */
import { equal, match, ok } from "node:assert/strict";
import { memoryLogger } from "../../src/log/logger.ts";
import { builtinRegistry } from "../../src/middleware/builtins.ts";
import { loadPlugins } from "../../src/plugin/loader.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";
import { configuredPacer, PLUGIN_API, repoPath } from "./_configured.ts";

/** Source of a plugin module importing the public API from this checkout. */
function pluginModule(body: string): string {
  return `import { definePlugin, z } from ${JSON.stringify(PLUGIN_API)};\n${body}\n`;
}

const FILES = {
  "syntax_error.ts": pluginModule(
    `export default definePlugin({ name: "syntaxError", config: z.object({}) create() {} });`,
  ),
  "throws_at_import.ts": pluginModule(`throw new Error("license server unreachable");`),
  "no_default.ts": pluginModule(
    `export const plugin = definePlugin({ name: "noDefault", config: z.object({}), create: () => async (_c, next) => { await next(); } });`,
  ),
  "not_a_plugin.ts": pluginModule(`export default { name: "notAPlugin", handler() {} };`),
  "create_throws.ts": pluginModule(
    `export default definePlugin({ name: "licensed", config: z.object({}), create() { throw new Error("no license key configured"); } });`,
  ),
  "misbehaving.ts": pluginModule(`export default definePlugin({
  name: "misbehaving",
  config: z.object({}),
  create: () => async function misbehaving(c, next) {
    if (c.req.path.endsWith("/throw")) throw new TypeError("cannot read 'x' of undefined");
    if (c.req.path.endsWith("/hang")) await new Promise(() => {});
    await next();
  },
});`),
};

/** A router on `web` for `/<name>` using `middlewares`. */
function router(name: string, middlewares: string[] = []): string {
  return `    ${name}:
      rule: PathPrefix(\`/${name}\`)
      entryPoints: [web]
      service: app
      middlewares: [${middlewares.join(", ")}]
`;
}

function dynamic(routers: string, middlewares: string, url: string): string {
  return `http:
  routers:
${routers}  middlewares:
${middlewares}  services:
    app:
      loadBalancer:
        servers: [{ url: "${url}" }]
`;
}

Deno.test("a plugin module that fails to load disables only the routers using it, with the error in logs and /api/rawdata", async () => {
  await using up = await upstream("up");
  const broken = [
    [
      "syntaxError",
      "syntax_error.ts",
      /SyntaxError: Expected ',', got 'create'.*syntax_error\.ts:2:/s,
    ],
    ["throwsAtImport", "throws_at_import.ts", /license server unreachable/],
    ["noDefault", "no_default.ts", /the module has no default export/],
    [
      "notAPlugin",
      "not_a_plugin.ts",
      /its default export is not a plugin: 'config' must be a zod schema/,
    ],
  ] as const;
  await using p = await configuredPacer({
    files: FILES,
    plugins: {
      ...Object.fromEntries(broken.map(([name, file]) => [name, `./${file}`])),
      requestId: repoPath("plugins/request_id/mod.ts"),
    },
    dynamic: dynamic(
      broken.map(([name]) => router(name, [`m-${name}`])).join("") +
        router("ok", ["ids"]) + router("plain"),
      broken.map(([name]) => `    m-${name}:\n      plugin:\n        ${name}: {}\n`).join("") +
        `    ids:\n      plugin:\n        requestId: {}\n`,
      up.url,
    ),
  });

  for (const path of ["/ok", "/plain"]) {
    const res = await p.request(path);
    equal(await res.text(), "up", `${path} keeps serving`);
  }
  const raw = await p.rawdata();
  const records = p.records();
  for (const [name, file, reason] of broken) {
    const res = await p.request(`/${name}`);
    await res.body?.cancel();
    equal(res.status, 404, `${name}: its router is not routed`);
    const r = raw.routers[`${name}@file`];
    equal(r?.status, "disabled", name);
    const error = r?.error?.join("; ") ?? "";
    match(error, new RegExp(`middleware 'm-${name}@file' \\(${name}\\) failed to start`));
    match(error, new RegExp(`plugin '${name}' could not be loaded from file://.*/${file}: `));
    match(error, reason);
    ok(
      records.some((l) =>
        l.msg === "Plugin failed to load; routers using it are disabled" && l.plugin === name
      ),
      `${name}: load error logged`,
    );
    ok(
      records.some((l) =>
        l.msg === "Router disabled" && l.router === `${name}@file` &&
        String(l.error).includes(`plugin '${name}' could not be loaded`)
      ),
      `${name}: disabled router logged`,
    );
  }
  equal(raw.routers["ok@file"]?.status, "enabled");
});

Deno.test("a middleware whose plugin options are invalid: the error names the plugin, the instance and the key path", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    plugins: { requestId: repoPath("plugins/request_id/mod.ts") },
    dynamic: dynamic(
      router("bad", ["bad-ids"]) + router("typo", ["typo-ids"]) + router("good", ["ids"]),
      `    bad-ids:\n      plugin:\n        requestId:\n          maxLength: 0\n` +
        `    typo-ids:\n      plugin:\n        requestId:\n          headerNme: X-Id\n` +
        `    ids:\n      plugin:\n        requestId: {}\n`,
      up.url,
    ),
  });
  equal(await (await p.request("/good")).text(), "up");
  const raw = await p.rawdata();
  equal(raw.middlewares["bad-ids@file"]?.status, "disabled");
  match(raw.middlewares["bad-ids@file"]?.error?.join() ?? "", /^'plugin\.requestId\.maxLength': /);
  match(
    raw.routers["bad@file"]?.error?.join() ?? "",
    /the middleware 'bad-ids@file' is disabled: 'plugin\.requestId\.maxLength': /,
  );
  match(
    raw.routers["typo@file"]?.error?.join() ?? "",
    /the middleware 'typo-ids@file' is disabled: 'plugin\.requestId': unknown option 'headerNme'/,
  );
  ok(
    p.records().some((l) =>
      l.msg === "Middleware disabled" && l.middleware === "bad-ids@file" &&
      String(l.error).includes("plugin.requestId.maxLength")
    ),
  );
  const res = await p.request("/bad");
  await res.body?.cancel();
  equal(res.status, 404);
});

Deno.test("a plugin whose create() throws disables only the routers using it", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    files: FILES,
    plugins: { licensed: "./create_throws.ts" },
    dynamic: dynamic(
      router("paid", ["lic"]) + router("also-paid", ["lic"]) + router("free"),
      `    lic:\n      plugin:\n        licensed: {}\n`,
      up.url,
    ),
  });
  equal(await (await p.request("/free")).text(), "up");
  const raw = await p.rawdata();
  for (const name of ["paid", "also-paid"]) {
    equal(raw.routers[`${name}@file`]?.status, "disabled");
    match(
      raw.routers[`${name}@file`]?.error?.join() ?? "",
      /middleware 'lic@file' \(licensed\) failed to start: no license key configured/,
    );
  }
  equal(raw.middlewares["lic@file"]?.status, "disabled");
  ok(p.records().some((l) => l.msg === "Router disabled" && l.router === "paid@file"));
});

Deno.test("a plugin whose create() never settles is given up on; the configuration still goes live", async () => {
  await using up = await upstream("up");
  const dir = await Deno.makeTempDir({ prefix: "pacer-plugins-" });
  try {
    await Deno.writeTextFile(
      `${dir}/stuck.ts`,
      pluginModule(
        `export default definePlugin({ name: "stuck", config: z.object({}), create: () => new Promise(() => {}) });`,
      ),
    );
    const registry = builtinRegistry();
    const { log } = memoryLogger();
    await loadPlugins({ stuck: { module: `file://${dir}/stuck.ts` } }, registry, log, {
      timeoutMs: 100,
    });
    await using p = await startPacer({
      registry,
      config: {
        http: {
          routers: {
            stuck: { rule: "PathPrefix(`/stuck`)", service: "s", middlewares: ["m"] },
            fine: { rule: "PathPrefix(`/fine`)", service: "s" },
          },
          middlewares: { m: { plugin: { stuck: {} } } },
          services: { s: lbService([up.url]) },
        },
      },
    });
    equal(await (await p.request("x", "/fine")).text(), "up");
    const raw = p.pacer.rawdata() as {
      routers: Record<string, { status: string; error?: string[] }>;
    };
    equal(raw.routers["stuck@file"]?.status, "disabled");
    match(raw.routers["stuck@file"]?.error?.join() ?? "", /create\(\) did not finish within 100ms/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a plugin that throws while handling a request: that request gets a 500 logged with plugin and router; Pacer keeps serving", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    files: FILES,
    plugins: { misbehaving: "./misbehaving.ts" },
    dynamic: dynamic(
      router("api", ["bad"]) + router("other"),
      `    bad:\n      plugin:\n        misbehaving: {}\n`,
      up.url,
    ),
  });
  const failed = await p.request("/api/throw");
  equal(failed.status, 500);
  equal(await failed.text(), "Internal Server Error", "no stack in the body");
  const line = p.records().find((l) => l.msg === "Middleware failed while handling a request");
  equal(line?.plugin, "misbehaving");
  equal(line?.middleware, "bad@file");
  equal(line?.router, "api@file");
  match(String(line?.error), /cannot read 'x' of undefined/);

  equal(await (await p.request("/api/fine")).text(), "up", "the same router keeps serving");
  equal(await (await p.request("/other")).text(), "up", "other routers keep serving");
});

Deno.test("a plugin that hangs while handling a request is cut by the entrypoint's writeTimeout (504); Pacer keeps serving", async () => {
  await using up = await upstream("up");
  await using p = await configuredPacer({
    files: FILES,
    plugins: { misbehaving: "./misbehaving.ts" },
    writeTimeout: "300ms",
    dynamic: dynamic(
      router("api", ["bad"]) + router("other"),
      `    bad:\n      plugin:\n        misbehaving: {}\n`,
      up.url,
    ),
  });
  const started = performance.now();
  const hung = p.request("/api/hang");
  // While it hangs, everything else is served.
  equal(await (await p.request("/other")).text(), "up");
  equal(await (await p.request("/api/fine")).text(), "up");
  const res = await hung;
  equal(res.status, 504);
  equal(await res.text(), "Gateway Timeout");
  const elapsed = performance.now() - started;
  ok(elapsed >= 250 && elapsed < 3000, `bounded by writeTimeout (${Math.round(elapsed)}ms)`);
  ok(p.records().some((l) => l.msg === "No response within writeTimeout"));
  equal(await (await p.request("/api/fine")).text(), "up", "still serving afterwards");
});
