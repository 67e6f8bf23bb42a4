/**
 * A {@linkcode PluginContext} for middleware tests: silent logger, its own
 * generation signal (abort it with `dispose()` to stop background work), and
 * no services.
 *
 * @module
 */
import type { PluginContext } from "../../src/plugin/plugin.ts";
import { silentLogger } from "../../src/log/logger.ts";

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
