/**
 * Services Pacer answers itself, addressable from any router as Traefik's
 * are: `api@internal` (`/api/...`), `dashboard@internal`, `ping@internal`.
 * With `api.insecure` or `ping`, Pacer also routes them on the `traefik`
 * entrypoint by itself ({@linkcode internalRouters}).
 *
 * @module
 */
import type { Context } from "hono";
import type { DynamicConfig } from "../config/dynamic.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import type { InternalServices } from "../server/build.ts";
import type { Generation } from "../server/generation.ts";
import type { ServiceNode } from "../service/load_balancer.ts";
import type { ServerPool } from "../service/pool.ts";
import { rawdata } from "./rawdata.ts";
import { DASHBOARD_HTML } from "./dashboard.ts";

/** What the internal services read. */
export interface InternalState {
  readonly pool: ServerPool;
  readonly registry: MiddlewareRegistry;
  readonly version: string;
  /** Whether Pacer is shutting down (ping answers `terminatingStatusCode`). */
  terminating(): boolean;
  readonly terminatingStatusCode: number;
  /** Entrypoint names and addresses, for `/api/entrypoints`. */
  entryPoints(): { name: string; address: string }[];
}

const JSON_HEADERS = { "content-type": "application/json; charset=utf-8" };

function node(name: string, handle: (c: Context) => Response | Promise<Response>): ServiceNode {
  return {
    name,
    handle: async (c) => await handle(c),
    available: () => true,
    servers: () => [],
  };
}

function json(value: unknown, status = 200): Response {
  return new Response(JSON.stringify(value, null, 2), { status, headers: JSON_HEADERS });
}

function list(section: Record<string, unknown>): unknown[] {
  return Object.entries(section).map(([name, value]) => ({
    name,
    ...(value as Record<string, unknown>),
  }));
}

/** The `api@internal` handler. */
function api(generation: () => Generation, state: InternalState) {
  return (c: Context): Response => {
    const path = c.req.path.replace(/\/+$/, "");
    const data = rawdata(generation(), state.pool, { registry: state.registry });
    if (path === "/api/rawdata") return json(data);
    if (path === "/api/version") return json({ Version: state.version, Codename: "pacer" });
    if (path === "/api/entrypoints") return json(state.entryPoints());
    if (path === "/api/overview") {
      const count = (section: Record<string, unknown>) => {
        const items = Object.values(section) as { status?: string }[];
        return {
          total: items.length,
          warnings: items.filter((i) => i.status === "warning").length,
          errors: items.filter((i) => i.status === "disabled").length,
        };
      };
      return json({
        http: {
          routers: count(data.routers as Record<string, unknown>),
          services: count(data.services as Record<string, unknown>),
          middlewares: count(data.middlewares as Record<string, unknown>),
        },
        draining: (data.draining as unknown[]).length,
      });
    }
    const m = /^\/api\/http\/(routers|services|middlewares)(?:\/(.+))?$/.exec(path);
    if (m) {
      const section = data[m[1]!] as Record<string, unknown>;
      if (!m[2]) return json(list(section));
      const name = decodeURIComponent(m[2]);
      return name in section
        ? json({ name, ...(section[name] as Record<string, unknown>) })
        : json({ message: `${m[1]!.slice(0, -1)} not found: ${name}` }, 404);
    }
    return json({ message: "404 page not found" }, 404);
  };
}

/** Resolver for the builder: internal services by qualified name. */
export function internalServices(state: InternalState): InternalServices {
  return (name, generation) => {
    switch (name) {
      case "api@internal":
        return node(name, api(generation, state));
      case "dashboard@internal":
        return node(name, (c) => {
          if (c.req.path === "/" || c.req.path === "/dashboard") {
            return new Response(null, { status: 302, headers: { location: "/dashboard/" } });
          }
          return new Response(DASHBOARD_HTML, {
            headers: { "content-type": "text/html; charset=utf-8" },
          });
        });
      case "ping@internal":
        return node(name, (c) => {
          const status = state.terminating() ? state.terminatingStatusCode : 200;
          const body = c.req.method === "HEAD"
            ? null
            : status === 200
            ? "OK"
            : "Service Unavailable";
          return new Response(body, {
            status,
            headers: { "content-type": "text/plain; charset=utf-8" },
          });
        });
      case "noop@internal":
        return node(name, () => new Response(null, { status: 418 }));
      default:
        return undefined;
    }
  };
}

/** Options for the routers Pacer adds for its own services. */
export interface InternalRouterOptions {
  readonly api?: { readonly insecure: boolean; readonly dashboard: boolean };
  readonly ping?: { readonly entryPoint: string; readonly manualRouting: boolean };
}

/** Highest priority, as Traefik gives its internal routers. */
const TOP = 2 ** 31 - 1;

/** The `internal` provider's configuration: routers for api, dashboard and ping. */
export function internalRouters(options: InternalRouterOptions): DynamicConfig {
  const routers: Record<string, unknown> = {};
  if (options.api?.insecure) {
    routers.api = {
      rule: "PathPrefix(`/api`)",
      service: "api@internal",
      entryPoints: ["traefik"],
      priority: TOP - 1,
    };
    if (options.api.dashboard) {
      routers.dashboard = {
        rule: "PathPrefix(`/`)",
        service: "dashboard@internal",
        entryPoints: ["traefik"],
        priority: TOP - 2,
      };
    }
  }
  if (options.ping && !options.ping.manualRouting) {
    routers.ping = {
      rule: "PathPrefix(`/ping`)",
      service: "ping@internal",
      entryPoints: [options.ping.entryPoint],
      priority: TOP,
    };
  }
  return { http: { routers } };
}
