/**
 * The schemas Marathon labels are decoded with: Pacer's dynamic model
 * (`src/config/dynamic.ts`) and the middleware registry, adjusted to Traefik
 * v2's label shape, plus Traefik's label-only rules (which structures may be
 * empty, which defaults an object created from labels gets).
 *
 * Label shape differences from the file shape (Traefik v2): a load balancer
 * takes `server.port` / `server.scheme` (one template for every task) instead
 * of a `servers` list; TCP and UDP load balancers take `server.port`.
 *
 * @module
 */
import { z } from "zod";
import {
  healthCheckSchema,
  loadBalancerSchema,
  routerSchema,
  routerTlsSchema,
  serversTransportSchema,
  serviceSchema,
  stickyCookieSchema,
  tcpMiddlewareSchema,
  tcpRouterSchema,
  tcpServiceSchema,
  tlsSchema,
  udpRouterSchema,
  udpServiceSchema,
} from "../../config/dynamic.ts";
import { innerSchema } from "../../config/schema_walk.ts";
import type { MiddlewareRegistry } from "../../middleware/registry.ts";
import type { DecodeHooks } from "./labels.ts";

type AnyObject = z.ZodObject<z.ZodRawShape>;

function shapeOf(schema: z.ZodType): z.ZodRawShape {
  return (innerSchema(schema) as AnyObject).shape;
}

/** `loadBalancer.server` of an HTTP service label: the per-task server template. */
export const httpServerTemplateSchema = z.strictObject({
  /** Port, `index:N` or `name:X` (§11); empty or absent = default choice. */
  port: z.string().optional(),
  /** @default {"http"} */
  scheme: z.string().optional(),
  /** Accepted and ignored, as in Traefik (the URL is built per task). */
  url: z.string().optional(),
});

/** `loadBalancer.server` of a TCP or UDP service label. */
export const streamServerTemplateSchema = z.strictObject({
  port: z.string().optional(),
  /** Accepted and ignored, as in Traefik (the address is built per task). */
  address: z.string().optional(),
});

/** HTTP load balancer as labels write it. */
export const httpLoadBalancerLabelSchema = loadBalancerSchema.omit({ servers: true }).extend({
  server: httpServerTemplateSchema.optional(),
});

const httpServiceLabelSchema = z.strictObject({
  ...shapeOf(serviceSchema),
  loadBalancer: httpLoadBalancerLabelSchema.optional(),
});

const tcpLoadBalancer = innerSchema(tcpServiceSchema.shape.loadBalancer) as AnyObject;
/** TCP load balancer as labels write it. */
export const tcpLoadBalancerLabelSchema = tcpLoadBalancer.omit({ servers: true }).extend({
  server: streamServerTemplateSchema.optional(),
});
const tcpServiceLabelSchema = z.strictObject({
  ...tcpServiceSchema.shape,
  loadBalancer: tcpLoadBalancerLabelSchema.optional(),
});
const proxyProtocolSchema = innerSchema(tcpLoadBalancer.shape.proxyProtocol as z.ZodType);

const udpLoadBalancer = innerSchema(udpServiceSchema.shape.loadBalancer) as AnyObject;
/** UDP load balancer as labels write it. */
export const udpLoadBalancerLabelSchema = udpLoadBalancer.omit({ servers: true }).extend({
  server: streamServerTemplateSchema.optional(),
});
const udpServiceLabelSchema = z.strictObject({
  ...udpServiceSchema.shape,
  loadBalancer: udpLoadBalancerLabelSchema.optional(),
});

/** `<prefix>.enable` and `<prefix>.marathon.*` (§9.5). */
export const providerLabelSchema = z.strictObject({
  enable: z.boolean().optional(),
  marathon: z.strictObject({ ipAddressIdx: z.int().optional() }).optional(),
});

/** The label schema of everything under `<prefix>.{http,tcp,udp,tls}`. */
export function routingLabelSchema(registry: MiddlewareRegistry): z.ZodType {
  const middlewareSchema = registry.schema();
  const cached = routingCache.get(middlewareSchema);
  if (cached) return cached;
  const schema = z.strictObject({
    http: z.strictObject({
      routers: z.record(z.string(), routerSchema).optional(),
      services: z.record(z.string(), httpServiceLabelSchema).optional(),
      middlewares: z.record(z.string(), middlewareSchema).optional(),
      serversTransports: z.record(z.string(), serversTransportSchema).optional(),
    }).optional(),
    tcp: z.strictObject({
      routers: z.record(z.string(), tcpRouterSchema).optional(),
      services: z.record(z.string(), tcpServiceLabelSchema).optional(),
      middlewares: z.record(z.string(), tcpMiddlewareSchema).optional(),
    }).optional(),
    udp: z.strictObject({
      routers: z.record(z.string(), udpRouterSchema).optional(),
      services: z.record(z.string(), udpServiceLabelSchema).optional(),
    }).optional(),
    tls: tlsSchema.optional(),
  });
  routingCache.set(middlewareSchema, schema);
  return schema;
}

const routingCache = new WeakMap<z.ZodType, z.ZodType>();

// Traefik's `label:"allowEmpty"` structures of the core model.
const EMPTYABLE = new Set<z.ZodType>([
  routerTlsSchema,
  innerSchema(tcpRouterSchema.shape.tls),
  innerSchema(loadBalancerSchema.shape.sticky),
  stickyCookieSchema,
  proxyProtocolSchema,
  innerSchema(serversTransportSchema.shape.spiffe),
]);

// Traefik's allowEmpty middlewares (`compress`, `contentType`) and option
// (`ipStrategy`), by lower-cased name, for built-ins whose schemas do not
// carry `.meta({ allowEmpty: true })`.
const EMPTYABLE_MIDDLEWARES = new Set(["compress", "contenttype"]);

const DEFAULTS = new Map<z.ZodType, Record<string, unknown>>([
  [httpLoadBalancerLabelSchema, { passHostHeader: true }],
  [httpServerTemplateSchema, { scheme: "http" }],
  [healthCheckSchema, { followRedirects: true }],
  [tcpLoadBalancerLabelSchema, { terminationDelay: 100 }],
  [proxyProtocolSchema, { version: 2 }],
]);

/** Traefik's label-only rules, as decoder hooks. */
export const labelHooks: DecodeHooks = {
  allowEmpty(schema, path) {
    if (EMPTYABLE.has(innerSchema(schema))) return true;
    if (path[0] === "http" && path[1] === "middlewares") {
      // path: http, middlewares, <name>, <type>[, ...]
      if (path.length === 4 && EMPTYABLE_MIDDLEWARES.has(path[3]!)) return true;
      // A plugin without options: plugin.<name>=true.
      if (path.length === 5 && path[3] === "plugin") return true;
      if (path.at(-1) === "ipstrategy") return true;
    }
    return false;
  },
  defaults(schema) {
    return DEFAULTS.get(innerSchema(schema));
  },
};
