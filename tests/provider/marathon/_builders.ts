/**
 * Builders for Marathon test data, modelled on Traefik v2.11's
 * `pkg/provider/marathon/builder_test.go`: `app({ id, labels, tasks })`,
 * `task({...})`, `localhostTask({...})`, plus expected-configuration helpers.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../../src/plugin/plugin.ts";
import { MiddlewareRegistry } from "../../../src/middleware/registry.ts";
import type { DynamicConfig } from "../../../src/config/dynamic.ts";

type Obj = Record<string, unknown>;

/** Raw task fields, as Marathon's JSON has them. */
export interface TaskInput {
  id?: string;
  state?: string;
  host?: string;
  ports?: number[];
  ipAddresses?: string[];
  startedAt?: string;
}

/** A raw Marathon task (`TASK_RUNNING`, id `taskID` unless given). */
export function task(input: TaskInput = {}): Obj {
  const out: Obj = { id: input.id ?? "taskID", state: input.state ?? "TASK_RUNNING" };
  if (input.host !== undefined) out.host = input.host;
  if (input.ports !== undefined) out.ports = input.ports;
  if (input.ipAddresses !== undefined) {
    out.ipAddresses = input.ipAddresses.map((ipAddress) => ({ ipAddress, protocol: "IPv4" }));
  }
  if (input.startedAt !== undefined) out.startedAt = input.startedAt;
  return out;
}

/** Traefik's `localhostTask`: host `localhost`, one IP `127.0.0.1`, running. */
export function localhostTask(input: TaskInput = {}): Obj {
  return task({ host: "localhost", ipAddresses: ["127.0.0.1"], ...input });
}

/** Raw app fields, as Marathon's JSON has them. */
export interface AppInput {
  id: string;
  labels?: Record<string, string>;
  tasks?: Obj[];
  /** App-level `ports` (legacy; never used for routing). */
  ports?: number[];
  portDefinitions?: Array<{ port?: number; name?: string }>;
  networks?: Array<{ mode?: string; name?: string }>;
  ipAddress?: Obj | null;
  container?: Obj;
  constraints?: string[][];
  deployments?: string[];
  readinessChecks?: Array<{ timeoutSeconds?: number; path?: string }>;
  readinessCheckResults?: Array<{ taskId: string; ready: boolean }>;
}

/** A raw Marathon app (Traefik's `application(...)` defaults). */
export function app(input: AppInput): Obj {
  const out: Obj = {
    id: input.id,
    labels: input.labels ?? {},
    tasks: input.tasks ?? [],
    deployments: (input.deployments ?? []).map((id) => ({ id })),
    readinessChecks: input.readinessChecks ?? [],
    readinessCheckResults: input.readinessCheckResults ?? [],
  };
  for (
    const key of [
      "ports",
      "portDefinitions",
      "networks",
      "ipAddress",
      "container",
      "constraints",
    ] as const
  ) {
    if (input[key] !== undefined) out[key] = input[key];
  }
  return out;
}

/** Legacy IP-per-task with one discovery port (Traefik's `ipAddrPerTask`). */
export function ipAddrPerTask(port: number): Obj {
  return { discovery: { ports: [{ number: port, name: "port", protocol: "tcp" }] } };
}

/** An HTTP router as the builder emits it (`ruleSyntax: "v2"` added). */
export function httpRouter(service: string, rule: string, extra: Obj = {}): Obj {
  return { ...extra, service, rule, ruleSyntax: "v2" };
}

/** An HTTP load-balancer service (`passHostHeader: true` by default). */
export function lbService(urls: string[], extra: Obj = {}): Obj {
  return {
    loadBalancer: { passHostHeader: true, ...extra, servers: urls.map((url) => ({ url })) },
  };
}

/** A TCP or UDP load-balancer service. */
export function streamService(addresses: string[], extra: Obj = {}): Obj {
  return { loadBalancer: { ...extra, servers: addresses.map((address) => ({ address })) } };
}

/** Expected sections; missing maps are filled in empty, as the builder allocates them. */
export interface ExpectedConfig {
  http?: { routers?: Obj; services?: Obj; middlewares?: Obj; serversTransports?: Obj };
  tcp?: { routers?: Obj; services?: Obj; middlewares?: Obj };
  udp?: { routers?: Obj; services?: Obj };
  tls?: { stores?: Obj };
}

/** A whole expected configuration with every map allocated. */
export function expectedConfig(e: ExpectedConfig = {}): DynamicConfig {
  return {
    http: {
      routers: e.http?.routers ?? {},
      services: e.http?.services ?? {},
      middlewares: (e.http?.middlewares ?? {}) as Record<string, Record<string, unknown>>,
      serversTransports: e.http?.serversTransports ?? {},
    },
    tcp: {
      routers: e.tcp?.routers ?? {},
      services: e.tcp?.services ?? {},
      middlewares: e.tcp?.middlewares ?? {},
    },
    udp: { routers: e.udp?.routers ?? {}, services: e.udp?.services ?? {} },
    tls: { stores: e.tls?.stores ?? {} },
  };
}

/** Traefik's test default rule. */
export const TEST_DEFAULT_RULE = "Host(`{{ normalize .Name }}.marathon.localhost`)";

/** A fixed clock for readiness. */
export const NOW = new Date("2024-05-01T12:00:00Z");

/** Milliseconds → an RFC 3339 time that long before {@linkcode NOW}. */
export function startedBefore(ms: number): string {
  return new Date(NOW.getTime() - ms).toISOString();
}

/**
 * A registry with Traefik-shaped middlewares (independent of the built-ins
 * teammates are adding), and one user plugin.
 */
export function testRegistry(): MiddlewareRegistry {
  const noop = () => async (_c: unknown, next: () => Promise<void>) => await next();
  const registry = new MiddlewareRegistry();
  registry.register(definePlugin({
    name: "basicAuth",
    config: z.strictObject({
      users: z.array(z.string()).default([]),
      usersFile: z.string().optional(),
      realm: z.string().optional(),
      removeHeader: z.boolean().optional(),
      headerField: z.string().optional(),
    }),
    create: noop,
  }));
  registry.register(definePlugin({
    name: "inFlightReq",
    config: z.strictObject({
      amount: z.number().int().min(0),
      sourceCriterion: z.strictObject({
        ipStrategy: z.strictObject({
          depth: z.int().optional(),
          excludedIPs: z.array(z.string()).optional(),
        })
          .optional(),
        requestHeaderName: z.string().optional(),
        requestHost: z.boolean().optional(),
      }).optional(),
    }),
    create: noop,
  }));
  registry.register(definePlugin({
    name: "compress",
    config: z.strictObject({ excludedContentTypes: z.array(z.string()).optional() }),
    create: noop,
  }));
  registry.register(definePlugin({
    name: "headers",
    config: z.strictObject({
      customRequestHeaders: z.record(z.string(), z.string()).optional(),
      stsSeconds: z.int().optional(),
      frameDeny: z.boolean().optional(),
    }),
    create: noop,
  }));
  registry.register(definePlugin({
    name: "retry",
    config: z.strictObject({
      attempts: z.int().min(1),
      initialInterval: z.union([z.number(), z.string()]).optional(),
    }),
    create: noop,
  }));
  registry.register(
    definePlugin({
      name: "ipAllowList",
      config: z.strictObject({ sourceRange: z.array(z.string()) }),
      create: noop,
    }),
    { aliases: ["ipWhiteList"] },
  );
  registry.registerPlugin(
    "rewriteBody",
    definePlugin({
      name: "rewriteBody",
      config: z.strictObject({
        lastModified: z.boolean().optional(),
        rewrites: z.array(z.strictObject({ regex: z.string(), replacement: z.string() }))
          .optional(),
        ratio: z.number().optional(),
      }),
      create: noop,
    }),
    "test",
  );
  registry.registerPlugin(
    "noOptions",
    definePlugin({ name: "noOptions", config: z.strictObject({}), create: noop }),
    "test",
  );
  return registry;
}
