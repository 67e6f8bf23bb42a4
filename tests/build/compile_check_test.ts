import { deepEqual, equal, ok, rejects } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkCompile, isEmbedded, parseEmbeddedFiles, pluginModules } from "./compile_check.ts";

// Trimmed from real `deno compile` output (2.9.6): whole folders collapse to `dir/*`.
const LISTING = `Check src/main.ts
Compile src/main.ts to dist/pacer

Embedded Files

pacer
├─┬ .deno_compile_node_modules (9.2MB - 9.08MB unique)
│ └─┬ localhost (9.2MB - 9.08MB unique)
│   ├─┬ @sinonjs (217.94KB - 217.15KB unique)
│   │ └── fake-timers/* (179.81KB - 179.8KB unique)
│   └── zod/4.6.7/* (5.93MB - 5.86MB unique)
├─┬ plugins (35.57KB)
│ ├── canary/mod.ts (11.12KB)
│ └── request_id/mod.ts (10.51KB)
└─┬ src (1.7MB)
  ├── api/* (32.53KB)
  ├── main.ts (4.15KB)
  └─┬ provider (30.86KB)
    └── throttle.ts (3.53KB)

Files: 10.53MB
`;

Deno.test("parseEmbeddedFiles() reads deno compile's Embedded Files tree into paths", () => {
  deepEqual(parseEmbeddedFiles(LISTING), [
    ".deno_compile_node_modules/localhost/@sinonjs/fake-timers/*",
    ".deno_compile_node_modules/localhost/zod/4.6.7/*",
    "plugins/canary/mod.ts",
    "plugins/request_id/mod.ts",
    "src/api/*",
    "src/main.ts",
    "src/provider/throttle.ts",
  ]);
  deepEqual(parseEmbeddedFiles("Check src/main.ts\n"), []);
});

Deno.test("isEmbedded() honours whole-folder entries and nothing broader", () => {
  const entries = parseEmbeddedFiles(LISTING);
  ok(isEmbedded(entries, "plugins/canary/mod.ts"));
  ok(!isEmbedded(entries, "plugins/jwt/mod.ts"), "a plugin missing from the listing");
  ok(isEmbedded(entries, "src/api/rawdata.ts"));
  ok(!isEmbedded(entries, "src/apix/rawdata.ts"));
  ok(isEmbedded(["plugins/*"], "plugins/jwt/mod.ts"));
});

Deno.test("checkCompile() finds every plugin type-checked, in the graph and embedded, and deletes the output", async () => {
  const report = await checkCompile();
  const plugins = await pluginModules();
  ok(plugins.length >= 3);
  deepEqual(report.plugins, plugins);
  const root = new URL("../../", import.meta.url);
  for (const plugin of plugins) {
    ok(report.graph.includes(new URL(plugin, root).href), `${plugin} in the graph`);
    ok(isEmbedded(report.embedded, plugin), `${plugin} embedded`);
  }
  ok(isEmbedded(report.embedded, "src/main.ts"));
  equal(report.command[0], "compile");
  await rejects(Deno.stat(report.output), Deno.errors.NotFound, "the non-runnable output is gone");
});

Deno.test("deno task build:check runs the same checks and exits 0", async () => {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build:check"],
    cwd: fileURLToPath(new URL("../../", import.meta.url)),
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const out = new TextDecoder().decode(stdout);
  equal(code, 0, new TextDecoder().decode(stderr));
  for (const plugin of await pluginModules()) ok(out.includes(`  ${plugin}\n`), plugin);
});
