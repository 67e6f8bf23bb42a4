/**
 * A {@linkcode PluginContext} for middleware tests: silent logger, its own
 * generation signal (abort it with `dispose()` to stop background work), and
 * no services.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import type { PluginContext, PluginDefinition } from "../../src/plugin/plugin.ts";
import { silentLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { builtinRegistry } from "../../src/middleware/builtins.ts";
import { buildConfiguration } from "../../src/provider/marathon/build.ts";
import { app, localhostTask, NOW } from "../provider/marathon/_builders.ts";

/** A test context plus the controller behind its `signal`. */
export interface TestContext extends PluginContext {
  /** Aborts `signal`, as replacing the generation would. */
  dispose(): void;
}

/** Builds a test {@linkcode PluginContext}; `overrides` replace any field. */
export function testContext(overrides: Partial<PluginContext> = {}): TestContext {
  const controller = new AbortController();
  return {
    log: silentLogger,
    middleware: "test@file",
    router: "router@file",
    signal: controller.signal,
    service: () => undefined,
    ...overrides,
    dispose: () => controller.abort(),
  };
}

/**
 * Creates `plugin`'s middleware from raw options, resolved through a
 * registry exactly as a configuration entry `{ <name>: raw }` would be.
 * @throws {Error} With the registry's message if the options are invalid.
 */
export async function createFromRaw<C>(
  plugin: PluginDefinition<C>,
  raw: unknown,
  ctx: PluginContext = testContext(),
): Promise<MiddlewareHandler> {
  const resolved = new MiddlewareRegistry().register(plugin).resolve({ [plugin.name]: raw });
  if (!resolved.ok) throw new Error(resolved.error);
  return await plugin.create(resolved.options as C, ctx);
}

/**
 * The `http.middlewares` that one Marathon app with `labels` declares, built
 * by the provider with the built-in registry (as Pacer builds them).
 */
export function middlewaresFromLabels(
  labels: Record<string, string>,
): Record<string, Record<string, unknown>> {
  const { config } = buildConfiguration(
    [app({ id: "/app", labels, tasks: [localhostTask({ ports: [80] })] })],
    { defaultRule: "Host(`{{ normalize .Name }}.test`)" },
    { now: NOW, registry: builtinRegistry() },
  );
  return (config.http?.middlewares ?? {}) as Record<string, Record<string, unknown>>;
}
