import { equal, match, ok, rejects } from "node:assert/strict";
import { memoryLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { definePlugin, z } from "../../src/plugin/mod.ts";
import {
  importPlugin,
  loadPlugins,
  pluginShapeProblem,
  runningFromSource,
  shippedPluginDir,
} from "../../src/plugin/loader.ts";
import * as requestIdModule from "../../plugins/request_id/mod.ts";
import { testContext } from "../middleware/_ctx.ts";

const SHIPPED = (dir: string) => new URL(`../../plugins/${dir}/mod.ts`, import.meta.url).href;

Deno.test("shippedPluginDir() from the source tree: only this tree's plugins/<folder>/mod.ts", () => {
  ok(runningFromSource());
  const cases: [string, string | undefined][] = [
    [SHIPPED("request_id"), "request_id"],
    [SHIPPED("canary"), "canary"],
    [SHIPPED("not_in_manifest"), undefined],
    [new URL("../../plugins/request_id/other.ts", import.meta.url).href, undefined],
    ["file:///etc/pacer/plugins/request_id/mod.ts", undefined],
    ["npm:pacer-plugin-x", undefined],
  ];
  for (const [specifier, expected] of cases) {
    equal(shippedPluginDir(specifier), expected, specifier);
  }
});

Deno.test("shippedPluginDir() in a bundle or binary: any .../plugins/<shipped folder>/mod.ts", () => {
  const cases: [string, string | undefined][] = [
    ["file:///srv/pacer/plugins/request_id/mod.ts", "request_id"],
    ["file:///etc/pacer/plugins/jwt/mod.ts", "jwt"],
    ["file:///etc/pacer/plugins/my_own/mod.ts", undefined],
    ["file:///etc/pacer/request_id/mod.ts", undefined],
    ["npm:request_id", undefined],
  ];
  for (const [specifier, expected] of cases) {
    equal(shippedPluginDir(specifier, false), expected, specifier);
  }
});

Deno.test("importPlugin() gives a shipped plugin through the manifest: the same module", async () => {
  equal(await importPlugin(SHIPPED("request_id")), requestIdModule);
});

Deno.test("pluginShapeProblem() explains what a module is missing", () => {
  const plugin = definePlugin({ name: "p", config: z.object({}), create: () => async () => {} });
  const cases: [unknown, RegExp | undefined][] = [
    [{ default: plugin }, undefined],
    [{}, /the module has no default export: end it with `export default definePlugin/],
    [{ default: null }, /its default export is null, not a plugin/],
    [{ default: () => {} }, /its default export is a function, not a plugin/],
    [
      { default: {} },
      /'name' must be a non-empty string, 'config' must be a zod schema.*'create' must be a function/,
    ],
    [
      { default: { ...plugin, config: { type: "object" } } },
      /not a plugin: 'config' must be a zod schema/,
    ],
  ];
  for (const [loaded, expected] of cases) {
    const problem = pluginShapeProblem(loaded);
    if (expected === undefined) equal(problem, undefined);
    else match(problem ?? "", expected);
  }
});

Deno.test("loadPlugins() registers a module that fails to load as a plugin whose create() reports it", async () => {
  const registry = new MiddlewareRegistry();
  const { log, records } = memoryLogger();
  await loadPlugins(
    { broken: { module: "file:///x/broken.ts" }, empty: { module: "file:///x/empty.ts" } },
    registry,
    log,
    {
      importer: (specifier) =>
        specifier.endsWith("broken.ts")
          ? Promise.reject(new SyntaxError("Unexpected token '}'"))
          : Promise.resolve({}),
    },
  );
  for (
    const [name, reason] of [["broken", /Unexpected token/], [
      "empty",
      /no default export/,
    ]] as const
  ) {
    const registered = registry.getPlugin(name);
    ok(registered, `${name} is registered`);
    await rejects(
      Promise.resolve().then(() => registered.definition.create({}, testContext())),
      (error: Error) => {
        match(
          error.message,
          new RegExp(`^plugin '${name}' could not be loaded from file:///x/${name}\\.ts: `),
        );
        match(error.message, reason);
        return true;
      },
    );
  }
  const errors = records().filter((r) =>
    r.msg === "Plugin failed to load; routers using it are disabled"
  );
  equal(errors.length, 2);
  equal(errors[0]!.plugin, "broken");
  equal(errors[0]!.module, "file:///x/broken.ts");
});

Deno.test("loadPlugins() gives up on an import that never settles", async () => {
  const registry = new MiddlewareRegistry();
  const { log } = memoryLogger();
  await loadPlugins({ stuck: { module: "file:///x/stuck.ts" } }, registry, log, {
    importer: () => new Promise(() => {}),
    timeoutMs: 20,
  });
  await rejects(
    Promise.resolve().then(() => registry.getPlugin("stuck")!.definition.create({}, testContext())),
    /could not be loaded from file:\/\/\/x\/stuck\.ts: importing the module did not finish within 20ms/,
  );
});

Deno.test("loadPlugins() bounds create(): a create that never settles fails and its signal aborts", async () => {
  let signal: AbortSignal | undefined;
  const hanging = definePlugin({
    name: "hanging",
    version: "0.1.0",
    config: z.object({}),
    create(_config, ctx) {
      signal = ctx.signal;
      return new Promise(() => {});
    },
  });
  const registry = new MiddlewareRegistry();
  const { log, records } = memoryLogger();
  await loadPlugins({ hanging: { module: "file:///x/hanging.ts" } }, registry, log, {
    importer: () => Promise.resolve({ default: hanging }),
    timeoutMs: 20,
  });
  const ctx = testContext();
  await rejects(
    Promise.resolve(registry.getPlugin("hanging")!.definition.create({}, ctx)),
    /create\(\) did not finish within 20ms/,
  );
  ok(signal?.aborted, "the abandoned instance's signal is aborted");
  equal(ctx.signal.aborted, false, "the generation's own signal is untouched");
  ctx.dispose();
  const loaded = records().find((r) => r.msg === "Plugin loaded");
  equal(loaded?.version, "0.1.0");
});

Deno.test("loadPlugins() keeps a plugin's fields and its ctx.signal following the generation", async () => {
  let signal: AbortSignal | undefined;
  const replaying = definePlugin({
    name: "replaying",
    description: "d",
    replaysDownstream: true,
    config: z.object({ n: z.number().default(1) }),
    create(_config, ctx) {
      signal = ctx.signal;
      return async (_c, next) => await next();
    },
  });
  const registry = new MiddlewareRegistry();
  await loadPlugins({ rp: { module: "file:///x/rp.ts" } }, registry, memoryLogger().log, {
    importer: () => Promise.resolve({ default: replaying }),
  });
  const { definition } = registry.getPlugin("rp")!;
  equal(definition.name, "replaying");
  equal(definition.replaysDownstream, true);
  equal(definition.description, "d");
  equal(definition.config, replaying.config);
  const ctx = testContext();
  await definition.create({ n: 1 }, ctx);
  equal(signal?.aborted, false);
  ctx.dispose();
  equal(signal?.aborted, true, "aborting the generation reaches the plugin");
});

Deno.test("loadPlugins() never throws, even for names that differ only by case", async () => {
  const registry = new MiddlewareRegistry();
  const { log, records } = memoryLogger();
  await loadPlugins(
    { requestId: { module: SHIPPED("request_id") }, requestid: { module: SHIPPED("request_id") } },
    registry,
    log,
  );
  equal(registry.plugins().length, 1);
  ok(records().some((r) => r.msg === "Plugin not registered" && r.plugin === "requestid"));
  const loaded = records().find((r) => r.msg === "Plugin loaded");
  equal(loaded?.shipped, true);
});
