/**
 * Keeps docs/writing-a-plugin.md honest: every fenced code block in it is
 * claimed by a check below, and the test fails on a block nobody checks.
 *
 * - TypeScript blocks start with `// <path>`. They are written to a temp
 *   copy of that layout (relative imports of other files of this repository
 *   pointed back at it), type-checked with the project's configuration, and
 *   run: the guide's own test block with `deno test`, the plugins here.
 * - `# pacer.yaml` and `# dynamic.yaml` start a real Pacer with the guide's
 *   plugin; `# dynamic.yaml (broken)` must produce the guide's `text` block.
 * - The Marathon labels are decoded with the guide's plugin registered.
 * - `sh` commands must match `deno.json` tasks and the compile permissions.
 *
 * @module
 */
import { deepEqual, equal, match, ok, rejects, throws } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { install } from "@sinonjs/fake-timers";
import { Hono } from "hono";
import { loadStaticConfig } from "../../src/config/static.ts";
import { pacerOptions } from "../../src/cli/run.ts";
import { memoryLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import type { PluginDefinition, ServiceCall } from "../../src/plugin/mod.ts";
import { SHIPPED_PLUGINS } from "../../src/plugin/manifest.ts";
import { pluginShapeProblem } from "../../src/plugin/loader.ts";
import { buildConfiguration } from "../../src/provider/marathon/build.ts";
import { Pacer } from "../../src/server/pacer.ts";
import { app as marathonApp, localhostTask } from "../provider/marathon/_builders.ts";
import { upstream } from "../_helpers/upstream.ts";
import { testContext } from "../middleware/_ctx.ts";

const REPO = new URL("../../", import.meta.url);
const GUIDE_PATH = "docs/writing-a-plugin.md";
const ENV = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };

interface Block {
  readonly lang: string;
  readonly body: string;
  /** 1-based line of the opening fence. */
  readonly line: number;
  /** First line's `// path` or `# name`, if any. */
  readonly tag: string | undefined;
}

function parseBlocks(markdown: string): Block[] {
  const out: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    const first = body[0] ?? "";
    const tag = /^\/\/ (\S+\.ts)$/.exec(first)?.[1] ?? /^# (.+)$/.exec(first)?.[1];
    out.push({ lang: open[1]!, body: body.join("\n") + "\n", line: start + 1, tag });
  }
  return out;
}

const guide = parseBlocks(await Deno.readTextFile(new URL(GUIDE_PATH, REPO)));
const claimed = new Set<Block>();

/** The blocks matching `test`; each one is marked as checked. */
function take(test: (b: Block) => boolean, what: string, expected?: number): Block[] {
  const found = guide.filter(test);
  ok(found.length > 0, `the guide has ${what}`);
  if (expected !== undefined) equal(found.length, expected, `number of ${what}`);
  for (const b of found) claimed.add(b);
  return found;
}

const tsBlocks = take((b) => b.lang === "ts", "TypeScript blocks");
for (const b of tsBlocks) {
  ok(b.tag?.endsWith(".ts"), `TypeScript block at line ${b.line} starts with // <path>`);
}
const byPath = new Map(tsBlocks.map((b) => [b.tag!, b]));

/**
 * Writes the TypeScript blocks under `dir` at their paths. Relative imports
 * of files the guide does not define point back at this repository.
 */
async function writeGuideTree(dir: string): Promise<void> {
  for (const [path, block] of byPath) {
    const own = new URL(path, REPO);
    const source = block.body.replace(
      /((?:from|import)\s*\(?\s*")(\.\.?\/[^"]+)(")/g,
      (_all, before: string, specifier: string, after: string) => {
        const target = new URL(specifier, own);
        const relative = target.href.slice(REPO.href.length);
        return byPath.has(relative) ? before + specifier + after : before + target.href + after;
      },
    );
    const file = `${dir}/${path}`;
    await Deno.mkdir(file.slice(0, file.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(file, source);
  }
}

/** Runs deno with the repository's configuration; the lockfile is left alone. */
async function deno(args: string[], cwd: string): Promise<{ code: number; output: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      args[0]!,
      "--config",
      fileURLToPath(new URL("deno.json", REPO)),
      "--no-lock",
      ...args.slice(1),
    ],
    cwd,
    env: ENV,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  return { code: out.code, output: text };
}

async function withGuideTree<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "pacer-guide-" });
  try {
    await writeGuideTree(dir);
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function importPlugin(dir: string, path: string): Promise<PluginDefinition<unknown>> {
  const mod = await import(new URL(path, `file://${dir}/`).href);
  equal(pluginShapeProblem(mod), undefined, `${path} is a plugin module`);
  return mod.default;
}

/** Starts Pacer from `<dir>/pacer.yaml` as `pacer run` would, on a free port. */
async function startGuidePacer(dir: string) {
  const { config } = await loadStaticConfig({
    args: [
      `--configFile=${dir}/pacer.yaml`,
      "--entryPoints.web.address=127.0.0.1:0",
      "--providers.file.watch=false",
      "--providers.providersThrottleDuration=0s",
    ],
    env: {},
    cwd: dir,
    checkFiles: true,
  });
  const { log, records } = memoryLogger();
  const pacer = new Pacer(await pacerOptions(config, log));
  await pacer.start();
  for (let i = 0; i < 500 && !pacer.generation?.routers.size; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await pacer.settled();
  return { pacer, records, url: `http://127.0.0.1:${pacer.entryPoint("web").addr.port}` };
}

const yamlBlock = (tag: string) =>
  take((b) => b.lang === "yaml" && b.tag === tag, `# ${tag}`, 1)[0]!;
const staticYaml = yamlBlock("pacer.yaml");
const dynamicYaml = yamlBlock("dynamic.yaml");
const brokenYaml = yamlBlock("dynamic.yaml (broken)");
const SERVER = "http://10.0.0.1:8080";
const [errorText] = take((b) => b.lang === "text", "the error text block", 1);
const [labelsBlock] = take(
  (b) => b.body.trim().split("\n").every((l) => l.startsWith("traefik.")),
  "the labels block",
  1,
);
const [manifestBlock] = take((b) => b.tag === "src/plugin/manifest.ts", "the manifest block", 1);
const shellCommands = take((b) => b.lang === "sh", "shell blocks")
  .flatMap((b) => b.body.trim().split("\n"));

Deno.test("guide: every TypeScript block type-checks with the project's configuration", async () => {
  await withGuideTree(async (dir) => {
    const { code, output } = await deno(["check", ...byPath.keys()], dir);
    equal(code, 0, output);
  });
});

Deno.test("guide: the test block passes under deno test", async () => {
  const tests = [...byPath.keys()].filter((p) => p.endsWith("_test.ts"));
  deepEqual(tests, ["tests/plugins/my_plugin_test.ts"]);
  await withGuideTree(async (dir) => {
    const { code, output } = await deno(["test", ...tests], dir);
    equal(code, 0, output);
    match(output, /ok \| 2 passed \| 0 failed/);
  });
});

Deno.test("guide: pacer.yaml and dynamic.yaml load the plugin and stamp responses in a real Pacer", async () => {
  await using up = await upstream("api");
  await withGuideTree(async (dir) => {
    ok(dynamicYaml.body.includes(SERVER));
    await Deno.writeTextFile(`${dir}/pacer.yaml`, staticYaml.body);
    await Deno.writeTextFile(`${dir}/dynamic.yaml`, dynamicYaml.body.replace(SERVER, up.url));
    const { pacer, records, url } = await startGuidePacer(dir);
    try {
      ok(records().some((r) => r.msg === "Plugin loaded" && r.plugin === "myPlugin"));
      const res = await fetch(`${url}/api/`);
      equal(await res.text(), "api");
      equal(res.headers.get("x-served-by"), "edge-1");
      match(res.headers.get("server-timing") ?? "", /^upstream;dur=/);
    } finally {
      await pacer.stop();
    }
  });
});

Deno.test("guide: the broken dynamic.yaml disables the router with exactly the error the guide shows", async () => {
  await withGuideTree(async (dir) => {
    await Deno.writeTextFile(`${dir}/pacer.yaml`, staticYaml.body);
    await Deno.writeTextFile(`${dir}/dynamic.yaml`, brokenYaml.body);
    const { pacer, records } = await startGuidePacer(dir);
    try {
      const raw = pacer.rawdata() as {
        routers: Record<string, { status: string; error: string[] }>;
      };
      equal(raw.routers["api@file"]?.status, "disabled");
      equal(raw.routers["api@file"]?.error.join("; ") + "\n", errorText!.body);
      ok(records().some((r) => r.msg === "Router disabled" && r.router === "api@file"));
    } finally {
      await pacer.stop();
    }
  });
});

Deno.test("guide: the Marathon labels decode to the plugin's typed options", async () => {
  await withGuideTree(async (dir) => {
    const registry = new MiddlewareRegistry().registerPlugin(
      "myPlugin",
      await importPlugin(dir, "plugins/my_plugin/mod.ts"),
      "guide",
    );
    const entries = labelsBlock!.body.trim().split("\n").map((l) => {
      const eq = l.indexOf("=");
      return [l.slice(0, eq), l.slice(eq + 1)] as const;
    });
    const { config } = buildConfiguration(
      [marathonApp({
        id: "/api",
        labels: Object.fromEntries(entries),
        tasks: [localhostTask({ ports: [80] })],
      })],
      {},
      { now: new Date(0), registry },
    );
    deepEqual(config.http?.middlewares?.stamp, {
      plugin: { myPlugin: { name: "edge-1", timing: false } },
    });
    deepEqual((config.http?.routers?.api as { middlewares?: string[] }).middlewares, ["stamp"]);
    const resolved = registry.resolve(config.http!.middlewares!.stamp);
    ok(resolved.ok);
    deepEqual(resolved.options, { name: "edge-1", header: "X-Served-By", timing: false });
  });
});

Deno.test("guide: hitLog logs on its interval and stops when ctx.signal aborts", async () => {
  await withGuideTree(async (dir) => {
    const plugin = await importPlugin(dir, "plugins/hit_log/mod.ts");
    const clock = install({ toFake: ["setInterval", "clearInterval"] });
    try {
      const { log, records } = memoryLogger();
      const ctx = testContext({ log });
      const app = new Hono().use(await plugin.create(plugin.config.parse({ every: "10s" }), ctx));
      app.get("/", (c) => c.text("ok"));
      for (let i = 0; i < 3; i++) await (await app.request("/")).text();
      clock.tick(10_000);
      deepEqual(records().map((r) => [r.msg, r.hits]), [["Hits", 3]]);
      ctx.dispose();
      clock.tick(60_000);
      equal(records().length, 1, "no more lines once the generation is gone");
      equal(clock.countTimers(), 0, "the interval was cleared");
    } finally {
      clock.uninstall();
    }
  });
});

Deno.test("guide: fallback calls the other service for failed GETs only, and needs the service to exist", async () => {
  await withGuideTree(async (dir) => {
    const plugin = await importPlugin(dir, "plugins/fallback/mod.ts");
    const config = plugin.config.parse({ service: "backup" });
    throws(
      () => plugin.create(config, testContext()),
      /Cannot create fallback middleware as 'service' does not exist: current value is 'backup'/,
    );
    const backup: ServiceCall = () =>
      Promise.resolve(new Response("from backup", { headers: { "x-from": "backup" } }));
    const app = new Hono().use(await plugin.create(config, testContext({ service: () => backup })));
    app.all("/down", (c) => c.text("down", 503, { "x-from": "primary", "x-stale": "1" }));
    app.all("/up", (c) => c.text("up"));
    const failed = await app.request("/down");
    equal(await failed.text(), "from backup");
    equal(failed.headers.get("x-stale"), null, "no header of the failed response leaks");
    equal(await (await app.request("/up")).text(), "up");
    equal((await app.request("/down", { method: "POST", body: "x" })).status, 503);
  });
});

Deno.test("guide: legacyPath replays the chain under the legacy prefix after a 404", async () => {
  await withGuideTree(async (dir) => {
    const plugin = await importPlugin(dir, "plugins/legacy_path/mod.ts");
    equal(plugin.replaysDownstream, true);
    const config = plugin.config.parse({ from: "/v2", to: "/v1" });
    await rejects(
      Promise.resolve().then(() => plugin.create(config, testContext())),
      /needs ctx.downstream/,
    );
    const tried: string[] = [];
    const downstream = (_c: unknown, request: Request) => {
      const path = new URL(request.url).pathname;
      tried.push(`${request.method} ${path}`);
      return Promise.resolve(
        path.startsWith("/v1/")
          ? new Response(`legacy ${path}`)
          : new Response("nope", { status: 404 }),
      );
    };
    const app = new Hono().use(await plugin.create(config, testContext({ downstream })));
    equal(await (await app.request("/v2/users")).text(), "legacy /v1/users");
    equal((await app.request("/v2/users", { method: "POST", body: "{}" })).status, 404);
    equal((await app.request("/other")).status, 404);
    deepEqual(tried, ["GET /v2/users", "GET /v1/users", "POST /v2/users", "GET /other"]);
  });
});

Deno.test("guide: the manifest block is the real manifest plus the guide's plugin", async () => {
  const real = await Deno.readTextFile(new URL("src/plugin/manifest.ts", REPO));
  for (const line of manifestBlock!.body.split("\n").slice(1)) {
    if (line.includes("my_plugin")) continue;
    ok(real.includes(line), `manifest line in the guide is in src/plugin/manifest.ts: ${line}`);
  }
  for (const dir of Object.keys(SHIPPED_PLUGINS)) {
    ok(
      manifestBlock!.body.includes(`  ${dir}: () => import("../../plugins/${dir}/mod.ts"),`),
      `${dir} listed`,
    );
  }
});

Deno.test("guide: shell commands match deno.json tasks and the compile permissions", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", REPO))).tasks as Record<
    string,
    string
  >;
  const compile = tasks.compile!.split(" ");
  const permissions = compile.filter((a) => a.startsWith("--allow-"));
  ok(permissions.length >= 4, tasks.compile);
  const seen = new Set<string>();
  for (const command of shellCommands) {
    const args = command.split(" ");
    const [tool, sub] = args;
    equal(tool, "deno", command);
    seen.add(sub!);
    if (sub === "task") {
      ok(args[2]! in tasks, `deno task ${args[2]} exists`);
    } else if (sub === "test") {
      ok(byPath.has(args[2]!), `deno test runs a file the guide defines: ${command}`);
    } else if (sub === "run") {
      deepEqual(
        args.filter((a) => a.startsWith("--allow-")),
        permissions,
        `same permissions: ${command}`,
      );
      const entry = args.find((a) => a.endsWith(".ts") || a.endsWith(".js"));
      ok(entry === "src/main.ts" || tasks.bundle!.includes(`-o ${entry} `), `entry: ${command}`);
      if (entry?.endsWith(".js")) ok(args.includes("--unstable-no-legacy-abort"), command);
      ok(args.at(-1) === "--configFile=pacer.yaml", command);
    } else if (sub === "compile") {
      const include = args.indexOf("--include");
      ok(include > 0, `a manual compile is shown for --include: ${command}`);
      deepEqual([...args.slice(0, include), ...args.slice(include + 2)], compile, command);
    } else {
      throw new Error(`unchecked command in the guide: ${command}`);
    }
  }
  deepEqual([...seen].sort(), ["compile", "run", "task", "test"]);
});

Deno.test("guide: every code block is checked by this file", () => {
  const unchecked = guide.filter((b) => !claimed.has(b)).map((b) => `line ${b.line} (${b.lang})`);
  deepEqual(unchecked, []);
});
