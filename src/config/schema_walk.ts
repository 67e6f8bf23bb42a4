/**
 * Reads the structure of a zod schema: which keys an object has, what a
 * record or array holds, and which leaves are strings, numbers or booleans.
 *
 * Traefik matches option names case-insensitively in every source (files,
 * labels, flags), while object names (routers, services) keep their case.
 * {@linkcode canonicalizeKeys} applies that rule to parsed files, and the
 * label decoder uses {@linkcode describeSchema} to turn flat `a.b.c=v` labels
 * into typed trees. One schema therefore drives validation, key matching and
 * label typing, for built-ins and plugins alike.
 *
 * @module
 */
import type { z } from "zod";

/** Structural view of a schema, wrappers (optional, default, ...) removed. */
export type SchemaNode =
  | { kind: "object"; fields: ReadonlyMap<string, { key: string; schema: z.ZodType }> }
  | { kind: "record"; value: z.ZodType }
  | { kind: "array"; element: z.ZodType }
  | { kind: "union"; options: readonly z.ZodType[] }
  | { kind: "leaf"; type: "string" | "number" | "boolean" | "enum" | "any" };

interface Def {
  type: string;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
  options?: z.ZodType[];
  innerType?: z.ZodType;
  in?: z.ZodType;
  out?: z.ZodType;
  getter?: () => z.ZodType;
  values?: unknown[];
}

function defOf(schema: z.ZodType): Def {
  return (schema as unknown as { _zod: { def: Def } })._zod.def;
}

const objectCache = new WeakMap<z.ZodType, SchemaNode>();

/**
 * Describes what raw input `schema` accepts.
 *
 * Pipes are read on their input side, except `z.preprocess` pipes, whose
 * structure is that of their output.
 */
export function describeSchema(schema: z.ZodType): SchemaNode {
  let current = schema;
  for (let depth = 0; depth < 64; depth++) {
    const def = defOf(current);
    switch (def.type) {
      case "optional":
      case "nullable":
      case "default":
      case "prefault":
      case "readonly":
      case "catch":
      case "nonoptional":
      case "success":
        current = def.innerType!;
        continue;
      case "lazy":
        current = def.getter!();
        continue;
      case "pipe": {
        const inDef = defOf(def.in!);
        current = inDef.type === "transform" ? def.out! : def.in!;
        continue;
      }
      case "object": {
        const cached = objectCache.get(current);
        if (cached) return cached;
        const fields = new Map<string, { key: string; schema: z.ZodType }>();
        for (const [key, value] of Object.entries(def.shape ?? {})) {
          fields.set(key.toLowerCase(), { key, schema: value });
        }
        const node: SchemaNode = { kind: "object", fields };
        objectCache.set(current, node);
        return node;
      }
      case "record":
        return { kind: "record", value: def.valueType! };
      case "array":
        return { kind: "array", element: def.element! };
      case "union":
        return { kind: "union", options: def.options! };
      case "string":
      case "template_literal":
        return { kind: "leaf", type: "string" };
      case "number":
      case "int":
      case "bigint":
        return { kind: "leaf", type: "number" };
      case "boolean":
        return { kind: "leaf", type: "boolean" };
      case "enum":
      case "literal":
        return { kind: "leaf", type: "enum" };
      default:
        return { kind: "leaf", type: "any" };
    }
  }
  return { kind: "leaf", type: "any" };
}

/**
 * Finds the field of an object node matching `name` case-insensitively.
 * @returns The canonical key and its schema, or `undefined`.
 */
export function findField(
  node: SchemaNode,
  name: string,
): { key: string; schema: z.ZodType } | undefined {
  return node.kind === "object" ? node.fields.get(name.toLowerCase()) : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Returns a copy of `value` whose object keys are renamed to the schema's
 * spelling when they match case-insensitively (`loadbalancer` →
 * `loadBalancer`). Record keys (object names) are kept. Keys the schema does
 * not know are kept too, so strict validation reports them where they are.
 */
export function canonicalizeKeys(schema: z.ZodType, value: unknown): unknown {
  const node = describeSchema(schema);
  switch (node.kind) {
    case "object": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        const field = node.fields.get(key.toLowerCase());
        if (field) {
          out[field.key] = canonicalizeKeys(field.schema, child);
        } else {
          out[key] = child;
        }
      }
      return out;
    }
    case "record": {
      if (!isPlainObject(value)) return value;
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(value)) {
        out[key] = canonicalizeKeys(node.value, child);
      }
      return out;
    }
    case "array":
      return Array.isArray(value) ? value.map((v) => canonicalizeKeys(node.element, v)) : value;
    case "union": {
      // Use the first object option that knows every key of the value.
      if (!isPlainObject(value)) return value;
      for (const option of node.options) {
        const opt = describeSchema(option);
        if (
          opt.kind === "object" &&
          Object.keys(value).every((k) => opt.fields.has(k.toLowerCase()))
        ) {
          return canonicalizeKeys(option, value);
        }
      }
      return value;
    }
    default:
      return value;
  }
}
