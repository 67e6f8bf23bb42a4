/**
 * Loads the plugins named in the static configuration
 * (`plugins.<name>.module`) and registers them beside the built-ins.
 *
 * Plugins shipped in the project's `plugins/` folder are imported through a
 * template literal (`import(\`../../plugins/${dir}/mod.ts\`)`), which
 * `deno compile` can see: it embeds the whole folder, so they work from the
 * single binary. Any other module (`npm:…`, `file:///…` elsewhere) is
 * imported as given; a compiled binary can only load those when they were
 * added with `--include` at compile time (denoland/deno#18327).
 *
 * A plugin that fails to load is still registered, as a plugin whose
 * `create` reports the load error: routers using it are disabled with that
 * error in logs and `/api/rawdata`, and nothing else is affected.
 *
 * @module
 */
import { z } from "zod";
import type { Logger } from "../log/logger.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import { isPluginDefinition, type PluginDefinition } from "./plugin.ts";

const BUNDLED = new URL("../../plugins/", import.meta.url);

/** The folder name of a bundled plugin module (`plugins/<dir>/mod.ts`), if it is one. */
export function bundledPluginDir(specifier: string): string | undefined {
  if (!specifier.startsWith(BUNDLED.href)) return undefined;
  const m = /^([a-z0-9_][a-z0-9_-]*)\/mod\.ts$/i.exec(specifier.slice(BUNDLED.href.length));
  return m?.[1];
}

/** Imports a plugin module. */
export async function importPlugin(specifier: string): Promise<unknown> {
  const dir = bundledPluginDir(specifier);
  if (dir !== undefined) {
    // Statically analyzable: deno compile embeds every plugins/*/mod.ts.
    return await import(`../../plugins/${dir}/mod.ts`);
  }
  return await import(specifier);
}

function brokenPlugin(name: string, module: string, error: unknown): PluginDefinition<unknown> {
  const reason = (error as Error)?.message ?? String(error);
  return {
    name,
    config: z.unknown(),
    create() {
      throw new Error(`plugin '${name}' could not be loaded from ${module}: ${reason}`);
    },
  };
}

/**
 * Loads every configured plugin into `registry`. Never throws: a broken
 * plugin is logged and registered as broken (see the module doc).
 */
export async function loadPlugins(
  plugins: Readonly<Record<string, { readonly module: string }>>,
  registry: MiddlewareRegistry,
  log: Logger,
  importer: (specifier: string) => Promise<unknown> = importPlugin,
): Promise<void> {
  for (const [name, { module }] of Object.entries(plugins)) {
    const plog = log.with({ plugin: name, module });
    try {
      const loaded = await importer(module) as { default?: unknown };
      const definition = loaded?.default;
      if (!isPluginDefinition(definition)) {
        throw new TypeError(
          "the module must default-export definePlugin({ name, config, create }) from src/plugin/mod.ts",
        );
      }
      registry.registerPlugin(name, definition, module);
      plog.info("Plugin loaded", { version: definition.version });
    } catch (error) {
      plog.error("Plugin failed to load; routers using it are disabled", { error });
      registry.registerPlugin(name, brokenPlugin(name, module, error), module);
    }
  }
}
