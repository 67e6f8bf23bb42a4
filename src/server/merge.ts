/**
 * Merges the configurations of all providers into one flat view with
 * qualified names (`name@provider`). References inside items are qualified
 * later, against the provider of the item that holds them, so `api` in a
 * file router means `api@file` while `api@marathon` crosses providers.
 *
 * @module
 */
import type { DynamicConfig } from "../config/dynamic.ts";

/** One configuration item from one provider. */
export interface MergedItem {
  /** Qualified name. */
  readonly name: string;
  readonly provider: string;
  readonly raw: unknown;
  /** Set when the item cannot be used at all (bad name). */
  readonly error?: string;
}

/** All providers' items by kind. */
export interface MergedConfig {
  readonly routers: Map<string, MergedItem>;
  readonly services: Map<string, MergedItem>;
  readonly middlewares: Map<string, MergedItem>;
  readonly serversTransports: Map<string, MergedItem>;
  readonly tcpRouters: Map<string, MergedItem>;
  readonly tcpServices: Map<string, MergedItem>;
  readonly tcpMiddlewares: Map<string, MergedItem>;
  readonly udpRouters: Map<string, MergedItem>;
  readonly udpServices: Map<string, MergedItem>;
  readonly tls: { provider: string; raw: unknown }[];
}

/** Qualifies a reference as seen from `provider`. */
export function qualify(name: string, provider: string): string {
  return name.includes("@") ? name : `${name}@${provider}`;
}

/** The provider part of a qualified name. */
export function providerOf(qualified: string): string {
  return qualified.slice(qualified.lastIndexOf("@") + 1);
}

function addAll(
  target: Map<string, MergedItem>,
  items: Record<string, unknown> | undefined,
  provider: string,
): void {
  if (!items || typeof items !== "object") return;
  for (const [name, raw] of Object.entries(items)) {
    if (name.includes("@")) {
      target.set(`${name}#${provider}`, {
        name: `${name}#${provider}`,
        provider,
        raw,
        error:
          `name '${name}' must not contain '@' (names are qualified as name@${provider} automatically)`,
      });
      continue;
    }
    const qualified = `${name}@${provider}`;
    target.set(qualified, { name: qualified, provider, raw });
  }
}

/** Merges providers' configurations (in provider-name order, for stable output). */
export function mergeConfigurations(configs: ReadonlyMap<string, DynamicConfig>): MergedConfig {
  const merged: MergedConfig = {
    routers: new Map(),
    services: new Map(),
    middlewares: new Map(),
    serversTransports: new Map(),
    tcpRouters: new Map(),
    tcpServices: new Map(),
    tcpMiddlewares: new Map(),
    udpRouters: new Map(),
    udpServices: new Map(),
    tls: [],
  };
  for (const provider of [...configs.keys()].sort()) {
    const config = configs.get(provider)!;
    addAll(merged.routers, config.http?.routers, provider);
    addAll(merged.services, config.http?.services, provider);
    addAll(merged.middlewares, config.http?.middlewares, provider);
    addAll(merged.serversTransports, config.http?.serversTransports, provider);
    addAll(merged.tcpRouters, config.tcp?.routers, provider);
    addAll(merged.tcpServices, config.tcp?.services, provider);
    addAll(merged.tcpMiddlewares, config.tcp?.middlewares, provider);
    addAll(merged.udpRouters, config.udp?.routers, provider);
    addAll(merged.udpServices, config.udp?.services, provider);
    if (config.tls !== undefined) merged.tls.push({ provider, raw: config.tls });
  }
  return merged;
}
