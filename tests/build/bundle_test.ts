/**
 * `deno task bundle` end to end: the task's command builds the bundle into
 * a temp dir, which is then run on its own (`deno run`, explicit and narrow
 * permissions, outside the repository so no `deno.json` applies) with a
 * static configuration and a dynamic file, and real requests go through it
 * and through two shipped plugins.
 *
 * @module
 */
import { deepEqual, equal, match, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { upstream } from "../_helpers/upstream.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ENV = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0" };

/** The bundle task's arguments with its output file moved to `out`. */
async function bundleArgs(out: string): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(`${ROOT}/deno.json`)).tasks;
  const task = String(tasks.bundle).split(/\s+/);
  deepEqual(task.slice(0, 2), ["deno", "bundle"], `tasks.bundle: ${tasks.bundle}`);
  const o = task.indexOf("-o");
  ok(o > 0 && task[o + 1] === "dist/pacer.js", "the task writes dist/pacer.js");
  return task.slice(1).map((arg, i) => (i === o ? out : arg));
}

/** Log lines of a child process, as parsed JSON, with a way to wait for one. */
function logLines(stream: ReadableStream<Uint8Array>) {
  const lines: Record<string, unknown>[] = [];
  const raw: string[] = [];
  let wake: () => void = () => {};
  const done = (async () => {
    let buffer = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        raw.push(line);
        try {
          lines.push(JSON.parse(line));
        } catch {
          // Deno's own warnings are not JSON.
        }
        wake();
      }
    }
    wake();
  })();
  const waitFor = async (test: (l: Record<string, unknown>) => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const found = lines.find(test);
      if (found) return found;
      let timer: ReturnType<typeof setTimeout> | undefined;
      await Promise.race([
        new Promise<void>((r) => (wake = r)),
        new Promise<void>((r) => (timer = setTimeout(r, 50))),
      ]);
      clearTimeout(timer);
    }
    throw new Error(`log line not seen within ${ms}ms; got:\n${raw.join("\n")}`);
  };
  return { lines, raw, done, waitFor };
}

Deno.test("deno task bundle: the bundle runs alone and serves requests through shipped plugins", async () => {
  await using stable = await upstream("stable");
  await using canary = await upstream("canary");
  const dir = await Deno.makeTempDir({ prefix: "pacer-bundle-" });
  try {
    const built = await new Deno.Command(Deno.execPath(), {
      args: await bundleArgs(`${dir}/pacer.js`),
      cwd: ROOT,
      env: ENV,
      stdout: "piped",
      stderr: "piped",
    }).output();
    equal(built.code, 0, new TextDecoder().decode(built.stderr));

    // As deployed: the configuration names the plugins by path. The files are
    // copies that cannot run here (their ../../src imports are missing and
    // unreadable), so a working plugin proves the bundle used its own copy.
    for (const plugin of ["request_id", "canary"]) {
      await Deno.mkdir(`${dir}/plugins/${plugin}`, { recursive: true });
      await Deno.copyFile(`${ROOT}/plugins/${plugin}/mod.ts`, `${dir}/plugins/${plugin}/mod.ts`);
    }
    await Deno.writeTextFile(
      `${dir}/pacer.yaml`,
      `entryPoints:
  web:
    address: "127.0.0.1:0"
providers:
  providersThrottleDuration: 0s
  file:
    filename: dynamic.yaml
    watch: false
log:
  level: DEBUG
  format: json
plugins:
  requestId:
    module: ./plugins/request_id/mod.ts
  canary:
    module: ./plugins/canary/mod.ts
`,
    );
    await Deno.writeTextFile(
      `${dir}/dynamic.yaml`,
      `http:
  routers:
    api:
      rule: PathPrefix(\`/\`)
      service: stable
      middlewares: [ids, beta]
  middlewares:
    ids:
      plugin:
        requestId: {}
    beta:
      plugin:
        canary:
          header: X-Canary
          values: [always]
          service: canary
  services:
    stable:
      loadBalancer:
        servers: [{ url: "${stable.url}" }]
    canary:
      loadBalancer:
        servers: [{ url: "${canary.url}" }]
`,
    );

    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--unstable-no-legacy-abort",
        "--allow-net=127.0.0.1",
        `--allow-read=${dir}`,
        "--allow-env",
        "--allow-sys=hostname",
        `${dir}/pacer.js`,
        "--configFile=pacer.yaml",
      ],
      cwd: dir,
      env: ENV,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const log = logLines(child.stderr);
    const client = Deno.createHttpClient({});
    try {
      const listening = await log.waitFor((l) => l.msg === "Entrypoint listening", 15_000);
      await log.waitFor((l) => l.msg === "Configuration applied", 15_000);
      const base = `http://${listening.address}`;
      for (const plugin of ["requestId", "canary"]) {
        const loaded = log.lines.find((l) => l.plugin === plugin && l.msg === "Plugin loaded");
        equal(loaded?.shipped, true, `${plugin} came from the bundle: ${log.raw.join("\n")}`);
      }

      const res = await fetch(`${base}/hello`, { client });
      equal(await res.text(), "stable");
      const id = res.headers.get("x-request-id");
      match(id ?? "", /^[0-9a-f-]{36}$/);
      equal(stable.seen[0]?.headers.get("x-request-id"), id, "requestId forwarded the id");

      const toCanary = await fetch(`${base}/hello`, { client, headers: { "X-Canary": "always" } });
      equal(await toCanary.text(), "canary");
      equal(canary.seen.length, 1);
    } finally {
      client.close();
      child.kill("SIGTERM");
      const status = await child.status;
      await log.done;
      equal(status.code, 0, `Pacer stopped cleanly: ${log.raw.slice(-5).join("\n")}`);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
