/**
 * Loads the plugins named in the static configuration
 * (`plugins.<name>.module`) and registers them beside the built-ins.
 *
 * **Shipped plugins.** The plugins in the project's `plugins/` folder are
 * imported through {@linkcode SHIPPED_PLUGINS}, a manifest of string-literal
 * `import()`s, which both single-file builds include: `deno bundle` inlines
 * them and `deno compile` embeds them. A module specifier is a shipped
 * plugin when it names `plugins/<folder>/mod.ts` of this source tree; when
 * Pacer runs as a bundle or a compiled binary, where that tree is not on
 * disk, any `…/plugins/<folder>/mod.ts` whose folder is in the manifest
 * is served from the build (so `module: ./plugins/request_id/mod.ts` keeps
 * working). Any other module (`npm:…`, a file elsewhere) is imported as
 * given; a compiled binary can only load those when they were added with
 * `--include` at compile time (denoland/deno#18327).
 *
 * **Failure isolation.** A plugin that fails to load (syntax error, throws
 * while importing, no default export, not a plugin, import hangs) is still
 * registered, as a plugin whose `create` reports the load error: routers
 * using it are disabled with that error in logs and `/api/rawdata`, and
 * nothing else is affected. A loaded plugin's `create` is bounded in time,
 * since the builder awaits it: one that never settles would otherwise hold
 * back every configuration change.
 *
 * @module
 */
import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import { SHIPPED_PLUGINS } from "./manifest.ts";
import type { PluginContext, PluginDefinition } from "./plugin.ts";

/** `plugins/` of this source tree (meaningless inside a bundle, see {@linkcode runningFromSource}). */
const SHIPPED_DIR = new URL("../../plugins/", import.meta.url);

const SHIPPED_TAIL = /\/plugins\/([a-z0-9_][a-z0-9_-]*)\/mod\.ts$/i;

/**
 * Whether this module runs from the source tree. In a bundle every module's
 * `import.meta.url` is the bundle's; in a compiled binary it is a virtual
 * path and `Deno.build.standalone` is set.
 */
export function runningFromSource(): boolean {
  return !Deno.build.standalone && import.meta.url.endsWith("/src/plugin/loader.ts");
}

/**
 * The folder of the shipped plugin `specifier` names, if it names one (see
 * the module doc).
 *
 * @param specifier A module URL as the static configuration resolves it.
 * @param fromSource Whether Pacer runs from its source tree. @default {runningFromSource()}
 * @returns The folder name under `plugins/`, or `undefined`.
 *
 * @example
 * ```ts
 * const url = new URL("../../plugins/request_id/mod.ts", import.meta.url).href;
 * shippedPluginDir(url); // "request_id"
 * shippedPluginDir("file:///etc/pacer/my_plugin.ts"); // undefined
 * ```
 */
export function shippedPluginDir(
  specifier: string,
  fromSource: boolean = runningFromSource(),
): string | undefined {
  if (!specifier.startsWith("file:")) return undefined;
  if (fromSource && !specifier.startsWith(SHIPPED_DIR.href)) return undefined;
  const dir = SHIPPED_TAIL.exec(specifier)?.[1];
  return dir !== undefined && Object.hasOwn(SHIPPED_PLUGINS, dir) ? dir : undefined;
}

/**
 * Imports a plugin module: a shipped plugin through the manifest, anything
 * else with a plain `import()`.
 */
export async function importPlugin(specifier: string): Promise<unknown> {
  const dir = shippedPluginDir(specifier);
  if (dir !== undefined) return await SHIPPED_PLUGINS[dir]!();
  return await import(specifier);
}

/** Options of {@linkcode loadPlugins}. */
export interface LoadPluginsOptions {
  /** Imports a module (a test seam). @default {importPlugin} */
  readonly importer?: (specifier: string) => Promise<unknown>;
  /**
   * Longest wait for a module to import, and for a plugin's `create` to
   * settle, in ms. Past it, the import counts as failed, and `create` as
   * thrown (its `ctx.signal` is aborted, so a pending fetch stops).
   * @default {10000}
   */
  readonly timeoutMs?: number;
}

/** Why `loaded` (a module namespace) is not a plugin module, or `undefined` if it is. */
export function pluginShapeProblem(loaded: unknown): string | undefined {
  const hint = "end it with `export default definePlugin({ name, config, create })` " +
    "(definePlugin and z come from src/plugin/mod.ts)";
  if (typeof loaded !== "object" || loaded === null || !("default" in loaded)) {
    return `the module has no default export: ${hint}`;
  }
  const d = (loaded as { default: unknown }).default;
  if (typeof d !== "object" || d === null) {
    return `its default export is ${d === null ? "null" : `a ${typeof d}`}, not a plugin: ${hint}`;
  }
  const v = d as Record<string, unknown>;
  const problems: string[] = [];
  if (typeof v.name !== "string" || v.name === "") {
    problems.push("'name' must be a non-empty string");
  }
  const config = v.config as { safeParse?: unknown } | null | undefined;
  if (typeof config !== "object" || config === null || typeof config.safeParse !== "function") {
    problems.push("'config' must be a zod schema, e.g. z.object({...})");
  }
  if (typeof v.create !== "function") problems.push("'create' must be a function");
  return problems.length ? `its default export is not a plugin: ${problems.join(", ")}` : undefined;
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A placeholder whose `create` reports why the plugin could not be loaded. */
function brokenPlugin(name: string, module: string, reason: string): PluginDefinition<unknown> {
  return {
    name,
    config: z.unknown(),
    create() {
      throw new Error(`plugin '${name}' could not be loaded from ${module}: ${reason}`);
    },
  };
}

/** Rejects when `promise` has not settled after `ms`; the timer never outlives it. */
async function within<T>(promise: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** `definition` with a time bound on `create` (see {@linkcode LoadPluginsOptions.timeoutMs}). */
function bounded<C>(definition: PluginDefinition<C>, timeoutMs: number): PluginDefinition<C> {
  const create = definition.create;
  return {
    name: definition.name,
    config: definition.config,
    ...(definition.version !== undefined ? { version: definition.version } : {}),
    ...(definition.description !== undefined ? { description: definition.description } : {}),
    ...(definition.replaysDownstream !== undefined
      ? { replaysDownstream: definition.replaysDownstream }
      : {}),
    create(config: C, ctx: PluginContext) {
      // An instance given up on must stop its work too, not only be ignored.
      const abandoned = new AbortController();
      const signal = AbortSignal.any([ctx.signal, abandoned.signal]);
      const created = Promise.resolve().then(() =>
        create.call(definition, config, { ...ctx, signal })
      );
      return within(created, timeoutMs, () => {
        const error = new Error(`create() did not finish within ${timeoutMs}ms`);
        abandoned.abort(error);
        return error;
      });
    },
  };
}

/**
 * Loads every configured plugin into `registry`. Never throws: a broken
 * plugin is logged and registered as broken (see the module doc).
 *
 * @param plugins `plugins` of the static configuration (modules as URLs).
 * @param registry Where to register them.
 * @param log Gets one line per plugin (`Plugin loaded` or the error).
 *
 * @example
 * ```ts
 * import { createLogger } from "../log/logger.ts";
 * import { builtinRegistry } from "../middleware/builtins.ts";
 *
 * const registry = builtinRegistry();
 * await loadPlugins(
 *   { requestId: { module: new URL("../../plugins/request_id/mod.ts", import.meta.url).href } },
 *   registry,
 *   createLogger(),
 * );
 * registry.resolve({ plugin: { requestId: {} } }).ok; // true
 * ```
 */
export async function loadPlugins(
  plugins: Readonly<Record<string, { readonly module: string }>>,
  registry: MiddlewareRegistry,
  log: Logger,
  options: LoadPluginsOptions = {},
): Promise<void> {
  const importer = options.importer ?? importPlugin;
  const timeoutMs = options.timeoutMs ?? 10_000;
  for (const [name, { module }] of Object.entries(plugins)) {
    const shipped = shippedPluginDir(module) !== undefined;
    const plog = log.with({ plugin: name, module });
    let definition: PluginDefinition<unknown>;
    try {
      const loaded = await within(
        Promise.resolve().then(() => importer(module)),
        timeoutMs,
        () => new Error(`importing the module did not finish within ${timeoutMs}ms`),
      );
      const problem = pluginShapeProblem(loaded);
      if (problem) throw new TypeError(problem);
      definition = bounded((loaded as { default: PluginDefinition<unknown> }).default, timeoutMs);
      plog.info("Plugin loaded", {
        version: definition.version,
        ...(shipped ? { shipped: true } : {}),
      });
    } catch (error) {
      plog.error("Plugin failed to load; routers using it are disabled", { error });
      definition = brokenPlugin(name, module, message(error));
    }
    try {
      registry.registerPlugin(name, definition, module);
    } catch (error) {
      // Two entries whose names differ only by case: the first one stands.
      plog.error("Plugin not registered", { error });
    }
  }
}
