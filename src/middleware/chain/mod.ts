/**
 * Traefik's `chain` middleware: a named list of middlewares. The builder
 * inlines the members into each router's chain (so a retry inside a chain
 * still re-runs everything after it), detecting loops; this definition only
 * declares and validates the options.
 *
 * @module
 */
import { z } from "zod";
import { definePlugin } from "../../plugin/plugin.ts";

/** Options of the chain middleware. */
export const chainConfig = z.strictObject({
  /** Middleware names, in order; `name@provider` crosses providers. */
  middlewares: z.array(z.string().min(1)).min(1),
});

export default definePlugin({
  name: "chain",
  description: "Groups middlewares under one name",
  config: chainConfig,
  create() {
    // Reached only if a caller bypasses the builder's expansion.
    throw new Error("chain middlewares are expanded by the configuration builder");
  },
});
