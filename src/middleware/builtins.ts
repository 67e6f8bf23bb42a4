/**
 * The built-in middleware set, registered through the same plugin contract
 * as user plugins.
 *
 * @module
 */
import { MiddlewareRegistry } from "./registry.ts";
import chain from "./chain/mod.ts";
import drain from "./drain/mod.ts";
import healthGate from "./health_gate/mod.ts";

/** A registry holding every built-in middleware. */
export function builtinRegistry(): MiddlewareRegistry {
  const registry = new MiddlewareRegistry();
  registry.register(chain);
  registry.register(healthGate);
  registry.register(drain);
  return registry;
}
