import assert from "node:assert/strict";
import { parse as parseYaml } from "yaml";
import {
  marathonRoutesCommand,
  type MarathonRoutesIO,
  parseMarathonOptions,
  readAppsDocument,
} from "../../../src/cli/marathon_routes.ts";
import { main } from "../../../src/main.ts";
import { fastCluster } from "../../_helpers/sim.ts";
import { app, task } from "./_builders.ts";

const FIXTURE = new URL("../../fixtures/marathon/container_network_apps.json", import.meta.url)
  .pathname;

/** Runs the command with captured output and an in-memory file system. */
async function run(
  args: string[],
  files: Record<string, string> = {},
  extra: Partial<MarathonRoutesIO> = {},
) {
  let stdout = "";
  let stderr = "";
  const io: MarathonRoutesIO = {
    stdout: (s) => (stdout += s),
    stderr: (s) => (stderr += s),
    readFile: (path) => path in files ? Promise.resolve(files[path]!) : Deno.readTextFile(path),
    now: () => new Date("2024-05-01T12:00:00Z"),
    ...extra,
  };
  const code = await marathonRoutesCommand(args, io);
  return { code, stdout, stderr };
}

const APPS = {
  apps: [
    app({
      id: "/shop/web",
      labels: { "traefik.http.routers.web.rule": "Host(`shop.example.com`)" },
      tasks: [task({ id: "w.1", host: "10.0.0.5", ports: [31000] })],
    }),
    app({
      id: "/broken",
      labels: { "traefik.enable": "maybe" },
      tasks: [task({ host: "h", ports: [1] })],
    }),
  ],
};

Deno.test("marathon routes --apps: the configuration on stdout, diagnostics and a summary on stderr", async () => {
  const { code, stdout, stderr } = await run(["--apps", "apps.json"], {
    "apps.json": JSON.stringify(APPS),
  });
  assert.equal(code, 0);
  const config = JSON.parse(stdout);
  assert.deepEqual(config, {
    http: {
      routers: { web: { service: "shop_web", rule: "Host(`shop.example.com`)", ruleSyntax: "v2" } },
      services: {
        shop_web: {
          loadBalancer: { passHostHeader: true, servers: [{ url: "http://10.0.0.5:31000" }] },
        },
      },
    },
  });
  const lines = stderr.trim().split("\n");
  assert.match(lines[0]!, /^error\s+\/broken: /);
  assert.match(
    lines.at(-1)!,
    /^2 app\(s\) from apps\.json: 1 HTTP router\(s\), 1 HTTP service\(s\); 1 error\(s\)/,
  );
});

Deno.test("marathon routes accepts a bare array and GET /v2/apps/{id}; --format yaml; --strict", async () => {
  const bare = await run(["--apps", "a.json", "--format", "yaml"], {
    "a.json": JSON.stringify(APPS.apps),
  });
  assert.equal(bare.code, 0);
  assert.deepEqual(Object.keys(parseYaml(bare.stdout).http.routers), ["web"]);
  const one = await run(["--apps", "one.json"], {
    "one.json": JSON.stringify({ app: APPS.apps[0] }),
  });
  assert.equal(one.code, 0);
  assert.deepEqual(Object.keys(JSON.parse(one.stdout).http.services), ["shop_web"]);
  const strict = await run(["--apps", "a.json", "--strict"], { "a.json": JSON.stringify(APPS) });
  assert.equal(strict.code, 3, "an error diagnostic fails a --strict run");
  const clean = await run(["--apps", "one.json", "--strict"], {
    "one.json": JSON.stringify({ app: APPS.apps[0] }),
  });
  assert.equal(clean.code, 0);
});

Deno.test("marathon routes --option: providers.marathon names, any case, durations as strings", async () => {
  const { code, stdout } = await run([
    "--apps",
    FIXTURE,
    "--option",
    "defaultRule=Host(`{{ normalize .Name }}.example.com`)",
    "--option",
    "EXPOSEDBYDEFAULT=true",
    "--option",
    "forceTaskHostname=true",
  ]);
  assert.equal(code, 0);
  const config = JSON.parse(stdout);
  assert.equal(config.http.routers["overlay_web"].rule, "Host(`overlay-web.example.com`)");
  assert.match(config.http.services["overlay_web"].loadBalancer.servers[0].url, /agent-1\.example/);
  const opts = parseMarathonOptions([
    "responseHeaderTimeout=1m30s",
    "basic.httpBasicAuthUser=u",
    "watch=false",
  ]);
  assert.equal(opts.responseHeaderTimeout, 90_000);
  assert.equal(opts.basic?.httpBasicAuthUser, "u");
  assert.equal(opts.watch, false);
  const hidden = await run(["--apps", FIXTURE, "--option", "exposedByDefault=false"]);
  assert.deepEqual(JSON.parse(hidden.stdout), {}, "nothing exposed");
});

Deno.test("marathon routes exit codes: 1 when the input cannot be read, 2 on usage errors", async () => {
  const cases: [string[], Record<string, string>, number, RegExp][] = [
    [["--apps", "missing.json"], {}, 1, /Cannot read the apps from missing\.json/],
    [
      ["--apps", "bad.json"],
      { "bad.json": "{ nope" },
      1,
      /Cannot read the apps from bad\.json: .*JSON/,
    ],
    [
      ["--apps", "shape.json"],
      { "shape.json": '{"apps": 3}' },
      1,
      /expected the body of GET \/v2\/apps/,
    ],
    [[], {}, 2, /exactly one of --apps FILE and --endpoint URL/],
    [["--apps", "a", "--endpoint", "http://m"], {}, 2, /exactly one/],
    [["--apps", "a", "--option", "nope=1"], {}, 2, /--option nope: unknown option 'nope'/],
    [["--apps", "a", "--option", "watch"], {}, 2, /KEY=VALUE/],
    [["--apps", "a", "--option", "resyncInterval=soon"], {}, 2, /resyncInterval/],
    [
      ["--apps", "a", "--option", "defaultRule={{ .Name"],
      {},
      2,
      /providers\.marathon\.defaultRule/,
    ],
    [["--apps", "a", "--option", "constraints=Label("], {}, 2, /providers\.marathon\.constraints/],
    [["--apps", "a", "--format", "xml"], {}, 2, /--format must be json or yaml/],
    [["--apps", "a", "--now", "yesterday"], {}, 2, /--now must be an RFC 3339 time/],
    [["--unknown"], {}, 2, /Unknown option '--unknown'/],
  ];
  for (const [args, files, code, message] of cases) {
    const result = await run(args, files);
    assert.equal(result.code, code, `${args.join(" ")}: ${result.stderr}`);
    assert.match(result.stderr, message, args.join(" "));
    assert.equal(result.stdout, "", "nothing on stdout");
  }
  const help = await run(["--help"]);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: pacer marathon routes/);
});

Deno.test("marathon routes --endpoint lists a live Marathon once (auth options apply)", async () => {
  await using sim = await fastCluster({
    hostPortRange: [36700, 36799],
    auth: { basic: { user: "u", password: "p" } },
  });
  await sim.api.deploy({
    id: "/live",
    cmd: "x",
    instances: 1,
    cpus: 0.1,
    mem: 32,
    portDefinitions: [{ port: 0, name: "http" }],
  });
  const [t] = await sim.api.waitForRunning("/live");
  const ok = await run([
    "--endpoint",
    sim.leaderUrl,
    "--option",
    "basic.httpBasicAuthUser=u",
    "--option",
    "basic.httpBasicPassword=p",
  ]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout).http.services.live.loadBalancer.servers, [
    { url: `http://${t!.host}:${t!.ports[0]}` },
  ]);
  const refused = await run(["--endpoint", sim.leaderUrl]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Cannot list the apps of Marathon at .*HTTP 401/);
});

Deno.test("pacer marathon <anything but routes> is a usage error; readAppsDocument() shapes", async () => {
  const code = await main(["marathon", "nope"]);
  assert.equal(code, 2);
  assert.deepEqual(readAppsDocument('{"apps":[{"id":"/a"}]}'), [{ id: "/a" }]);
  assert.throws(() => readAppsDocument('{"app": []}'), TypeError);
});
