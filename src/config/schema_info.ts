/**
 * Small questions about zod schemas that several readers of configuration
 * ask: is this field a duration, what schema sits at this path, which
 * options does this section have. Complements `schema_walk.ts`.
 *
 * @module
 */
import type { z } from "zod";
import { describeSchema, type SchemaNode } from "./schema_walk.ts";

/** Internal zod definition fields this module reads. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  options?: z.ZodType[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "readonly",
  "catch",
  "nonoptional",
]);

/**
 * Whether `schema` is a `duration()` field (from `duration.ts`): a union of
 * number and string piped into a transform. Recognized by shape because
 * `duration()` builds a fresh schema on every call.
 */
export function isDurationSchema(schema: z.ZodType): boolean {
  let current = schema;
  for (let depth = 0; depth < 16; depth++) {
    const def = defOf(current);
    if (WRAPPERS.has(def.type)) {
      current = def.innerType!;
      continue;
    }
    if (def.type !== "pipe") return false;
    const inDef = defOf(def.in!);
    if (inDef.type !== "union" || defOf(def.out!).type !== "transform") return false;
    const kinds = (inDef.options ?? []).map((o) => defOf(o).type).sort();
    return kinds.join(",") === "number,string";
  }
  return false;
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
    const node: SchemaNode = describeSchema(current);
    if (node.kind === "object") {
      const field = node.fields.get(String(part).toLowerCase());
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
