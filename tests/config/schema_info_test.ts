import { deepEqual, equal } from "node:assert/strict";
import { z } from "zod";
import { duration } from "../../src/config/duration.ts";
import { isDurationSchema, optionNamesAt, schemaAt } from "../../src/config/schema_info.ts";

Deno.test("isDurationSchema() recognizes duration() fields through wrappers only", () => {
  const cases: [string, z.ZodType, boolean][] = [
    ["duration()", duration(), true],
    ["with a default", duration().default(1000), true],
    ["optional", duration().optional(), true],
    ["string", z.string(), false],
    ["number or string", z.union([z.number(), z.string()]), false],
    ["other transform", z.union([z.number(), z.boolean()]).transform(() => 1), false],
  ];
  for (const [name, schema, expected] of cases) equal(isDurationSchema(schema), expected, name);
});

Deno.test("schemaAt() and optionNamesAt() follow options, names and list items", () => {
  const schema = z.strictObject({
    entryPoints: z.record(
      z.string(),
      z.strictObject({ address: z.string(), tags: z.array(z.strictObject({ k: z.string() })) }),
    ).default({}),
  });
  equal(schemaAt(schema, ["ENTRYPOINTS", "web", "Address"])?.def.type, "string");
  deepEqual(optionNamesAt(schema, ["entryPoints", "web"]), ["address", "tags"]);
  deepEqual(optionNamesAt(schema, ["entryPoints", "web", "tags", 0]), ["k"]);
  equal(schemaAt(schema, ["entryPoints", "web", "nope"]), undefined);
  deepEqual(optionNamesAt(schema, ["nope"]), []);
});
