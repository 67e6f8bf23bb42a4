/**
 * Host and port detection: Traefik v2.11's `TestGetServer`
 * (`pkg/provider/marathon/config_test.go`) ported as data, then Pacer's
 * address corrections (API.md §4, NOTES.md §1.5) and the crash fixes (§15).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import {
  type EndpointOptions,
  joinHostPort,
  resolveEndpoint,
} from "../../../src/provider/marathon/network.ts";
import { type MarathonApp, readApp } from "../../../src/provider/marathon/types.ts";
import { buildConfiguration } from "../../../src/provider/marathon/build.ts";
import {
  app,
  ipAddrPerTask,
  localhostTask,
  NOW,
  task,
  type TaskInput,
  testRegistry,
} from "./_builders.ts";

function readOk(raw: unknown): MarathonApp {
  const r = readApp(raw);
  if (!r.ok) throw new Error(r.message);
  return r.app;
}

const OPTIONS: EndpointOptions = {
  forceTaskHostname: false,
  ipAddressIdx: undefined,
  labelPrefix: "traefik",
};

interface Case {
  desc: string;
  app: unknown;
  task?: TaskInput & { raw?: Record<string, unknown> };
  port?: string;
  options?: Partial<EndpointOptions>;
  url?: string;
  error?: RegExp;
}

function endpointUrl(c: Case): { url?: string; error?: string } {
  const marathonApp = readOk(c.app);
  const t = marathonApp.tasks[0] ?? readOk({ id: "/x", tasks: [task()] }).tasks[0]!;
  const r = resolveEndpoint(marathonApp, t, c.port ?? "", { ...OPTIONS, ...c.options });
  return r.ok ? { url: `http://${joinHostPort(r.host, r.port)}` } : { error: r.error };
}

const traefikCases: Case[] = [
  { desc: "undefined host", app: app({ id: "/app" }), error: /host is undefined/ },
  {
    desc: "with task port",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80] })] }),
    url: "http://localhost:80",
  },
  {
    desc: "without task port",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask()] }),
    error: /no port found/,
  },
  {
    desc: "with default server port",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80] })] }),
    port: "88",
    url: "http://localhost:88",
  },
  {
    desc: "with invalid default server port",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80] })] }),
    port: "aaaa",
    error: /"aaaa" is not a number/,
  },
  {
    desc: "with negative default server port",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80] })] }),
    port: "-6",
    error: /explicitly specified port -6 must be greater than zero/,
  },
  {
    desc: "with port index",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80, 81] })] }),
    port: "index:1",
    url: "http://localhost:81",
  },
  {
    desc: "with out of range port index",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80, 81] })] }),
    port: "index:2",
    error: /index 2 must be within range \(0, 1\)/,
  },
  {
    desc: "with invalid port index",
    app: app({ id: "/app", ports: [80], tasks: [localhostTask({ ports: [80, 81] })] }),
    port: "index:aaa",
    error: /the index is not a number/,
  },
  {
    desc: "with port name",
    app: app({
      id: "/app",
      portDefinitions: [{ port: 80, name: "fist-port" }, { port: 81, name: "second-port" }, {
        port: 82,
        name: "third-port",
      }],
      tasks: [localhostTask()],
    }),
    port: "name:third-port",
    url: "http://localhost:82",
  },
  {
    desc: "with port name not found",
    app: app({
      id: "/app",
      portDefinitions: [{ port: 80, name: "fist-port" }, { port: 81, name: "second-port" }],
      tasks: [localhostTask()],
    }),
    port: "name:other-name",
    error: /no port with name other-name/,
  },
  {
    desc: "with application port and no task port",
    app: app({
      id: "/app",
      ports: [80],
      portDefinitions: [{ port: 80, name: "http" }],
      tasks: [localhostTask()],
    }),
    url: "http://localhost:80",
  },
  {
    desc: "with IP per task",
    app: app({ id: "/app", ports: [80], ipAddress: ipAddrPerTask(88), tasks: [localhostTask()] }),
    url: "http://127.0.0.1:88",
  },
  {
    desc: "with bridge network",
    app: app({
      id: "/app",
      ports: [83],
      networks: [{ mode: "container/bridge" }],
      tasks: [localhostTask({ ports: [80, 81] })],
    }),
    url: "http://localhost:80",
  },
  {
    desc: "with several IP addresses on task",
    app: app({
      id: "/app",
      ports: [83],
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ id: "myTask", host: "localhost", ipAddresses: ["127.0.0.1", "127.0.0.2"] })],
    }),
    options: { ipAddressIdx: 0 },
    url: "http://127.0.0.1:88",
  },
  {
    desc: "with several IP addresses on task, undefined IPAddressIdx",
    app: app({
      id: "/app",
      ports: [83],
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ host: "localhost", ipAddresses: ["127.0.0.1", "127.0.0.2"] })],
    }),
    error:
      /found 2 task IP addresses but no traefik\.marathon\.ipaddressidx label; set it to one of 0\.\.1/,
  },
  {
    desc: "with several IP addresses on task, IPAddressIdx out of range",
    app: app({
      id: "/app",
      ports: [83],
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ host: "localhost", ipAddresses: ["127.0.0.1", "127.0.0.2"] })],
    }),
    options: { ipAddressIdx: 3 },
    error: /ipaddressidx=3 cannot select from 2 task IP addresses/,
  },
  {
    desc: "with task without IP address",
    app: app({
      id: "/app",
      ports: [83],
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ host: "localhost" })],
    }),
    error: /has no IP address/,
  },
];

for (const c of traefikCases) {
  Deno.test(`resolveEndpoint() (Traefik case) ${c.desc}`, () => {
    const got = endpointUrl(c);
    if (c.error) {
      ok(
        got.error && c.error.test(got.error),
        `expected an error matching ${c.error}, got ${JSON.stringify(got)}`,
      );
    } else {
      deepEqual(got, { url: c.url });
    }
  });
}

// Pacer's corrections and crash fixes.
const pacerCases: Case[] = [
  {
    desc: "container network with host ports dials the agent (Traefik: container IP + host port)",
    app: app({
      id: "/app",
      networks: [{ mode: "container" }],
      tasks: [localhostTask({ ports: [80, 81] })],
    }),
    url: "http://localhost:80",
  },
  {
    desc: "container network without host port dials the container IP on the containerPort",
    app: app({
      id: "/app",
      networks: [{ mode: "container", name: "dcos" }],
      container: {
        portMappings: [{ containerPort: 8080, name: "http" }, {
          containerPort: 9090,
          name: "admin",
        }],
      },
      tasks: [task({ host: "agent1", ipAddresses: ["9.0.0.7"] })],
    }),
    url: "http://9.0.0.7:8080",
  },
  {
    desc: "container network: index:N selects among container ports",
    app: app({
      id: "/app",
      networks: [{ mode: "container" }],
      container: { portMappings: [{ containerPort: 8080 }, { containerPort: 9090 }] },
      tasks: [task({ host: "agent1", ipAddresses: ["9.0.0.7"] })],
    }),
    port: "index:1",
    url: "http://9.0.0.7:9090",
  },
  {
    desc: "container network: name:X finds a container-only mapping",
    app: app({
      id: "/app",
      networks: [{ mode: "container" }],
      container: {
        portMappings: [{ containerPort: 8080, name: "http" }, {
          containerPort: 9090,
          name: "admin",
        }],
      },
      tasks: [task({ host: "agent1", ipAddresses: ["9.0.0.7"] })],
    }),
    port: "name:admin",
    url: "http://9.0.0.7:9090",
  },
  {
    desc:
      "container network: name:X of a mapping with a host port uses the task's host port on the agent",
    app: app({
      id: "/app",
      networks: [{ mode: "container" }],
      container: {
        portMappings: [{ containerPort: 53, name: "dns" }, {
          containerPort: 8080,
          hostPort: 0,
          name: "http",
        }],
      },
      tasks: [task({ host: "agent1", ipAddresses: ["9.0.0.7"], ports: [31005] })],
    }),
    port: "name:http",
    url: "http://agent1:31005",
  },
  {
    desc: "bridge network: name:X of a port mapping resolves to the task's host port",
    app: app({
      id: "/app",
      networks: [{ mode: "container/bridge" }],
      container: { portMappings: [{ containerPort: 80, hostPort: 0, name: "web" }] },
      tasks: [task({ host: "agent1", ipAddresses: ["172.17.0.2"], ports: [31999] })],
    }),
    port: "name:web",
    url: "http://agent1:31999",
  },
  {
    desc: "container network: an explicit port is dialed on the container IP (as Traefik)",
    app: app({ id: "/app", networks: [{ mode: "container" }], tasks: [localhostTask()] }),
    port: "8443",
    url: "http://127.0.0.1:8443",
  },
  {
    desc: "forceTaskHostname dials the agent even in IP mode",
    app: app({ id: "/app", ipAddress: ipAddrPerTask(88), tasks: [localhostTask()] }),
    options: { forceTaskHostname: true },
    url: "http://localhost:88",
  },
  {
    desc: "networks[0] decides; legacy ipAddress is then ignored",
    app: app({
      id: "/app",
      networks: [{ mode: "host" }],
      ipAddress: ipAddrPerTask(88),
      tasks: [localhostTask()],
    }),
    url: "http://localhost:88",
  },
  {
    desc: "networks: [] is read as absent (Traefik panics)",
    app: app({ id: "/app", networks: [], tasks: [localhostTask({ ports: [80] })] }),
    url: "http://localhost:80",
  },
  {
    desc: "a discovery without ports is read as empty (Traefik panics)",
    app: app({ id: "/app", ipAddress: { discovery: {} }, tasks: [localhostTask()] }),
    error: /no port found/,
  },
  {
    desc: "ipaddressidx equal to the number of addresses is an error (Traefik panics)",
    app: app({
      id: "/app",
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ host: "localhost", ipAddresses: ["127.0.0.1", "127.0.0.2"] })],
    }),
    options: { ipAddressIdx: 2 },
    error: /ipaddressidx=2 cannot select/,
  },
  {
    desc: "one IP address ignores ipaddressidx",
    app: app({ id: "/app", ipAddress: ipAddrPerTask(88), tasks: [localhostTask()] }),
    options: { ipAddressIdx: 5 },
    url: "http://127.0.0.1:88",
  },
  {
    desc: "host ports need no ipaddressidx even with several task IPs",
    app: app({
      id: "/app",
      networks: [{ mode: "container" }],
      tasks: [task({ host: "agent", ipAddresses: ["1.1.1.1", "2.2.2.2"], ports: [31000] })],
    }),
    url: "http://agent:31000",
  },
  {
    desc: "app-level ports are never used",
    app: app({ id: "/app", ports: [80, 81], tasks: [localhostTask()] }),
    error: /no port found/,
  },
  {
    desc: "an explicit port above 65535 is an error",
    app: app({ id: "/app", tasks: [localhostTask({ ports: [80] })] }),
    port: "70000",
    error: /at most 65535/,
  },
  {
    desc: "IPv6 task addresses are bracketed",
    app: app({
      id: "/app",
      ipAddress: ipAddrPerTask(88),
      tasks: [task({ host: "h", ipAddresses: ["fd00::1"] })],
    }),
    url: "http://[fd00::1]:88",
  },
];

for (const c of pacerCases) {
  Deno.test(`resolveEndpoint() (Pacer) ${c.desc}`, () => {
    const got = endpointUrl(c);
    if (c.error) {
      ok(
        got.error && c.error.test(got.error),
        `expected an error matching ${c.error}, got ${JSON.stringify(got)}`,
      );
    } else {
      deepEqual(got, { url: c.url });
    }
  });
}

// Real payloads from /work/shared/marathon/samples (copied under tests/fixtures/marathon).

async function fixture(name: string): Promise<unknown[]> {
  const text = await Deno.readTextFile(new URL(`../../fixtures/marathon/${name}`, import.meta.url));
  return (JSON.parse(text) as { apps: unknown[] }).apps;
}

function urls(config: { http?: { services?: Record<string, unknown> } }): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [name, s] of Object.entries(config.http?.services ?? {})) {
    out[name] = (s as { loadBalancer: { servers: Array<{ url: string }> } }).loadBalancer.servers
      .map((x) => x.url);
  }
  return out;
}

Deno.test("buildConfiguration() Marathon 1.5 sample (container/bridge): agent host with the host port, never the docker IP", async () => {
  const apps = await fixture("marathon-lb_marathon15_apps.json");
  const { config, diagnostics } = buildConfiguration(apps, {}, {
    now: NOW,
    registry: testRegistry(),
  });
  deepEqual(urls(config), { pywebserver: ["http://10.0.2.148:1565"] });
  deepEqual(diagnostics, []);
});

Deno.test("buildConfiguration() Marathon 1.5 blue/green sample: three running tasks on the agent", async () => {
  const apps = await fixture("marathon-lb_zdd_app_blue_marathon1.5.json");
  const { config } = buildConfiguration(apps, {}, { now: NOW, registry: testRegistry() });
  deepEqual(urls(config), {
    "nginx-green": ["http://10.0.6.25:16916", "http://10.0.6.25:31184", "http://10.0.6.25:23336"],
  });
});

Deno.test("buildConfiguration() legacy samples: tasks without state are not TASK_RUNNING, so the app is dropped with a reason", async () => {
  const apps = await fixture("marathon-lb_zdd_apps.json");
  const { config, diagnostics } = buildConfiguration(apps, {}, {
    now: NOW,
    registry: testRegistry(),
  });
  deepEqual(urls(config), {});
  ok(diagnostics.some((d) => d.appId === "/nginx-green" && d.message.includes("TASK_RUNNING")));
});

Deno.test("buildConfiguration() legacy BRIDGE samples with running tasks: agent host and host port, not the 172.17 IP", async () => {
  const apps = (await fixture("marathon-lb_zdd_apps.json")).map((a) => {
    const raw = a as { tasks: Array<Record<string, unknown>> };
    return { ...raw, tasks: raw.tasks.map((t) => ({ ...t, state: "TASK_RUNNING" })) };
  });
  const { config } = buildConfiguration(apps, {}, { now: NOW, registry: testRegistry() });
  const all = Object.values(urls(config)).flat();
  ok(all.length > 0);
  ok(all.every((u) => /^http:\/\/10\.0\.\d+\.\d+:\d+$/.test(u)), all.join(" "));
  equal(urls(config)["nginx-green"]![0], "http://10.0.6.25:16916");
});

Deno.test("buildConfiguration() 1.5 container network fixture: container IP with containerPort, agent with host port", async () => {
  const apps = await fixture("container_network_apps.json");
  const { config, diagnostics } = buildConfiguration(apps, {}, {
    now: NOW,
    registry: testRegistry(),
  });
  deepEqual(urls(config), {
    "mixed_api": ["http://agent-1.example:31001", "http://agent-2.example:31002"],
    "overlay_web": ["http://9.0.1.10:8080", "http://9.0.1.11:8080"],
    "pinger": ["http://9.0.2.20:7777"],
  });
  deepEqual(diagnostics.map((d) => [d.severity, d.taskId]), [[
    "info",
    "overlay_web.instance-5e6f._app.1",
  ]]);
});
