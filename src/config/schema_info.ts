/**
 * Small questions about zod schemas that several readers of configuration
 * ask: is this field a duration, what schema sits at this path, which
 * options does this section have. Complements `schema_walk.ts`.
 *
 * @module
 */
import type { z } from "zod";
import { describeSchema, findField, schemaDef, schemaLayers } from "./schema_walk.ts";

/**
 * Whether `schema` is a `duration()` field (from `duration.ts`): a union of
 * number and string piped into a transform, under any wrappers. Recognized by
 * shape because `duration()` builds a fresh schema on every call.
 */
export function isDurationSchema(schema: z.ZodType): boolean {
  const pipe = schemaLayers(schema).find((layer) => schemaDef(layer).type === "pipe");
  if (!pipe) return false;
  const def = schemaDef(pipe);
  const inDef = schemaDef(def.in!);
  if (inDef.type !== "union" || schemaDef(def.out!).type !== "transform") return false;
  const kinds = (inDef.options ?? []).map((o) => schemaDef(o).type).sort();
  return kinds.join(",") === "number,string";
}

/**
 * The schema found at `path` below `schema` (object fields matched
 * case-insensitively, record values, array elements), or `undefined`.
 */
export function schemaAt(
  schema: z.ZodType,
  path: readonly PropertyKey[],
): z.ZodType | undefined {
  let current: z.ZodType = schema;
  for (const part of path) {
    const node = describeSchema(current);
    if (node.kind === "object") {
      const field = findField(node, String(part));
      if (!field) return undefined;
      current = field.schema;
    } else if (node.kind === "record") {
      current = node.value;
    } else if (node.kind === "array") {
      current = node.element;
    } else {
      return undefined;
    }
  }
  return current;
}

/** The canonical option names of the object at `path`, for hints. */
export function optionNamesAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  const at = schemaAt(schema, path);
  if (!at) return [];
  const node = describeSchema(at);
  return node.kind === "object" ? [...node.fields.values()].map((f) => f.key) : [];
}
