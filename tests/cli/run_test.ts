import { equal, ok } from "node:assert/strict";
import { join } from "node:path";
import { upstream } from "../_helpers/upstream.ts";

const root = new URL("../../", import.meta.url);
const main = new URL("src/main.ts", root).pathname;
const pluginApi = new URL("src/plugin/mod.ts", root).href;

/** `deno run <permissions> src/main.ts <args>` with piped output and no colours. */
function pacerRun(permissions: string[], args: string[], cwd?: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...permissions, main, ...args],
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" },
    ...(cwd ? { cwd } : {}),
  });
}

function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

Deno.test("pacer run: serves from a config file, survives a plugin's stray errors, exits 0 on SIGTERM, flushes its access log", async () => {
  await using up = await upstream("hello");
  const dir = await Deno.makeTempDir();
  const port = freePort();
  try {
    await Deno.writeTextFile(
      join(dir, "bomb.ts"),
      `import { definePlugin, z } from ${JSON.stringify(pluginApi)};
export default definePlugin({
  name: "bomb",
  config: z.object({}),
  create(_config, ctx) {
    // Background work gone wrong: neither may take Pacer down.
    const timer = setTimeout(() => { throw new Error("background boom"); }, 20);
    ctx.signal.addEventListener("abort", () => clearTimeout(timer));
    Promise.reject(new Error("rejected boom"));
    return async function bomb(_c, next) { await next(); };
  },
});
`,
    );
    await Deno.writeTextFile(
      join(dir, "dynamic.yaml"),
      `http:
  routers:
    r: { rule: "PathPrefix(\`/\`)", service: s, middlewares: [b] }
  middlewares:
    b: { plugin: { bomb: {} } }
  services:
    s: { loadBalancer: { servers: [{ url: "${up.url}" }] } }
`,
    );
    const config = join(dir, "pacer.yaml");
    await Deno.writeTextFile(
      config,
      `entryPoints:
  web:
    address: 127.0.0.1:${port}
providers:
  file:
    filename: ${join(dir, "dynamic.yaml")}
plugins:
  bomb:
    module: ./bomb.ts
log:
  format: json
accessLog:
  filePath: ${join(dir, "access.log")}
  bufferingSize: 100
`,
    );
    const child = pacerRun(["--allow-net", "--allow-read", "--allow-env", `--allow-write=${dir}`], [
      "--configFile",
      config,
    ]).spawn();
    const stderr = new Response(child.stderr).text();
    const stdout = new Response(child.stdout).text();
    let body = "";
    for (let i = 0; i < 200 && body !== "hello"; i++) {
      body = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text(), () => "");
      if (body !== "hello") await new Promise((r) => setTimeout(r, 50));
    }
    equal(body, "hello");
    await new Promise((r) => setTimeout(r, 100)); // the stray errors have fired by now
    equal(await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()), "hello", "still serving");
    child.kill("SIGTERM");
    const status = await child.status;
    const logs = (await stderr).split("\n").filter(Boolean).map((l) => JSON.parse(l));
    await stdout;
    equal(status.code, 0, JSON.stringify(logs.slice(-5)));
    ok(
      logs.some((l) =>
        l.msg === "Unhandled promise rejection (Pacer keeps running)" &&
        /rejected boom/.test(l.error)
      ),
    );
    ok(
      logs.some((l) =>
        l.msg === "Uncaught error (Pacer keeps running)" && /background boom/.test(l.error)
      ),
    );
    ok(logs.some((l) => l.msg === "Stopped"));
    // Buffered lines are written at shutdown.
    const served = (await Deno.readTextFile(join(dir, "access.log"))).split("\n")
      .filter((line) => / "GET \/ -" 200 5 "-" "[^"]*" \d+ "r@file" /.test(line));
    ok(served.length >= 2, `two served requests in the access log, got ${served.length}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pacer run: an invalid static configuration stops start-up with every problem located", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const config = join(dir, "pacer.yaml");
    await Deno.writeTextFile(
      config,
      "entryPoints:\n  web:\n    adress: ':80'\nlog:\n  level: LOUD\n",
    );
    const out = await pacerRun(["--allow-read", "--allow-env"], ["--configFile", config]).output();
    equal(out.code, 1);
    const text = new TextDecoder().decode(out.stderr);
    ok(text.startsWith("Invalid static configuration:"), text);
    ok(/pacer\.yaml:3:5: .*adress/.test(text), text);
    ok(/pacer\.yaml:5:3: .*level.*LOUD/.test(text), text);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("pacer run: a missing permission is explained with the flag to add", async () => {
  const out = await pacerRun(
    ["--allow-read", "--allow-env"],
    ["--entryPoints.web.address=127.0.0.1:0"],
    await Deno.makeTempDir(),
  ).output();
  equal(out.code, 1);
  const text = new TextDecoder().decode(out.stderr);
  ok(/^Missing permission: .*--allow-net/.test(text), text);
});

Deno.test("pacer run: a log or access log file it may not write is explained with the flag", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const option of ["--log.filePath=pacer.log", "--accessLog.filePath=access.log"]) {
      const out = await pacerRun(
        ["--allow-net", "--allow-read", "--allow-env"],
        ["--entryPoints.web.address=127.0.0.1:0", option],
        dir,
      ).output();
      const text = new TextDecoder().decode(out.stderr);
      equal(out.code, 1, text);
      ok(/^Missing permission: Requires write access .*--allow-write/.test(text), text);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
