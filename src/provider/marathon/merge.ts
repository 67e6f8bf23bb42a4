/**
 * Merging per-app configuration fragments (TRAEFIK_PROVIDER.md §12, Traefik
 * `provider.Merge`): apps in ascending id order; a service defined by several
 * apps merges its servers (de-duplicated by URL or address) when everything
 * else is deep-equal; routers, middlewares, servers transports and TLS stores
 * must be deep-equal. A conflicting object is removed (routers pointing at a
 * removed service stay, as in Traefik) and reported.
 *
 * Linear in the number of objects: names are looked up in maps and only
 * same-named objects are compared.
 *
 * @module
 */
import { isDeepStrictEqual } from "node:util";
import type { DynamicConfig } from "../../config/dynamic.ts";
import { setOwn } from "../../util/set_own.ts";
import type { Diagnostic } from "../provider.ts";

type Obj = Record<string, unknown>;

/** One app's configuration, ready to merge. */
export interface Fragment {
  /** The app the fragment comes from. */
  readonly appId: string;
  /** HTTP routers, services, middlewares and servers transports. */
  readonly http: {
    routers: Obj;
    services: Obj;
    middlewares: Obj;
    serversTransports: Obj;
  };
  /** TCP routers, services and middlewares. */
  readonly tcp: { routers: Obj; services: Obj; middlewares: Obj };
  /** UDP routers and services. */
  readonly udp: { routers: Obj; services: Obj };
  /** TLS stores (only `default` can be set from labels). */
  readonly tls: { stores: Obj };
  /** HTTP routers whose rule came from `defaultRule`. */
  readonly defaultRuleRouters: ReadonlySet<string>;
}

/** The merged configuration. */
export interface MergeResult {
  /** The merged configuration, every map allocated. */
  readonly config: DynamicConfig;
  /** One error per object removed by a conflict. */
  readonly diagnostics: Diagnostic[];
  /** Surviving HTTP routers whose rule came from `defaultRule`, sorted. */
  readonly defaultRuleRouters: string[];
}

function toObject(map: Map<string, unknown>): Obj {
  const out: Obj = {};
  for (const [k, v] of map) setOwn(out, k, v);
  return out;
}

interface Kind {
  readonly label: string;
  readonly map: Map<string, unknown>;
  readonly owners: Map<string, string[]>;
  readonly conflicts: Set<string>;
  /** `url` or `address` for services; undefined for exact-match kinds. */
  readonly serverKey?: "url" | "address";
  /** Server keys already in each merged service (kept to avoid rescanning). */
  readonly seen: Map<string, Set<unknown>>;
}

function kind(label: string, serverKey?: "url" | "address"): Kind {
  return {
    label,
    map: new Map(),
    owners: new Map(),
    conflicts: new Set(),
    seen: new Map(),
    ...(serverKey ? { serverKey } : {}),
  };
}

function withoutServers(service: Obj): Obj {
  const lb = service.loadBalancer as Obj | undefined;
  if (!lb) return service;
  const { servers: _servers, ...rest } = lb;
  return { ...service, loadBalancer: rest };
}

function add(k: Kind, name: string, value: unknown, appId: string): void {
  const owners = k.owners.get(name);
  if (owners) owners.push(appId);
  else k.owners.set(name, [appId]);
  if (!k.map.has(name)) {
    // Services are copied so appending servers never touches the fragment.
    if (k.serverKey) {
      const service = value as Obj;
      const lb = service.loadBalancer as Obj | undefined;
      value = lb
        ? { ...service, loadBalancer: { ...lb, servers: [...(lb.servers as unknown[] ?? [])] } }
        : service;
    }
    k.map.set(name, value);
    return;
  }
  const existing = k.map.get(name);
  if (!k.serverKey) {
    if (!isDeepStrictEqual(existing, value)) k.conflicts.add(name);
    return;
  }
  if (!isDeepStrictEqual(withoutServers(existing as Obj), withoutServers(value as Obj))) {
    k.conflicts.add(name);
    return;
  }
  const target = (existing as Obj).loadBalancer as Obj | undefined;
  const incoming = (value as Obj).loadBalancer as Obj | undefined;
  if (!target || !incoming) return;
  const servers = target.servers as Obj[];
  const key = k.serverKey;
  let seen = k.seen.get(name);
  if (!seen) {
    seen = new Set(servers.map((s) => s[key]));
    k.seen.set(name, seen);
  }
  // Like Traefik: servers already present are skipped; duplicates within the
  // incoming app are kept (the set is only updated after the whole app).
  const added: unknown[] = [];
  for (const server of (incoming.servers as Obj[] | undefined) ?? []) {
    if (!seen.has(server[key])) {
      servers.push(server);
      added.push(server[key]);
    }
  }
  for (const value of added) seen.add(value);
}

/**
 * Merges fragments in ascending app-id order.
 *
 * @param fragments One fragment per app (any order).
 */
export function mergeFragments(fragments: readonly Fragment[]): MergeResult {
  const sorted = [...fragments].sort((
    a,
    b,
  ) => (a.appId < b.appId ? -1 : a.appId > b.appId ? 1 : 0));
  const httpRouters = kind("Router");
  const httpServices = kind("Service", "url");
  const httpMiddlewares = kind("Middleware");
  const transports = kind("ServersTransport");
  const tcpRouters = kind("TCP router");
  const tcpServices = kind("TCP service", "address");
  const tcpMiddlewares = kind("TCP middleware");
  const udpRouters = kind("UDP router");
  const udpServices = kind("UDP service", "address");
  const tlsStores = kind("TLS store");

  for (const f of sorted) {
    for (const [name, s] of Object.entries(f.http.services)) add(httpServices, name, s, f.appId);
    for (const [name, r] of Object.entries(f.http.routers)) {
      // Router equality includes the default-rule flag (Traefik's DefaultRule field).
      add(httpRouters, name, { router: r, defaultRule: f.defaultRuleRouters.has(name) }, f.appId);
    }
    for (const [name, t] of Object.entries(f.http.serversTransports)) {
      add(transports, name, t, f.appId);
    }
    for (const [name, s] of Object.entries(f.tcp.services)) add(tcpServices, name, s, f.appId);
    for (const [name, r] of Object.entries(f.tcp.routers)) add(tcpRouters, name, r, f.appId);
    for (const [name, s] of Object.entries(f.udp.services)) add(udpServices, name, s, f.appId);
    for (const [name, r] of Object.entries(f.udp.routers)) add(udpRouters, name, r, f.appId);
    for (const [name, m] of Object.entries(f.http.middlewares)) {
      add(httpMiddlewares, name, m, f.appId);
    }
    for (const [name, m] of Object.entries(f.tcp.middlewares)) {
      add(tcpMiddlewares, name, m, f.appId);
    }
    for (const [name, s] of Object.entries(f.tls.stores)) add(tlsStores, name, s, f.appId);
  }

  const diagnostics: Diagnostic[] = [];
  const all = [
    httpServices,
    httpRouters,
    transports,
    tcpServices,
    tcpRouters,
    udpServices,
    udpRouters,
    httpMiddlewares,
    tcpMiddlewares,
    tlsStores,
  ];
  for (const k of all) {
    for (const name of k.conflicts) {
      k.map.delete(name);
      const owners = k.owners.get(name)!;
      diagnostics.push({
        severity: "error",
        item: name,
        message:
          `${k.label} ${name} is defined multiple times with different configurations (apps ${
            owners.join(", ")
          }), so it was removed; make the definitions identical or give them different names`,
      });
    }
  }

  const defaultRuleRouters: string[] = [];
  const routers = new Map<string, unknown>();
  for (const [name, entry] of httpRouters.map) {
    const { router, defaultRule } = entry as { router: unknown; defaultRule: boolean };
    routers.set(name, router);
    if (defaultRule) defaultRuleRouters.push(name);
  }
  defaultRuleRouters.sort();

  const config: DynamicConfig = {
    http: {
      routers: toObject(routers),
      services: toObject(httpServices.map),
      middlewares: toObject(httpMiddlewares.map) as Record<string, Record<string, unknown>>,
      serversTransports: toObject(transports.map),
    },
    tcp: {
      routers: toObject(tcpRouters.map),
      services: toObject(tcpServices.map),
      middlewares: toObject(tcpMiddlewares.map),
    },
    udp: {
      routers: toObject(udpRouters.map),
      services: toObject(udpServices.map),
    },
    tls: { stores: toObject(tlsStores.map) },
  };
  return { config, diagnostics, defaultRuleRouters };
}
