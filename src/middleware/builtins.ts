/**
 * The built-in middleware set, registered through the same plugin contract
 * as user plugins: Traefik's HTTP middlewares (`set_transform.ts`,
 * `set_guard.ts`) and Pacer's chain stages (retry, health-gate, drain).
 *
 * @module
 */
import { MiddlewareRegistry } from "./registry.ts";
import chain from "./chain/mod.ts";
import drain from "./drain/mod.ts";
import healthGate from "./health_gate/mod.ts";
import retry from "./retry/mod.ts";
import { guardMiddlewares } from "./set_guard.ts";
import { transformMiddlewares } from "./set_transform.ts";

/** A registry holding every built-in middleware. */
export function builtinRegistry(): MiddlewareRegistry {
  const registry = new MiddlewareRegistry();
  for (const { definition, aliases } of [...transformMiddlewares, ...guardMiddlewares]) {
    registry.register(definition, aliases ? { aliases } : {});
  }
  registry.register(chain);
  registry.register(retry);
  registry.register(healthGate);
  registry.register(drain);
  return registry;
}
