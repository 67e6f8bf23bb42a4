/**
 * Private machinery shared by the flag and environment readers: resolving a
 * dotted option path against a zod schema (case-insensitive option names,
 * object names as written), turning the string value into the leaf's type,
 * and laying the resulting overrides over the file's data while remembering
 * which flag or variable set what, so errors point at it.
 *
 * @module
 */
import type { z } from "zod";
import { describeSchema, type SchemaNode } from "./schema_walk.ts";
import { closest, hasPath } from "./_problems.ts";
import { isDurationSchema } from "./schema_info.ts";

/** One setting from a flag or an environment variable. */
export interface Override {
  /** Canonical path: schema spelling for options, object names as resolved. */
  readonly path: readonly string[];
  /**
   * `set` replaces the value; `enable` makes sure a section exists (Traefik
   * enables a provider, `api` or `ping` by its mere presence); `remove`
   * deletes a section (`--ping=false`).
   */
  readonly kind: "set" | "enable" | "remove";
  /** The typed value, for `set`. */
  readonly value?: unknown;
  /** The flag or variable as written, used as the error location. */
  readonly origin: string;
}

/** A successful path resolution. */
export interface Resolved {
  readonly ok: true;
  readonly path: string[];
  readonly schema: z.ZodType;
}

/** A failed path resolution: which segment is wrong and why. */
export interface Unresolved {
  readonly ok: false;
  /** Index of the offending segment. */
  readonly at: number;
  readonly detail: string;
  /** Canonical option name to suggest in place of segment `at`. */
  readonly suggestion?: string;
  /** Segment `at` directly follows an object name (it may belong to the name). */
  readonly afterName?: boolean;
}

/**
 * Reads an object name (a record key such as an entrypoint name) starting at
 * segment `start`: the alternatives, in order of preference, as the number of
 * segments taken and the name they spell. Flags: one segment, as written.
 */
export type NameSpans = (
  segments: readonly string[],
  start: number,
  existing: unknown,
) => { span: number; name: string }[];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isContainer(node: SchemaNode): boolean {
  return node.kind === "object" || node.kind === "record";
}

/**
 * Resolves `segments` (an option path split on `.` or `_`) against `schema`.
 *
 * @param nameSpans How many segments an object name takes; alternatives are
 * tried in order and the first that resolves wins.
 * @param existing Data already configured at this level (object names from
 * the file), passed to `nameSpans`.
 */
export function resolveOption(
  schema: z.ZodType,
  segments: readonly string[],
  nameSpans: NameSpans,
  existing: unknown,
  start = 0,
): Resolved | Unresolved {
  const path: string[] = [];
  let current = schema;
  let here = existing;
  for (let i = start; i < segments.length; i++) {
    const segment = segments[i]!;
    const node = describeSchema(current);
    if (node.kind === "object") {
      const field = node.fields.get(segment.toLowerCase());
      if (!field) {
        const names = [...node.fields.values()].map((f) => f.key);
        const suggestion = closest(segment, names);
        return {
          ok: false,
          at: i,
          detail: `unknown option '${segment}'`,
          ...(suggestion ? { suggestion } : {}),
        };
      }
      path.push(field.key);
      current = field.schema;
      here = isPlainObject(here) ? here[field.key] : undefined;
    } else if (node.kind === "record") {
      if (segment === "") return { ok: false, at: i, detail: "missing a name" };
      const spans = nameSpans(segments, i, here);
      let first: Unresolved | undefined;
      for (const { span, name } of spans) {
        const child = isPlainObject(here) ? here[name] : undefined;
        const rest = resolveOption(node.value, segments, nameSpans, child, i + span);
        if (rest.ok) return { ok: true, path: [...path, name, ...rest.path], schema: rest.schema };
        first ??= rest;
      }
      if (first && first.at === i + 1) return { ...first, afterName: true };
      return first ?? { ok: false, at: i, detail: "missing a name" };
    } else {
      const so = path.length ? `'${path.join(".")}' is an option, not a section` : "not a section";
      return { ok: false, at: i, detail: so };
    }
  }
  return { ok: true, path, schema: current };
}

const TRUE = new Set(["1", "t", "true"]);
const FALSE = new Set(["0", "f", "false"]);

/** Go's `strconv.ParseBool`, case-insensitive. */
export function parseBool(raw: string): boolean | undefined {
  const lower = raw.trim().toLowerCase();
  return TRUE.has(lower) ? true : FALSE.has(lower) ? false : undefined;
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

function convertLeaf(node: SchemaNode, raw: string): { value: unknown } | { error: string } {
  if (node.kind !== "leaf") return { value: raw };
  if (node.type === "boolean") {
    const b = parseBool(raw);
    return b === undefined ? { error: `must be true or false, got ${JSON.stringify(raw)}` } : {
      value: b,
    };
  }
  if (node.type === "number") {
    const text = raw.trim();
    return NUMBER.test(text)
      ? { value: Number(text) }
      : { error: `must be a number, got ${JSON.stringify(raw)}` };
  }
  // Strings, enums, durations ("10s" or "10"): the schema reads the text.
  return { value: raw };
}

/** What kind of value a resolved option takes, for flags without `=value`. */
export function optionKind(schema: z.ZodType): "boolean" | "section" | "list" | "value" {
  const node = describeSchema(schema);
  if (isContainer(node)) return "section";
  if (node.kind === "array") return "list";
  if (node.kind === "leaf" && node.type === "boolean") return "boolean";
  return "value";
}

/**
 * Turns a flag or variable's text into an {@linkcode Override}.
 * Lists are comma-separated (Traefik's form); sections take `true` (enable
 * with defaults) or `false` (remove).
 *
 * @returns The override, or a message saying what was expected.
 */
export function convertValue(
  resolved: Resolved,
  raw: string,
  origin: string,
): Override | { error: string } {
  const node = describeSchema(resolved.schema);
  const path = resolved.path;
  if (isContainer(node)) {
    const b = parseBool(raw);
    if (b === undefined) {
      const options = node.kind === "object" ? [...node.fields.values()].map((f) => f.key) : [];
      return {
        error: `is a section: set one of its options${
          options.length ? ` (${options.join(", ")})` : ""
        }, or true/false to enable or disable it; got ${JSON.stringify(raw)}`,
      };
    }
    return b ? { path, kind: "enable", origin } : { path, kind: "remove", origin };
  }
  if (node.kind === "array") {
    const element = describeSchema(node.element);
    if (element.kind !== "leaf" && element.kind !== "union") {
      return { error: "is a list of sections and cannot be set from a flag or variable" };
    }
    const items: unknown[] = [];
    for (const part of raw.split(",").map((s) => s.trim()).filter((s) => s !== "")) {
      const converted = convertLeaf(element, part);
      if ("error" in converted) return { error: converted.error };
      items.push(converted.value);
    }
    return { path, kind: "set", value: items, origin };
  }
  if (isDurationSchema(resolved.schema)) return { path, kind: "set", value: raw.trim(), origin };
  const converted = convertLeaf(node, raw);
  if ("error" in converted) return converted;
  return { path, kind: "set", value: converted.value, origin };
}

/** Where a merged value came from, for locating errors. */
interface Origin {
  readonly origin: string;
  /** The override replaced everything at and below this path. */
  readonly leaf: boolean;
}

/** The file data with overrides applied, and a locator for the result. */
export interface Merged {
  readonly value: Record<string, unknown>;
  /**
   * Where the value at `path` was set: the flag or variable that set it (or
   * an ancestor of it), else the file location, else `fallback`.
   * `override` is true when a flag or variable set this path or an ancestor
   * (so the location already names the option).
   */
  locate(path: readonly PropertyKey[]): { location: string; override: boolean };
}

const keyOf = (path: readonly PropertyKey[]): string => JSON.stringify(path.map(String));

/**
 * Lays overrides over `base` in order (later wins) and remembers their
 * origins.
 *
 * @param base Canonicalized file data (not modified).
 * @param file Locates paths that exist in `base`.
 * @param fallback Location for paths found nowhere (the file name, or a label).
 */
export function applyOverrides(
  base: unknown,
  overrides: readonly Override[],
  file: ((path: readonly PropertyKey[]) => string) | undefined,
  fallback: string,
): Merged {
  const value: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {};
  const origins = new Map<string, Origin>();
  for (const o of overrides) {
    let obj = value;
    for (let i = 0; i < o.path.length - 1; i++) {
      const key = o.path[i]!;
      const prefix = o.path.slice(0, i + 1);
      if (!isPlainObject(obj[key])) obj[key] = {};
      const known = origins.get(keyOf(prefix));
      if (known?.leaf || (!known && !hasPath(base, prefix))) {
        origins.set(keyOf(prefix), { origin: o.origin, leaf: false });
      }
      obj = obj[key] as Record<string, unknown>;
    }
    const last = o.path[o.path.length - 1];
    if (last === undefined) continue;
    const key = keyOf(o.path);
    if (o.kind === "set") {
      obj[last] = structuredClone(o.value);
      origins.set(key, { origin: o.origin, leaf: true });
    } else if (o.kind === "remove") {
      delete obj[last];
      origins.set(key, { origin: o.origin, leaf: true });
    } else {
      if (!isPlainObject(obj[last])) obj[last] = {};
      const known = origins.get(key);
      if (known?.leaf || (!known && !hasPath(base, o.path))) {
        origins.set(key, { origin: o.origin, leaf: false });
      }
    }
  }
  return {
    value,
    locate(path) {
      for (let i = path.length; i >= 0; i--) {
        const o = origins.get(keyOf(path.slice(0, i)));
        if (o?.leaf) return { location: o.origin, override: true };
      }
      for (let i = path.length; i >= 0; i--) {
        const prefix = path.slice(0, i);
        if (file && i > 0 && hasPath(base, prefix)) {
          return { location: file(prefix), override: false };
        }
        const o = origins.get(keyOf(prefix));
        if (o) return { location: o.origin, override: false };
      }
      return { location: file ? file([]) : fallback, override: false };
    },
  };
}

/**
 * The segments to suggest for a failed resolution: the typo replaced (and
 * further typos after it, up to three), the whole path when it then
 * resolves, else the path up to the first correction.
 */
export function suggestSegments(
  schema: z.ZodType,
  segments: readonly string[],
  failure: Unresolved,
  nameSpans: NameSpans,
  existing: unknown,
): string[] | undefined {
  if (failure.suggestion === undefined) return undefined;
  const first = [...segments.slice(0, failure.at), failure.suggestion];
  let fixed = [...segments];
  let current: Unresolved = failure;
  for (let round = 0; round < 3; round++) {
    if (current.suggestion === undefined) return first;
    fixed = [...fixed.slice(0, current.at), current.suggestion, ...fixed.slice(current.at + 1)];
    const again = resolveOption(schema, fixed, nameSpans, existing);
    if (again.ok) return fixed;
    current = again;
  }
  return first;
}
