/**
 * Demo apps for `pacer sim` and `deno task demo`: one per networking mode,
 * one with a readiness check, one without a termination handler; each with
 * Traefik labels so a proxy routes it by host name.
 *
 * @module
 */

function labels(name: string, host: string): Record<string, string> {
  return {
    "traefik.enable": "true",
    [`traefik.http.routers.${name}.rule`]: `Host(\`${host}\`)`,
  };
}

/**
 * A few demo app definitions (1.5 networking input):
 *
 * | id | mode | behaviour | host rule |
 * | --- | --- | --- | --- |
 * | `/demo/whoami` | host | drains 2 s on SIGTERM | `whoami.localhost` |
 * | `/demo/bridge` | container/bridge | drains 2 s | `bridge.localhost` |
 * | `/demo/ippc` | container (IP-per-task) | drains 2 s | `ippc.localhost` |
 * | `/demo/slow-start` | host | readiness after 3 s, health checked | `slow.localhost` |
 * | `/demo/abrupt` | host | no termination handler | `abrupt.localhost` |
 *
 * @returns Fresh definitions on every call (callers may mutate them).
 */
export function demoApps(): unknown[] {
  return [
    {
      id: "/demo/whoami",
      cmd: "whoami --port $PORT0",
      instances: 2,
      cpus: 0.1,
      mem: 32,
      networks: [{ mode: "host" }],
      portDefinitions: [{ port: 0, name: "http", protocol: "tcp" }],
      env: { SIM_ON_SIGTERM: "drain:2000" },
      taskKillGracePeriodSeconds: 5,
      labels: labels("whoami", "whoami.localhost"),
    },
    {
      id: "/demo/bridge",
      cmd: "whoami --port 80",
      instances: 2,
      cpus: 0.1,
      mem: 32,
      container: {
        type: "DOCKER",
        docker: { image: "traefik/whoami" },
        portMappings: [{ containerPort: 80, hostPort: 0, name: "http", protocol: "tcp" }],
      },
      networks: [{ mode: "container/bridge" }],
      env: { SIM_ON_SIGTERM: "drain:2000" },
      taskKillGracePeriodSeconds: 5,
      labels: labels("bridge", "bridge.localhost"),
    },
    {
      id: "/demo/ippc",
      cmd: "whoami --port 8080",
      instances: 2,
      cpus: 0.1,
      mem: 32,
      container: {
        type: "MESOS",
        docker: { image: "traefik/whoami" },
        portMappings: [{ containerPort: 8080, name: "http", protocol: "tcp" }],
      },
      networks: [{ mode: "container", name: "dcos" }],
      env: { SIM_ON_SIGTERM: "drain:2000" },
      taskKillGracePeriodSeconds: 5,
      labels: labels("ippc", "ippc.localhost"),
    },
    {
      id: "/demo/slow-start",
      cmd: "slow-start",
      instances: 2,
      cpus: 0.1,
      mem: 32,
      networks: [{ mode: "host" }],
      portDefinitions: [{ port: 0, name: "http", protocol: "tcp" }],
      env: { SIM_READY_AFTER_MS: "3000", SIM_ON_SIGTERM: "drain:2000" },
      readinessChecks: [{
        name: "ready",
        protocol: "HTTP",
        path: "/ready",
        portName: "http",
        intervalSeconds: 1,
        timeoutSeconds: 0.5,
        httpStatusCodesForReady: [200],
        preserveLastResponse: true,
      }],
      healthChecks: [{
        protocol: "HTTP",
        path: "/health",
        portIndex: 0,
        gracePeriodSeconds: 10,
        intervalSeconds: 2,
        timeoutSeconds: 1,
        maxConsecutiveFailures: 3,
      }],
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 0.5 },
      taskKillGracePeriodSeconds: 5,
      labels: labels("slow", "slow.localhost"),
    },
    {
      id: "/demo/abrupt",
      cmd: "abrupt",
      instances: 2,
      cpus: 0.1,
      mem: 32,
      networks: [{ mode: "host" }],
      portDefinitions: [{ port: 0, name: "http", protocol: "tcp" }],
      env: { SIM_ON_SIGTERM: "exit" },
      labels: labels("abrupt", "abrupt.localhost"),
    },
  ];
}
