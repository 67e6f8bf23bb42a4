import { deepEqual, equal } from "node:assert/strict";
import { z } from "zod";
import {
  canonicalizeKeys,
  describeSchema,
  innerSchema,
  schemaDef,
  schemaLayers,
} from "../../src/config/schema_walk.ts";
import { serviceSchema } from "../../src/config/dynamic.ts";
import { duration } from "../../src/config/duration.ts";

Deno.test("canonicalizeKeys() renames option names case-insensitively and keeps object names", () => {
  const schema = z.object({
    routers: z.record(z.string(), z.object({ entryPoints: z.array(z.string()).optional() })),
  });
  const out = canonicalizeKeys(schema, {
    ROUTERS: { MyRouter: { entrypoints: ["web"], Extra: 1 } },
  });
  deepEqual(out, { routers: { MyRouter: { entryPoints: ["web"], Extra: 1 } } });
});

Deno.test("canonicalizeKeys() sees through defaults, pipes and refinements", () => {
  const raw = {
    loadbalancer: { healthcheck: { Path: "/h", INTERVAL: "5s" }, passhostheader: false },
  };
  const out = canonicalizeKeys(serviceSchema, raw);
  deepEqual(out, {
    loadBalancer: { healthCheck: { path: "/h", interval: "5s" }, passHostHeader: false },
  });
  const parsed = serviceSchema.parse(out);
  equal(parsed.loadBalancer?.healthCheck?.interval, 5000);
  equal(parsed.loadBalancer?.passHostHeader, false);
});

Deno.test("describeSchema() reports leaves, arrays and preprocess pipes", () => {
  equal(describeSchema(z.boolean().default(true)).kind, "leaf");
  equal(describeSchema(z.array(z.string()).optional()).kind, "array");
  equal(describeSchema(z.preprocess((v) => v, z.array(z.number()))).kind, "array");
  equal(describeSchema(duration()).kind, "union");
});

Deno.test("schemaLayers() and innerSchema() look through wrappers, lazy schemas and pipes", () => {
  const object = z.object({ a: z.string() });
  const wrapped = z.lazy(() => object.optional()).default({ a: "x" }).meta({ allowEmpty: true });
  const layers = schemaLayers(wrapped);
  equal(layers[0], wrapped);
  equal(layers.at(-1), object);
  equal(innerSchema(wrapped), object);
  deepEqual(layers.map((s) => schemaDef(s).type), ["default", "lazy", "optional", "object"]);
  // A preprocess pipe is read on its output side, any other pipe on its input side.
  const list = z.array(z.number());
  equal(innerSchema(z.preprocess((v) => v, list)), list);
  const text = z.string();
  equal(innerSchema(text.transform((v) => v.length)), text);
  // Nothing to unwrap: the schema itself.
  equal(innerSchema(text), text);
  deepEqual(schemaLayers(text), [text]);
});
