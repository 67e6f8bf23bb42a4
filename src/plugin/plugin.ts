/**
 * The plugin contract: every middleware, built-in or user-written, is a
 * {@linkcode PluginDefinition}: a name, a zod schema for its options, and a
 * `create` that returns a Hono middleware. Mirrors Traefik's `CreateConfig()`
 * + `New()` (pkg/plugins/middlewareyaegi.go), with types at the config boundary.
 *
 * Public surface for plugin authors: `src/plugin/mod.ts`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import type { z } from "zod";
import type { Logger } from "../log/logger.ts";

/**
 * Runs the rest of a router's chain (the middlewares after this one, then the
 * service) for `request`, in a fresh pass with a fresh Hono context that
 * inherits `c`'s variables. It may be called several times per request; each
 * call is one attempt. See {@linkcode PluginDefinition.replaysDownstream}.
 */
export type Downstream = (c: Context, request: Request) => Promise<Response>;

/** Calls a service of the live configuration, as the router would. */
export type ServiceCall = (c: Context, request: Request) => Promise<Response>;

/** What a plugin instance gets besides its validated options. */
export interface PluginContext {
  /** Logger whose lines carry `plugin`, `middleware` and `router`. */
  readonly log: Logger;
  /** Qualified name of this middleware instance, e.g. `auth@file`. */
  readonly middleware: string;
  /** Qualified name of the router this instance serves, e.g. `api@marathon`. */
  readonly router: string;
  /**
   * Aborted when the configuration generation that built this instance is
   * replaced or Pacer stops. Tie timers and background work to it.
   */
  readonly signal: AbortSignal;
  /**
   * Looks up a service of the same configuration by name (unqualified names
   * resolve in the middleware's provider). `undefined` if it does not exist.
   */
  service(name: string): ServiceCall | undefined;
  /** Set only when the plugin declares `replaysDownstream: true`. */
  readonly downstream?: Downstream;
}

/**
 * A plugin: typed options and a middleware factory.
 *
 * @typeParam C The validated options type `create` receives.
 */
export interface PluginDefinition<C = unknown> {
  /** Type name used in configuration (`stripPrefix`, or `plugin.<name>`). */
  readonly name: string;
  /** Semver of the plugin, shown in `/api/rawdata`. */
  readonly version?: string;
  /**
   * Validates raw options (YAML, JSON or Marathon labels) into `C`. Labels
   * arrive as strings and are converted to the schema's booleans, numbers
   * and lists before validation, so a plain `z.boolean()` works for both.
   */
  readonly config: z.ZodType<C>;
  /**
   * Builds the middleware for one router. Called once per router that uses
   * the instance, per configuration generation. May be async (load files).
   * Throwing disables only the routers using this instance.
   */
  create(config: C, ctx: PluginContext): MiddlewareHandler | Promise<MiddlewareHandler>;
  /**
   * Declares that the middleware runs the rest of the chain itself through
   * `ctx.downstream` instead of `next()`, possibly several times (retry,
   * hedging). Hono forbids calling `next()` twice; this is the sanctioned way.
   */
  readonly replaysDownstream?: boolean;
  /** One-line summary shown by `pacer plugins` and in docs. */
  readonly description?: string;
}

/**
 * Declares a plugin. An identity helper (like Hono's `createMiddleware`) that
 * gives `create` its option types from the schema.
 *
 * @example
 * ```ts
 * import { definePlugin, editableHeaders, z } from "../../src/plugin/mod.ts";
 *
 * export default definePlugin({
 *   name: "addHeader",
 *   config: z.object({ name: z.string(), value: z.string() }),
 *   create({ name, value }) {
 *     return async function addHeader(c, next) {
 *       await next();
 *       editableHeaders(c).set(name, value);
 *     };
 *   },
 * });
 * ```
 */
export function definePlugin<C>(definition: PluginDefinition<C>): PluginDefinition<C> {
  return definition;
}

/** Type guard for a module's default export. */
export function isPluginDefinition(value: unknown): value is PluginDefinition {
  if (typeof value !== "object" || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v.name === "string" && typeof v.create === "function" &&
    typeof v.config === "object" && v.config !== null &&
    typeof (v.config as { safeParse?: unknown }).safeParse === "function";
}
