import { equal, ok } from "node:assert/strict";
import { z } from "zod";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import { definePlugin } from "../../src/plugin/plugin.ts";

const throwing = definePlugin({
  name: "throwing",
  config: z.object({ pattern: z.string().transform((p) => new RegExp(p)) }),
  create: () => async (_c, next) => await next(),
});

Deno.test("MiddlewareRegistry.resolve() never throws, even when a plugin's schema does", () => {
  const registry = new MiddlewareRegistry().registerPlugin("throwing", throwing, "test");
  const resolved = registry.resolve({ plugin: { throwing: { pattern: "(" } } });
  ok(!resolved.ok);
  ok(
    resolved.error.startsWith("plugin.throwing: the plugin's option schema failed"),
    resolved.error,
  );
});

Deno.test("MiddlewareRegistry.resolve() explains unknown types and plugins", () => {
  const registry = new MiddlewareRegistry().register(throwing);
  const unknown = registry.resolve({ stripPrefixx: {} });
  ok(!unknown.ok);
  equal(unknown.error, "unknown middleware type 'stripPrefixx'");
  const lacking = registry.resolve({ passTLSClientCert: { pem: true } });
  ok(!lacking.ok);
  equal(
    lacking.error,
    "Traefik's 'passTLSClientCert' middleware is not supported by Pacer: " +
      "Deno's server cannot ask clients for certificates, so there are none to pass",
  );
  const grpc = registry.resolve({ grpcWeb: {} });
  ok(!grpc.ok && grpc.error.includes("Pacer does not proxy gRPC"), grpc.ok ? "" : grpc.error);
  const noPlugins = registry.resolve({ plugin: { mine: {} } });
  ok(!noPlugins.ok);
  ok(noPlugins.error.includes("declare it under 'plugins' in the static configuration"));
  const two = registry.resolve({ throwing: {}, other: {} });
  ok(!two.ok);
  equal(two.error, "a middleware must have exactly one type, got throwing, other");
});
