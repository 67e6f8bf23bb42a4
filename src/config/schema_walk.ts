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

/**
 * The parts of a schema's zod definition (`schema._zod.def`) that the
 * configuration readers look at. Zod keeps it internal, so every reader goes
 * through {@linkcode schemaDef} rather than casting on its own.
 */
export interface SchemaDef {
  /** Kind: `object`, `optional`, `pipe`, `string`, ... */
  readonly type: string;
  /** `object`: its fields. */
  readonly shape?: Record<string, z.ZodType>;
  /** `array`: what it holds. */
  readonly element?: z.ZodType;
  /** `record`: what its values are. */
  readonly valueType?: z.ZodType;
  /** `union`: its options. */
  readonly options?: readonly z.ZodType[];
  /** Wrappers (`optional`, `default`, ...): the wrapped schema. */
  readonly innerType?: z.ZodType;
  /** `pipe`: input side. */
  readonly in?: z.ZodType;
  /** `pipe`: output side. */
  readonly out?: z.ZodType;
  /** `lazy`: the schema it stands for. */
  readonly getter?: () => z.ZodType;
  /** `literal`: its values. */
  readonly values?: readonly unknown[];
  /** `enum`: its values by key. */
  readonly entries?: Record<string, string>;
  /** `default`, `prefault`: the default value. */
  readonly defaultValue?: unknown;
  /** `number`, `int`: format (`safeint`, `int32`, ...). */
  readonly format?: string;
  /** Checks such as `.int()` on a number. */
  readonly checks?: ReadonlyArray<{ _zod: { def: { check?: string; format?: string } } }>;
}

/** The zod definition of `schema` (see {@linkcode SchemaDef}). */
export function schemaDef(schema: z.ZodType): SchemaDef {
  return (schema as unknown as { _zod: { def: SchemaDef } })._zod.def;
}

/** Schemas that only wrap another one (`def.innerType`). */
const WRAPPERS = new Set([
  "optional",
  "nullable",
  "default",
  "prefault",
  "readonly",
  "catch",
  "nonoptional",
  "success",
]);

/**
 * The schema `schema` stands for, one layer down: the wrapped schema of a
 * wrapper, a lazy schema's target, a pipe's input side (its output side for
 * `z.preprocess`, whose input is a transform). `undefined` for anything else.
 */
function unwrapOnce(schema: z.ZodType): z.ZodType | undefined {
  const def = schemaDef(schema);
  if (WRAPPERS.has(def.type)) return def.innerType;
  if (def.type === "lazy") return def.getter?.();
  if (def.type === "pipe") return schemaDef(def.in!).type === "transform" ? def.out : def.in;
  return undefined;
}

const MAX_DEPTH = 64;

/**
 * Every schema {@linkcode describeSchema} looks through to reach the
 * structure of `schema`, outermost first: `schema` itself, its wrappers
 * (optional, default, ...), lazy targets and pipe sides, and last the
 * structural schema. For metadata, descriptions and defaults set on any layer.
 */
export function schemaLayers(schema: z.ZodType): z.ZodType[] {
  const layers: z.ZodType[] = [];
  let current: z.ZodType | undefined = schema;
  while (current && layers.length < MAX_DEPTH) {
    layers.push(current);
    current = unwrapOnce(current);
  }
  return layers;
}

/** The last of {@linkcode schemaLayers}: the schema that gives `schema` its structure. */
export function innerSchema(schema: z.ZodType): z.ZodType {
  let current = schema;
  for (let depth = 1; depth < MAX_DEPTH; depth++) {
    const next = unwrapOnce(current);
    if (!next) break;
    current = next;
  }
  return current;
}

const objectCache = new WeakMap<z.ZodType, SchemaNode>();

/**
 * Describes what raw input `schema` accepts.
 *
 * Pipes are read on their input side, except `z.preprocess` pipes, whose
 * structure is that of their output.
 */
export function describeSchema(schema: z.ZodType): SchemaNode {
  const current = innerSchema(schema);
  const def = schemaDef(current);
  switch (def.type) {
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
