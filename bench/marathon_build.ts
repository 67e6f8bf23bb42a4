/**
 * Times `buildConfiguration()` on synthetic clusters of 100, 1,000 and 10,000
 * apps × 3 running tasks (target: 1,000 apps under 50 ms). A plain script,
 * not part of the test run:
 *
 *     deno run bench/marathon_build.ts
 *
 * A third of the apps have no labels, a third declare a router and a service
 * port, a third add middlewares, a health check and a TLS router; every tenth
 * app shares a blue/green service with its neighbour, so merging does real work.
 *
 * @module
 */
import { buildConfiguration } from "../src/provider/marathon/build.ts";

function syntheticApps(count: number): unknown[] {
  const apps: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const id = `/team${i % 20}/app-${i}`;
    const labels: Record<string, string> = { owner: `team${i % 20}` };
    if (i % 3 === 1) {
      labels[`traefik.http.routers.r${i}.rule`] =
        `Host(\`app-${i}.example.com\`) && PathPrefix(\`/api\`)`;
      labels[`traefik.http.routers.r${i}.entrypoints`] = "web, websecure";
      labels[`traefik.http.services.s${i}.loadbalancer.server.port`] = "index:0";
    } else if (i % 3 === 2) {
      labels[`traefik.http.routers.r${i}.tls`] = "true";
      labels[`traefik.http.routers.r${i}.tls.certresolver`] = "le";
      labels[`traefik.http.routers.r${i}.middlewares`] = `chain${i}`;
      labels[`traefik.http.middlewares.chain${i}.chain.middlewares`] = "a@file, b@file";
      labels[`traefik.http.services.s${i}.loadbalancer.healthcheck.path`] = "/health";
      labels[`traefik.http.services.s${i}.loadbalancer.healthcheck.interval`] = "10s";
    }
    if (i % 10 === 0) {
      labels["traefik.http.services.shared-bluegreen.loadbalancer.server.port"] = "";
    }
    apps.push({
      id,
      labels,
      deployments: [],
      readinessChecks: [],
      readinessCheckResults: [],
      networks: [{ mode: i % 2 ? "container/bridge" : "host" }],
      tasks: [0, 1, 2].map((t) => ({
        id: `${id.slice(1).replaceAll("/", "_")}.${t}`,
        state: "TASK_RUNNING",
        host: `10.0.${(i >> 8) & 255}.${i & 255}`,
        ports: [31000 + t],
        ipAddresses: [{ ipAddress: `172.17.0.${t + 2}`, protocol: "IPv4" }],
        startedAt: "2024-05-01T10:00:00.000Z",
      })),
    });
  }
  return apps;
}

const now = new Date("2024-05-01T12:00:00Z");
const options = { defaultRule: "Host(`{{ normalize .Name }}.marathon.localhost`)" };

// Warm up JIT and caches (template, constraints, label schema).
buildConfiguration(syntheticApps(200), options, { now });

for (const count of [100, 1_000, 10_000]) {
  const apps = syntheticApps(count);
  const runs = count >= 10_000 ? 5 : 15;
  const times: number[] = [];
  let routers = 0;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const { config } = buildConfiguration(apps, options, { now });
    times.push(performance.now() - start);
    routers = Object.keys(config.http?.routers ?? {}).length;
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(
    `${String(count).padStart(6)} apps × 3 tasks: median ${median.toFixed(1)} ms, min ${
      times[0]!.toFixed(1)
    } ms (${runs} runs, ${routers} routers)`,
  );
}
