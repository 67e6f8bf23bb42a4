/**
 * The built-in middleware set, registered through the same plugin contract
 * as user plugins.
 *
 * @module
 */
import { MiddlewareRegistry } from "./registry.ts";

/** A registry holding every built-in middleware. */
export function builtinRegistry(): MiddlewareRegistry {
  const registry = new MiddlewareRegistry();
  return registry;
}
