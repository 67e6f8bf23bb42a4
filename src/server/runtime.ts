/**
 * The runtime view of a configuration: every router, service and middleware
 * with its status and errors, as `/api/rawdata` shows it (Traefik's
 * `pkg/config/runtime`). A disabled item carries the reasons; the rest of the
 * configuration is live regardless.
 *
 * @module
 */

/** Traefik's statuses. `warning`: live, but something was ignored. */
export type ItemStatus = "enabled" | "disabled" | "warning";

/** Status shared by every runtime item. */
export interface RuntimeItem {
  /** Provider that defined it. */
  readonly provider: string;
  /** The item's configuration, option names canonicalized. */
  config: unknown;
  status: ItemStatus;
  errors: string[];
}

/** Records an error; `fatal` disables the item, otherwise it is a warning. */
export function addError(item: RuntimeItem, message: string, fatal = true): void {
  item.errors.push(message);
  if (fatal) item.status = "disabled";
  else if (item.status === "enabled") item.status = "warning";
}

/** A router at runtime. */
export interface RouterRuntime extends RuntimeItem {
  /** Entrypoints it listens on. */
  using: string[];
  /** Effective priority (explicit, else rule length). */
  priority: number;
  /** Qualified service name. */
  service?: string;
  /** Qualified middleware names, chains expanded. */
  middlewares: string[];
}

/** A service at runtime. */
export interface ServiceRuntime extends RuntimeItem {
  usedBy: string[];
}

/** A middleware at runtime. */
export interface MiddlewareRuntime extends RuntimeItem {
  usedBy: string[];
  /** Resolved type (`stripPrefix`, `plugin.myPlugin`). */
  type?: string;
}

/** Creates a fresh runtime item. */
export function runtimeItem(provider: string, config: unknown, error?: string): RuntimeItem {
  return {
    provider,
    config,
    status: error ? "disabled" : "enabled",
    errors: error ? [error] : [],
  };
}
