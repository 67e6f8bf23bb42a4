import { equal, match, ok } from "node:assert/strict";
import { join } from "node:path";
import { FileProvider, loadFiles } from "../../src/provider/file/mod.ts";
import { memoryLogger, silentLogger } from "../../src/log/logger.ts";
import { builtinRegistry } from "../../src/middleware/builtins.ts";
import { ConfigError } from "../../src/config/source.ts";
import { startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";

function yaml(host: string, urls: string[]): string {
  return [
    "http:",
    "  routers:",
    "    app:",
    `      rule: Host(\`${host}\`)`,
    "      service: app",
    "  services:",
    "    app:",
    "      loadBalancer:",
    "        servers:",
    ...urls.map((u) => `          - url: ${u}`),
    "",
  ].join("\n");
}

async function until(pred: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 10));
  }
}

Deno.test("loadFiles() locates every problem and rejects the whole load", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(join(dir, "a.yaml"), "http:\n  routers:\n    r: {rule: x\n");
    await Deno.writeTextFile(join(dir, "b.yaml"), "htp:\n  routers: {}\n");
    const error = await loadFiles({ directory: dir, log: silentLogger }).catch((e) => e);
    ok(error instanceof ConfigError);
    equal(error.problems.length, 2);
    match(error.problems[0]!.location, /^a\.yaml:\d+:\d+$/);
    match(error.problems[1]!.location, /^b\.yaml:1:1$/);
    match(error.problems[1]!.message, /htp/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFiles() merges a directory recursively; a duplicate name is ignored with a located warning", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(dir, "sub"));
    await Deno.writeTextFile(join(dir, "a.yaml"), yaml("a.test", ["http://127.0.0.1:1"]));
    await Deno.writeTextFile(
      join(dir, "sub", "b.json"),
      JSON.stringify({
        http: {
          routers: {
            app: { rule: "Host(`b.test`)", service: "app" },
            other: { rule: "Host(`o.test`)", service: "app" },
          },
        },
      }),
    );
    const loaded = await loadFiles({ directory: dir, log: silentLogger });
    const routers = loaded.config.http!.routers as Record<string, { rule: string }>;
    equal(routers.app!.rule, "Host(`a.test`)");
    equal(routers.other!.rule, "Host(`o.test`)");
    const warning = loaded.diagnostics.find((d) => d.severity === "warning")!;
    match(warning.message, /http\.routers\.app is already defined in a\.yaml/);
    match(warning.location!, /^sub\/b\.json:1:\d+$/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadFiles() reports a bad item with its location and keeps the others", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "dyn.yaml");
    await Deno.writeTextFile(
      file,
      [
        "http:",
        "  middlewares:",
        "    strip:",
        "      stripPrefix:",
        "        prefixes: 3",
        "  routers:",
        "    ok:",
        "      rule: Host(`ok.test`)",
        "      service: s",
        "    bad:",
        "      rule: Host(`bad.test`)",
        "      servce: s",
        "",
      ].join("\n"),
    );
    const loaded = await loadFiles({
      filename: file,
      log: silentLogger,
      registry: builtinRegistry(),
    });
    const messages = loaded.diagnostics.map((d) => `${d.location} ${d.message}`);
    ok(messages.some((m) => /dyn\.yaml:1[12]:\d+ .*servce/.test(m)), messages.join("\n"));
    ok(messages.some((m) => /dyn\.yaml:3:5 .*stripPrefix\.prefixes/.test(m)), messages.join("\n"));
    ok("ok" in (loaded.config.http!.routers as object));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file provider: edits apply live under continuous traffic with zero failed requests", async () => {
  await using one = await upstream("one");
  await using two = await upstream("two");
  const dir = await Deno.makeTempDir();
  const file = join(dir, "dynamic.yaml");
  await Deno.writeTextFile(file, yaml("app.test", [one.url]));
  const provider = new FileProvider({ filename: file, log: silentLogger, debounceMs: 20 });
  try {
    await using p = await startPacer({ providers: [provider] });
    let failures = 0;
    let total = 0;
    const seen = new Set<string>();
    let running = true;
    const load = (async () => {
      while (running) {
        const res = await p.request("app.test").catch(() => undefined);
        total++;
        if (!res || res.status !== 200) failures++;
        seen.add(res ? await res.text() : "error");
      }
    })();
    for (let i = 0; i < 6; i++) {
      const target = i % 2 === 0 ? two : one;
      await Deno.writeTextFile(file, yaml("app.test", [target.url]));
      await until(async () => {
        const res = await p.request("app.test");
        return (await res.text()) === (target === two ? "two" : "one");
      });
    }
    running = false;
    await load;
    ok(total > 50, `sent ${total} requests`);
    equal(failures, 0);
    ok(seen.has("one") && seen.has("two"));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file provider: an invalid edit keeps the last good configuration and logs where the error is", async () => {
  await using one = await upstream("one");
  const dir = await Deno.makeTempDir();
  const file = join(dir, "dynamic.yaml");
  await Deno.writeTextFile(file, yaml("app.test", [one.url]));
  const { log, records } = memoryLogger("error");
  const provider = new FileProvider({ filename: file, log, debounceMs: 20 });
  try {
    await using p = await startPacer({ providers: [provider], log });
    equal(await (await p.request("app.test")).text(), "one");
    await Deno.writeTextFile(file, "http:\n  routers:\n    app: {rule: [\n");
    await until(() => records().some((r) => /keeping the last good one/.test(String(r.msg))));
    const error = records().find((r) => /keeping the last good one/.test(String(r.msg)))!;
    match(String(error.location), /dynamic\.yaml:\d+:\d+/);
    equal(
      await (await p.request("app.test")).text(),
      "one",
      "still routed by the last good configuration",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
