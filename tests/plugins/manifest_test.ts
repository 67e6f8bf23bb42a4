import { deepEqual, equal, ok } from "node:assert/strict";
import { SHIPPED_PLUGINS } from "../../src/plugin/manifest.ts";
import { pluginShapeProblem } from "../../src/plugin/loader.ts";

const PLUGINS_DIR = new URL("../../plugins/", import.meta.url);

/** Folders of `plugins/`, sorted. */
async function pluginFolders(): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(PLUGINS_DIR)) {
    if (entry.isDirectory) out.push(entry.name);
  }
  return out.sort();
}

Deno.test("SHIPPED_PLUGINS lists every folder of plugins/, sorted, and nothing else", async () => {
  const folders = await pluginFolders();
  const listed = Object.keys(SHIPPED_PLUGINS);
  const expected = folders.map((d) => `  ${d}: () => import("../../plugins/${d}/mod.ts"),`)
    .join("\n");
  deepEqual(
    listed,
    folders,
    `src/plugin/manifest.ts must list exactly the folders of plugins/; expected entries:\n${expected}`,
  );
});

Deno.test("each SHIPPED_PLUGINS entry imports its own folder's plugin module", async () => {
  const source = await Deno.readTextFile(new URL("../../src/plugin/manifest.ts", import.meta.url));
  for (const [dir, load] of Object.entries(SHIPPED_PLUGINS)) {
    // Literal specifiers are what deno bundle and deno compile follow.
    ok(
      source.includes(`${dir}: () => import("../../plugins/${dir}/mod.ts")`),
      `${dir} is imported with a string literal`,
    );
    const mod = await load();
    equal(pluginShapeProblem(mod), undefined, `plugins/${dir}/mod.ts is a plugin module`);
    const direct = await import(new URL(`${dir}/mod.ts`, PLUGINS_DIR).href);
    equal(mod, direct, `${dir}: same module instance as the file`);
  }
});

Deno.test("every shipped plugin folder has a README.md", async () => {
  for (const dir of await pluginFolders()) {
    const readme = await Deno.readTextFile(new URL(`${dir}/README.md`, PLUGINS_DIR));
    ok(readme.startsWith("# "), `plugins/${dir}/README.md has a title`);
  }
});
