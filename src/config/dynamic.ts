/**
 * The dynamic configuration: what routes. Traefik v2/v3's model and JSON/YAML
 * shape (`http.routers`, `http.services`, `http.middlewares`,
 * `http.serversTransports`, `tcp`, `udp`, `tls`), so a Traefik user's dynamic
 * file loads unchanged.
 *
 * Providers emit a {@linkcode DynamicConfig}: plain data, names not yet
 * qualified. The watcher validates each item on its own with the schemas
 * below, so one bad router, service or middleware is disabled alone.
 *
 * Option names are matched case-insensitively before validation
 * ({@linkcode canonicalizeKeys} in `schema_walk.ts`), as Traefik does; object
 * names (routers, services, ...) keep their case.
 *
 * Pacer's additions to Traefik's model are marked "Pacer extension".
 *
 * @module
 */
import { z } from "zod";
import { duration } from "./duration.ts";

/** Rule syntaxes: Traefik v3's default, and v2's (Marathon labels use it). */
export const ruleSyntaxSchema = z.enum(["v3", "v2"]);
/** A rule syntax name. */
export type RuleSyntax = z.infer<typeof ruleSyntaxSchema>;

const port = z.number().int().min(1).max(65535);
const stringList = z.array(z.string());

const domainSchema = z.strictObject({
  main: z.string().optional(),
  sans: stringList.optional(),
});

/** `http.routers.<name>.tls`. */
export const routerTlsSchema = z.strictObject({
  options: z.string().optional(),
  certResolver: z.string().optional(),
  domains: z.array(domainSchema).optional(),
});

/** `http.routers.<name>`. */
export const routerSchema = z.strictObject({
  entryPoints: stringList.optional(),
  middlewares: stringList.optional(),
  service: z.string().min(1),
  rule: z.string().min(1),
  ruleSyntax: ruleSyntaxSchema.optional(),
  priority: z.number().int().optional(),
  tls: routerTlsSchema.optional(),
  observability: z.strictObject({
    accessLogs: z.boolean().optional(),
    tracing: z.boolean().optional(),
    metrics: z.boolean().optional(),
  }).optional(),
});
/** A validated HTTP router. */
export type RouterConfig = z.output<typeof routerSchema>;

/** Sticky-session cookie options (Traefik's names and defaults). */
export const stickyCookieSchema = z.strictObject({
  /** @default {a hash of the service name} */
  name: z.string().optional(),
  secure: z.boolean().default(false),
  httpOnly: z.boolean().default(false),
  sameSite: z.enum(["", "none", "lax", "strict"]).default(""),
  /** Seconds; 0 = session cookie, < 0 = expire now. */
  maxAge: z.number().int().default(0),
  path: z.string().default("/"),
  domain: z.string().optional(),
});

const stickySchema = z.strictObject({ cookie: stickyCookieSchema.optional() });

/** Active health check of a load balancer (`loadBalancer.healthCheck`). */
export const healthCheckSchema = z.strictObject({
  scheme: z.string().optional(),
  mode: z.enum(["http", "grpc"]).default("http"),
  path: z.string().default("/"),
  method: z.string().default("GET"),
  /** Expected status; any 2xx/3xx when unset. */
  status: z.number().int().min(100).max(599).optional(),
  port: port.optional(),
  interval: duration().default(30_000),
  unhealthyInterval: duration().optional(),
  timeout: duration().default(5_000),
  hostname: z.string().optional(),
  followRedirects: z.boolean().default(true),
  headers: z.record(z.string(), z.string()).optional(),
  /**
   * Pacer extension: new servers of this service start unhealthy until their
   * first check passes (Traefik issue 4544). Set `false` to start them healthy.
   * @default {true}
   */
  slowStart: z.boolean().default(true),
});
/** A validated active health check. */
export type HealthCheckConfig = z.output<typeof healthCheckSchema>;

/**
 * Passive health check (outlier detection), Traefik v3's `passiveHealthCheck`
 * plus Pacer extensions.
 */
export const passiveHealthCheckSchema = z.strictObject({
  /** Window in which failures count; also the first ejection's length. */
  failureWindow: duration().default(10_000),
  /** Consecutive failures that eject a server. */
  maxFailedAttempts: z.number().int().min(1).default(3),
  /** Pacer extension: repeat ejections double up to this. */
  maxEjectionTime: duration().default(300_000),
  /** Pacer extension: count 5xx responses as failures, not only connection errors. */
  on5xx: z.boolean().default(true),
});
/** Validated passive health settings. */
export type PassiveHealthCheckConfig = z.output<typeof passiveHealthCheckSchema>;

/** One upstream server of a load balancer. */
export const serverSchema = z.strictObject({
  url: z.string().min(1).superRefine((u, ctx) => {
    // "localhost:8080" parses, with "localhost" as its scheme.
    if (!URL.canParse(u) || !u.includes("://")) {
      ctx.addIssue({
        code: "custom",
        message: "must be an absolute URL such as http://10.0.0.1:8080",
      });
      return;
    }
    const scheme = new URL(u).protocol.slice(0, -1);
    if (scheme === "http" || scheme === "https") return;
    ctx.addIssue({
      code: "custom",
      message: scheme === "h2c"
        ? "h2c (HTTP/2 without TLS, as gRPC uses) is not supported: Deno's client and server " +
          "do not carry HTTP trailers, which gRPC needs; use http or https"
        : `the scheme must be http or https, got ${JSON.stringify(scheme)}`,
    });
  }),
  weight: z.number().int().min(0).default(1),
  preservePath: z.boolean().optional(),
});

/** `http.services.<name>.loadBalancer`. */
export const loadBalancerSchema = z.strictObject({
  strategy: z.enum(["wrr"]).default("wrr"),
  servers: z.array(serverSchema).default([]),
  sticky: stickySchema.optional(),
  healthCheck: healthCheckSchema.optional(),
  passiveHealthCheck: passiveHealthCheckSchema.optional(),
  passHostHeader: z.boolean().default(true),
  responseForwarding: z.strictObject({
    flushInterval: duration().optional(),
  }).optional(),
  serversTransport: z.string().optional(),
});
/** A validated load balancer. */
export type LoadBalancerConfig = z.output<typeof loadBalancerSchema>;

const weightedRefSchema = z.strictObject({
  name: z.string().min(1),
  weight: z.number().int().min(0).default(1),
});

/** `http.services.<name>.weighted`: a split between services (canary). */
export const weightedSchema = z.strictObject({
  services: z.array(weightedRefSchema).min(1),
  sticky: stickySchema.optional(),
  healthCheck: z.strictObject({}).optional(),
});
/** A validated weighted service. */
export type WeightedConfig = z.output<typeof weightedSchema>;

/**
 * `http.services.<name>.mirroring`: the main service answers, mirrors get a
 * copy of `percent` of the requests (`src/service/mirroring.ts`).
 */
export const mirroringSchema = z.strictObject({
  service: z.string().min(1),
  /** Whether mirrors get the request body. */
  mirrorBody: z.boolean().default(true),
  /** Largest body mirrored, in bytes; -1 for no limit. A larger request is not mirrored. */
  maxBodySize: z.number().int().min(-1).default(-1),
  mirrors: z.array(z.strictObject({
    name: z.string().min(1),
    percent: z.number().int().min(0).max(100).default(0),
  })).default([]),
  healthCheck: z.strictObject({}).optional(),
});

/** `http.services.<name>.failover`. */
export const failoverSchema = z.strictObject({
  service: z.string().min(1),
  fallback: z.string().min(1),
  healthCheck: z.strictObject({}).optional(),
});

/** `http.services.<name>`: exactly one kind. */
export const serviceSchema = z.strictObject({
  loadBalancer: loadBalancerSchema.optional(),
  weighted: weightedSchema.optional(),
  mirroring: mirroringSchema.optional(),
  failover: failoverSchema.optional(),
}).superRefine((s, ctx) => {
  const kinds = Object.entries(s).filter(([, v]) => v !== undefined).map(([k]) => k);
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: "custom",
      message: kinds.length === 0
        ? "a service needs one of loadBalancer, weighted, mirroring or failover"
        : `a service must have exactly one kind, got ${kinds.join(" and ")}`,
    });
  }
});
/** A validated HTTP service. */
export type ServiceConfig = z.output<typeof serviceSchema>;

/** `http.serversTransports.<name>` (and the static `serversTransport`). */
export const serversTransportSchema = z.strictObject({
  serverName: z.string().optional(),
  insecureSkipVerify: z.boolean().default(false),
  rootCAs: stringList.optional(),
  certificates: z.array(z.strictObject({
    certFile: z.string(),
    keyFile: z.string(),
  })).optional(),
  maxIdleConnsPerHost: z.number().int().min(-1).default(200),
  disableHTTP2: z.boolean().optional(),
  peerCertURI: z.string().optional(),
  forwardingTimeouts: z.strictObject({
    dialTimeout: duration().default(30_000),
    responseHeaderTimeout: duration().default(0),
    idleConnTimeout: duration().default(90_000),
    readIdleTimeout: duration().optional(),
    pingTimeout: duration().optional(),
  }).prefault({}),
  spiffe: z.strictObject({
    ids: stringList.optional(),
    trustDomain: z.string().optional(),
  }).optional(),
});
/** A validated servers transport. */
export type ServersTransportConfig = z.output<typeof serversTransportSchema>;

// ---- TCP / UDP / TLS: validated and reported; not served yet (TODO(#3)). ----

/** `tcp.routers.<name>`. */
export const tcpRouterSchema = z.strictObject({
  entryPoints: stringList.optional(),
  middlewares: stringList.optional(),
  service: z.string().min(1),
  rule: z.string().min(1),
  ruleSyntax: ruleSyntaxSchema.optional(),
  priority: z.number().int().optional(),
  tls: z.strictObject({
    passthrough: z.boolean().optional(),
    options: z.string().optional(),
    certResolver: z.string().optional(),
    domains: z.array(domainSchema).optional(),
  }).optional(),
});

/** `tcp.services.<name>`. */
export const tcpServiceSchema = z.strictObject({
  loadBalancer: z.strictObject({
    servers: z.array(z.strictObject({
      address: z.string().min(1),
      tls: z.boolean().optional(),
    })).default([]),
    terminationDelay: z.number().int().optional(),
    proxyProtocol: z.strictObject({ version: z.number().int().min(1).max(2).optional() })
      .optional(),
    serversTransport: z.string().optional(),
  }).optional(),
  weighted: z.strictObject({ services: z.array(weightedRefSchema) }).optional(),
});

/** `tcp.middlewares.<name>`. */
export const tcpMiddlewareSchema = z.strictObject({
  ipAllowList: z.strictObject({ sourceRange: stringList }).optional(),
  ipWhiteList: z.strictObject({ sourceRange: stringList }).optional(),
  inFlightConn: z.strictObject({ amount: z.number().int().min(0) }).optional(),
});

/** `udp.routers.<name>`. */
export const udpRouterSchema = z.strictObject({
  entryPoints: stringList.optional(),
  service: z.string().min(1),
});

/** `udp.services.<name>`. */
export const udpServiceSchema = z.strictObject({
  loadBalancer: z.strictObject({
    servers: z.array(z.strictObject({ address: z.string().min(1) })).default([]),
  }).optional(),
  weighted: z.strictObject({ services: z.array(weightedRefSchema) }).optional(),
});

const certificateSchema = z.strictObject({ certFile: z.string(), keyFile: z.string() });

/** `tls` section. */
export const tlsSchema = z.strictObject({
  certificates: z.array(certificateSchema.extend({ stores: stringList.optional() })).optional(),
  options: z.record(
    z.string(),
    z.strictObject({
      minVersion: z.string().optional(),
      maxVersion: z.string().optional(),
      cipherSuites: stringList.optional(),
      curvePreferences: stringList.optional(),
      clientAuth: z.strictObject({
        caFiles: stringList.optional(),
        clientAuthType: z.string().optional(),
      }).optional(),
      sniStrict: z.boolean().optional(),
      alpnProtocols: stringList.optional(),
      disableSessionTickets: z.boolean().optional(),
    }),
  ).optional(),
  stores: z.record(
    z.string(),
    z.strictObject({
      defaultCertificate: certificateSchema.optional(),
      defaultGeneratedCert: z.strictObject({
        resolver: z.string().optional(),
        domain: domainSchema.optional(),
      }).optional(),
    }),
  ).optional(),
});

/**
 * A middleware entry as written: exactly one key naming its type, e.g.
 * `{ stripPrefix: { prefixes: ["/api"] } }` or `{ plugin: { myPlugin: {...} } }`.
 * Its options are validated by the registered plugin (`src/middleware/registry.ts`).
 */
export type MiddlewareEntry = Record<string, unknown>;

/** The raw HTTP section, as providers emit it. */
export interface HttpSection {
  routers?: Record<string, unknown>;
  services?: Record<string, unknown>;
  middlewares?: Record<string, MiddlewareEntry>;
  serversTransports?: Record<string, unknown>;
}

/**
 * A whole dynamic configuration as a provider emits it: Traefik's JSON shape,
 * unvalidated leaves (`unknown`), names unqualified.
 */
export interface DynamicConfig {
  http?: HttpSection;
  tcp?: {
    routers?: Record<string, unknown>;
    services?: Record<string, unknown>;
    middlewares?: Record<string, unknown>;
    serversTransports?: Record<string, unknown>;
  };
  udp?: {
    routers?: Record<string, unknown>;
    services?: Record<string, unknown>;
  };
  tls?: unknown;
}

/** The top-level keys of a dynamic file, for shape checks with clear errors. */
export const dynamicConfigShapeSchema = z.strictObject({
  http: z.strictObject({
    routers: z.record(z.string(), z.unknown()).optional(),
    services: z.record(z.string(), z.unknown()).optional(),
    middlewares: z.record(z.string(), z.record(z.string(), z.unknown())).optional(),
    serversTransports: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  tcp: z.strictObject({
    routers: z.record(z.string(), z.unknown()).optional(),
    services: z.record(z.string(), z.unknown()).optional(),
    middlewares: z.record(z.string(), z.unknown()).optional(),
    serversTransports: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  udp: z.strictObject({
    routers: z.record(z.string(), z.unknown()).optional(),
    services: z.record(z.string(), z.unknown()).optional(),
  }).optional(),
  tls: z.unknown().optional(),
});

/** Item schemas by section, for per-item validation and label decoding. */
export const itemSchemas = {
  http: {
    routers: routerSchema,
    services: serviceSchema,
    serversTransports: serversTransportSchema,
  },
  tcp: {
    routers: tcpRouterSchema,
    services: tcpServiceSchema,
    middlewares: tcpMiddlewareSchema,
  },
  udp: { routers: udpRouterSchema, services: udpServiceSchema },
  tls: tlsSchema,
} as const;
