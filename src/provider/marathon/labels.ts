/**
 * Flat labels (`traefik.http.routers.web.rule=Host(...)`) to typed trees,
 * driven by any zod schema: Traefik's label decoder (traefik/paerser
 * `parser/labels_decode.go`, `nodes_metadata.go`, `element_fill.go`) with
 * {@linkcode describeSchema} in place of Go reflection. One decoder therefore
 * covers routers, services, TLS stores, every middleware in the registry and
 * user plugins, without listing any of them.
 *
 * Rules reproduced from paerser:
 * - Only keys starting (case-insensitively) with a filter are read; the
 *   first segment must then be exactly the root (`traefik`), else
 *   "invalid label root".
 * - Segments are split on `.`; `name[n]` becomes `name` + `[n]`; an empty
 *   segment or a leading `[` is an error.
 * - Option names are case-insensitive; object names (map keys) keep their
 *   case; keys differing only by case collapse into the first in sorted key
 *   order, and the last value wins.
 * - Unknown options, sub-options under a value, wrong types (Go
 *   `ParseBool`/`ParseInt`/`ParseFloat`) are errors.
 * - Lists split on `,` and trim each item; an empty value leaves the list
 *   unset. Indexed items (`[n]`) of a value list are ignored, as in Traefik;
 *   lists of objects take their `[n]` children in sorted key order.
 * - An object option without sub-options is an error unless it may be empty
 *   (Traefik's `label:"allowEmpty"`): then `true` (any case) or an empty
 *   value creates it, and any other value disables it (it is left out).
 * - Objects created from labels get defaults first (Traefik's
 *   `SetDefaults()`), which labels then override.
 *
 * @module
 */
import { z } from "zod";
import {
  describeSchema,
  innerSchema,
  schemaDef,
  schemaLayers,
  type SchemaNode,
} from "../../config/schema_walk.ts";
import { setOwn } from "../../util/set_own.ts";

/** A label path tree node (paerser's `Node`). */
export interface LabelNode {
  /** The segment as first seen (case kept). */
  readonly name: string;
  /** The label value at this exact path (`""` when none). */
  value: string;
  /** Sub-segments, in sorted label-key order. */
  readonly children: LabelNode[];
  /** Children by lower-cased name, for case-insensitive merging. */
  readonly index: Map<string, LabelNode>;
}

/** A label that cannot be decoded; the message names the label path. */
export class LabelDecodeError extends SyntaxError {
  /** Error class name. */
  override name = "LabelDecodeError";
}

/**
 * Builds the path tree of the labels matching `filters` (paerser
 * `DecodeToNode`).
 *
 * @returns The root node, or `undefined` when no label matches.
 * @throws {LabelDecodeError} On an invalid root, empty segment or bracket.
 */
export function labelsToNode(
  labels: Readonly<Record<string, string>>,
  root: string,
  filters: readonly string[],
): LabelNode | undefined {
  const lowerFilters = filters.map((f) => f.toLowerCase());
  const keys: string[] = [];
  for (const key in labels) {
    const lower = key.toLowerCase();
    if (lowerFilters.some((f) => lower.startsWith(f))) keys.push(key);
  }
  if (keys.length === 0) return undefined;
  // Go's sort.Strings (byte order; identical to UTF-16 order for ASCII).
  keys.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  const node: LabelNode = { name: root, value: "", children: [], index: new Map() };
  for (const key of keys) {
    const split = key.split(".");
    if (split[0] !== root) {
      throw new LabelDecodeError(
        `label ${key}: invalid label root '${
          split[0]
        }' (labels must start with '${root}.' in lower case)`,
      );
    }
    const parts: string[] = [];
    for (const segment of split) {
      if (segment === "") {
        throw new LabelDecodeError(`label ${key}: empty segment (two dots in a row?)`);
      }
      if (segment[0] === "[") {
        throw new LabelDecodeError(
          `label ${key}: segment '${segment}' starts with '[' (brackets index a list)`,
        );
      }
      if (segment.endsWith("]")) {
        const left = segment.indexOf("[");
        if (left < 0) {
          throw new LabelDecodeError(`label ${key}: unbalanced bracket in '${segment}'`);
        }
        parts.push(segment.slice(0, left), segment.slice(left));
      } else {
        parts.push(segment);
      }
    }
    let current = node;
    for (const part of parts.slice(1)) {
      const lower = part.toLowerCase();
      let child = current.index.get(lower);
      if (!child) {
        child = { name: part, value: "", children: [], index: new Map() };
        current.children.push(child);
        current.index.set(lower, child);
      }
      current = child;
    }
    current.value = labels[key]!;
  }
  return node;
}

/** Hooks that give a schema Traefik's label-only semantics. */
export interface DecodeHooks {
  /**
   * Whether an object option may be given without sub-options (Traefik's
   * `allowEmpty`). Also true when the schema carries zod metadata
   * `{ allowEmpty: true }`. `path` holds the lower-cased option names from
   * the root (object names included).
   */
  allowEmpty?(schema: z.ZodType, path: readonly string[]): boolean;
  /** Defaults of an object created from labels (Traefik's `SetDefaults`). */
  defaults?(schema: z.ZodType, path: readonly string[]): Record<string, unknown> | undefined;
}

const DISABLED: unique symbol = Symbol("disabled");

/** True when `schema` (or a wrapper of it) carries zod metadata `{ [key]: true }`. */
export function hasMeta(schema: z.ZodType, key: string): boolean {
  return schemaLayers(schema).some((s) =>
    (z.globalRegistry.get(s) as Record<string, unknown> | undefined)?.[key] === true
  );
}

function isIntegerSchema(schema: z.ZodType): boolean {
  const def = schemaDef(innerSchema(schema));
  if (def.type === "int" || def.type === "bigint") return true;
  if (def.format && /int/.test(def.format)) return true;
  return (def.checks ?? []).some((c) =>
    c._zod.def.check === "number_format" && /int/.test(c._zod.def.format ?? "")
  );
}

const GO_BOOLS: Record<string, boolean> = {
  "1": true,
  t: true,
  T: true,
  TRUE: true,
  true: true,
  True: true,
  "0": false,
  f: false,
  F: false,
  FALSE: false,
  false: false,
  False: false,
};

/**
 * `Number(text)`, but `-0` reads as `0`: Go has no negative zero integer, and
 * `reflect.DeepEqual` finds a float `-0` equal to `0`, which
 * `isDeepStrictEqual` (used when merging apps) would not.
 */
function goNumber(text: string): number {
  const n = Number(text);
  return n === 0 ? 0 : n;
}

function parseLeaf(
  type: "string" | "number" | "boolean" | "enum" | "any",
  schema: z.ZodType,
  text: string,
  where: string,
): unknown {
  switch (type) {
    case "boolean": {
      const b = GO_BOOLS[text];
      if (b === undefined) {
        throw new LabelDecodeError(
          `${where}: ${JSON.stringify(text)} is not a boolean (use true or false)`,
        );
      }
      return b;
    }
    case "number": {
      if (isIntegerSchema(schema)) {
        if (!/^[+-]?[0-9]+$/.test(text) || !Number.isSafeInteger(Number(text))) {
          throw new LabelDecodeError(`${where}: ${JSON.stringify(text)} is not an integer`);
        }
        return goNumber(text);
      }
      if (!/^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(text)) {
        throw new LabelDecodeError(`${where}: ${JSON.stringify(text)} is not a number`);
      }
      return goNumber(text);
    }
    default:
      return text;
  }
}

/** paerser's raw map (`map[string]interface{}`): strings, `[n]` lists, maps. */
function rawValue(node: LabelNode): unknown {
  if (node.children.length === 0) return node.value;
  if (node.children[0]!.name.startsWith("[")) return node.children.map(rawValue);
  const out: Record<string, unknown> = {};
  for (const child of node.children) setOwn(out, child.name, rawValue(child));
  return out;
}

type Mode = "field" | "entry" | "root";

class Decoder {
  readonly #hooks: DecodeHooks;

  constructor(hooks: DecodeHooks) {
    this.#hooks = hooks;
  }

  decode(
    schema: z.ZodType,
    node: LabelNode,
    mode: Mode,
    labelPath: string,
    path: string[],
  ): unknown | typeof DISABLED {
    const desc = describeSchema(schema);
    switch (desc.kind) {
      case "object":
      case "record":
        return this.#container(schema, desc, node, mode, labelPath, path);
      case "array":
        return this.#array(desc.element, node, labelPath, path);
      case "union":
        return this.#union(desc.options, node, mode, labelPath, path);
      case "leaf":
        if (node.children.length > 0) {
          if (desc.type === "any") return rawValue(node);
          throw new LabelDecodeError(
            `label ${labelPath}.${
              node.children[0]!.name
            }: '${node.name}' takes a value, not sub-options`,
          );
        }
        return parseLeaf(desc.type, schema, node.value, `label ${labelPath}`);
    }
  }

  #container(
    schema: z.ZodType,
    desc: Extract<SchemaNode, { kind: "object" | "record" }>,
    node: LabelNode,
    mode: Mode,
    labelPath: string,
    path: string[],
  ): unknown | typeof DISABLED {
    const allowEmpty = mode === "field" &&
      (hasMeta(schema, "allowEmpty") || (this.#hooks.allowEmpty?.(schema, path) ?? false));
    if (mode === "field" && node.children.length === 0 && !allowEmpty) {
      throw new LabelDecodeError(
        `label ${labelPath}: '${node.name}' needs sub-options (for example ${labelPath}.<option>=...)`,
      );
    }
    const out: Record<string, unknown> = { ...(this.#hooks.defaults?.(schema, path) ?? {}) };
    for (const child of node.children) {
      const childLabel = `${labelPath}.${child.name}`;
      if (desc.kind === "record") {
        const value = this.decode(desc.value, child, "entry", childLabel, [...path, child.name]);
        if (value !== DISABLED) setOwn(out, child.name, value);
        continue;
      }
      const field = desc.fields.get(child.name.toLowerCase());
      if (!field) {
        const known = [...desc.fields.values()].map((f) => f.key).join(", ");
        throw new LabelDecodeError(
          `label ${childLabel}: unknown option '${child.name}'${
            known ? ` (known: ${known})` : " (none is known here)"
          }`,
        );
      }
      const value = this.decode(field.schema, child, "field", childLabel, [
        ...path,
        field.key.toLowerCase(),
      ]);
      if (value !== DISABLED) out[field.key] = value;
    }
    // paerser still checks the children of a disabled structure (above).
    if (allowEmpty && node.value !== "" && node.value.toLowerCase() !== "true") return DISABLED;
    return out;
  }

  #array(
    element: z.ZodType,
    node: LabelNode,
    labelPath: string,
    path: string[],
  ): unknown | typeof DISABLED {
    const elem = describeSchema(element);
    if (
      elem.kind === "object" || elem.kind === "record" ||
      (elem.kind === "union" && node.children.length > 0)
    ) {
      if (node.children.length === 0) return DISABLED;
      return node.children.map((child) =>
        this.decode(
          element,
          child,
          "entry",
          `${labelPath}${child.name.startsWith("[") ? "" : "."}${child.name}`,
          [
            ...path,
            child.name,
          ],
        )
      );
    }
    for (const child of node.children) {
      if (child.children.length > 0) {
        const sep = child.name.startsWith("[") ? "" : ".";
        throw new LabelDecodeError(
          `label ${labelPath}${sep}${child.name}.${
            child.children[0]!.name
          }: '${node.name}' is a list of values, not of objects`,
        );
      }
    }
    // Traefik ignores `list[n]=v` for value lists; only `list=a,b` counts.
    if (node.value === "") return DISABLED;
    const type = elem.kind === "leaf" ? elem.type : "string";
    return node.value.split(",").map((item, i) =>
      parseLeaf(type, element, item.trim(), `label ${labelPath} (item ${i + 1})`)
    );
  }

  #union(
    options: readonly z.ZodType[],
    node: LabelNode,
    mode: Mode,
    labelPath: string,
    path: string[],
  ): unknown | typeof DISABLED {
    const described = options.map((o) => ({ schema: o, node: describeSchema(o) }));
    if (node.children.length > 0) {
      const names = node.children.map((c) => c.name.toLowerCase());
      const object = described.find((d) =>
        d.node.kind === "object" && names.every((n) =>
          (d.node as { fields: ReadonlyMap<string, unknown> }).fields.has(n)
        )
      ) ?? described.find((d) => d.node.kind === "record") ?? described.find((d) =>
        d.node.kind !== "leaf"
      );
      if (!object) {
        throw new LabelDecodeError(
          `label ${labelPath}.${
            node.children[0]!.name
          }: '${node.name}' takes a value, not sub-options`,
        );
      }
      return this.decode(object.schema, node, mode, labelPath, path);
    }
    const leaves = described.flatMap((
      d,
    ) => (d.node.kind === "leaf" ? [{ schema: d.schema, type: d.node.type }] : []));
    // Durations are `number | string`: keep the label's text ("10s"), as
    // Traefik's JSON shows it.
    const pick = leaves.find((l) => l.type === "string" || l.type === "enum" || l.type === "any") ??
      leaves.find((l) => l.type === "number") ?? leaves.find((l) => l.type === "boolean");
    if (pick) return parseLeaf(pick.type, pick.schema, node.value, `label ${labelPath}`);
    const first = described[0];
    if (!first) return node.value;
    return this.decode(first.schema, node, mode, labelPath, path);
  }
}

/** Options of {@linkcode decodeLabels}. */
export interface DecodeLabelsOptions extends DecodeHooks {
  /** Required first segment, e.g. `traefik`. */
  readonly root: string;
  /** Case-insensitive key prefixes to read, e.g. `traefik.http`. */
  readonly filters: readonly string[];
}

/**
 * Decodes the labels matching `options.filters` into a tree typed by `schema`
 * (the object the root segment stands for). Keys use the schema's spelling;
 * object names keep the labels' spelling. The result is not validated
 * against `schema` beyond types: Traefik checks values later, per item.
 *
 * @returns The decoded object, or `undefined` when no label matched.
 * @throws {LabelDecodeError} On any decoding error; its message names the label.
 *
 * @example
 * ```ts
 * const schema = z.object({ http: z.object({ routers: z.record(z.string(), routerSchema) }) });
 * decodeLabels({ "traefik.http.routers.web.priority": "10" }, schema, {
 *   root: "traefik",
 *   filters: ["traefik.http"],
 * }); // { http: { routers: { web: { priority: 10 } } } }
 * ```
 */
export function decodeLabels(
  labels: Readonly<Record<string, string>>,
  schema: z.ZodType,
  options: DecodeLabelsOptions,
): Record<string, unknown> | undefined {
  const node = labelsToNode(labels, options.root, options.filters);
  if (!node) return undefined;
  const value = new Decoder(options).decode(schema, node, "root", options.root, []);
  return value === DISABLED ? {} : (value as Record<string, unknown>);
}
