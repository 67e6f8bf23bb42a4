/**
 * Keeps the shipped plugins' READMEs true: their configuration examples
 * load, their label examples decode, and their option tables list exactly
 * the options the schema has.
 *
 * @module
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { parse } from "yaml";
import { describeSchema } from "../../src/config/schema_walk.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { SHIPPED_PLUGINS } from "../../src/plugin/manifest.ts";
import type { PluginDefinition } from "../../src/plugin/mod.ts";
import { buildConfiguration } from "../../src/provider/marathon/build.ts";
import { app as marathonApp, localhostTask } from "../provider/marathon/_builders.ts";

const PLUGINS = new URL("../../plugins/", import.meta.url);

interface Readme {
  readonly dir: string;
  readonly text: string;
  readonly blocks: { lang: string; body: string }[];
}

async function readmes(): Promise<Readme[]> {
  const out: Readme[] = [];
  for (const dir of Object.keys(SHIPPED_PLUGINS)) {
    const text = await Deno.readTextFile(new URL(`${dir}/README.md`, PLUGINS));
    const blocks = [...text.matchAll(/^```(\S*)\n([\s\S]*?)^```$/gm)].map((m) => ({
      lang: m[1]!,
      body: m[2]!,
    }));
    out.push({ dir, text, blocks });
  }
  return out;
}

async function definitionOf(dir: string): Promise<PluginDefinition<unknown>> {
  return ((await SHIPPED_PLUGINS[dir]!()) as { default: PluginDefinition<unknown> }).default;
}

Deno.test("plugin READMEs: the YAML examples name the plugin's module and their middlewares validate", async () => {
  for (const { dir, blocks } of await readmes()) {
    const yamls = blocks.filter((b) => b.lang === "yaml");
    ok(yamls.length > 0, `${dir}/README.md has a YAML example`);
    for (const { body } of yamls) {
      const doc = parse(body) as {
        plugins: Record<string, { module: string }>;
        http: { middlewares: Record<string, unknown> };
      };
      const [name, entry] = Object.entries(doc.plugins)[0]!;
      equal(entry.module, `./plugins/${dir}/mod.ts`, `${dir}: module path`);
      const registry = new MiddlewareRegistry().registerPlugin(name, await definitionOf(dir), dir);
      for (const [instance, middleware] of Object.entries(doc.http.middlewares)) {
        const resolved = registry.resolve(middleware);
        ok(resolved.ok, `${dir}: middleware '${instance}': ${resolved.ok ? "" : resolved.error}`);
      }
    }
  }
});

Deno.test("plugin READMEs: the Marathon label examples decode and validate", async () => {
  for (const { dir, blocks } of await readmes()) {
    const labelBlocks = blocks.filter((b) => b.body.trim().startsWith("traefik."));
    ok(labelBlocks.length > 0, `${dir}/README.md has a label example`);
    const name = /plugin\.([A-Za-z0-9_]+)\./.exec(labelBlocks[0]!.body)![1]!;
    const registry = new MiddlewareRegistry().registerPlugin(name, await definitionOf(dir), dir);
    for (const { body } of labelBlocks) {
      const labels = Object.fromEntries(
        body.trim().split("\n").map((line) => {
          const eq = line.indexOf("=");
          return [line.slice(0, eq), line.slice(eq + 1)];
        }),
      );
      const { config, diagnostics } = buildConfiguration(
        [marathonApp({ id: "/app", labels, tasks: [localhostTask({ ports: [80] })] })],
        {},
        { now: new Date(0), registry },
      );
      deepEqual(diagnostics, [], `${dir}: labels decode`);
      const middlewares = Object.entries(config.http?.middlewares ?? {});
      ok(middlewares.length > 0, `${dir}: a middleware is declared`);
      for (const [instance, middleware] of middlewares) {
        const resolved = registry.resolve(middleware);
        ok(
          resolved.ok,
          `${dir}: label middleware '${instance}': ${resolved.ok ? "" : resolved.error}`,
        );
      }
    }
  }
});

Deno.test("plugin READMEs: the option table lists exactly the schema's options", async () => {
  for (const { dir, text } of await readmes()) {
    const rows = [...text.matchAll(/^\| `([A-Za-z]+)` +\|/gm)].map((m) => m[1]!).sort();
    const node = describeSchema((await definitionOf(dir)).config);
    ok(node.kind === "object", dir);
    const keys = [...node.fields.values()].map((f) => f.key).sort();
    deepEqual(rows, keys, `${dir}/README.md option table`);
  }
});
