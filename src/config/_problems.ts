/**
 * Private helpers of `src/config/` shared by the file, flag and environment
 * readers: "did you mean" hints, option names written twice in different
 * case, and the conversion of zod issues into short messages that say what
 * was found.
 *
 * @module
 */
import type { z } from "zod";
import { describeSchema } from "./schema_walk.ts";
import { isDurationSchema, optionNamesAt, schemaAt } from "./schema_info.ts";

/** Edit distance with transpositions (optimal string alignment). */
function distance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
  for (let i = 0; i < rows; i++) d[i]![0] = i;
  for (let j = 0; j < cols; j++) d[0]![j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The candidate closest to `input` (case-insensitive), if it is close enough
 * to be a plausible typo: a few edits, or one name containing the other.
 */
export function closest(input: string, candidates: Iterable<string>): string | undefined {
  const needle = input.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const candidate of candidates) {
    const hay = candidate.toLowerCase();
    let score = distance(needle, hay);
    const limit = Math.max(1, Math.floor(Math.max(needle.length, hay.length) / 3));
    if (score > limit) {
      // "port" for "address" is no typo, but "tls" for "http.tls" or
      // "filename" for "file" is a near miss worth showing.
      if (needle.length >= 3 && (hay.includes(needle) || needle.includes(hay))) score = limit;
      else continue;
    }
    if (score < bestScore) {
      best = candidate;
      bestScore = score;
    }
  }
  return best;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** The value at `path` in plain data (exact keys), or `undefined`. */
export function valueAt(value: unknown, path: readonly PropertyKey[]): unknown {
  let current = value;
  for (const part of path) {
    if (Array.isArray(current) && typeof part === "number") current = current[part];
    else if (isPlainObject(current)) current = current[String(part)];
    else return undefined;
  }
  return current;
}

/** Whether `path` exists in plain data (exact keys). */
export function hasPath(value: unknown, path: readonly PropertyKey[]): boolean {
  let current = value;
  for (const part of path) {
    if (Array.isArray(current) && typeof part === "number" && part < current.length) {
      current = current[part];
    } else if (isPlainObject(current) && Object.hasOwn(current, String(part))) {
      current = current[String(part)];
    } else {
      return false;
    }
  }
  return true;
}

/** Renders a value found in configuration for a message: `"80x"`, `true`, `[list]`. */
export function shown(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (isPlainObject(value)) return "a section";
  if (value === null) return "an empty value";
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One issue reduced to a path and a message that does not repeat the path. */
export interface ExplainedIssue {
  readonly path: readonly PropertyKey[];
  readonly detail: string;
}

/** `number 3`, `string "x"`, `a list`: what was found, for type errors. */
function typed(value: unknown): string {
  if (value === null || typeof value === "object") return shown(value);
  return `${typeof value} ${shown(value)}`;
}

/**
 * Explains zod issues for people: one entry per unknown key (with a hint),
 * "required option is missing" instead of "received undefined", durations
 * named as such, and the offending value quoted where zod does not.
 *
 * @param schema The schema that produced the issues (for hints).
 * @param input The value that was validated (for quoting what was found).
 */
export function explainIssues(
  schema: z.ZodType,
  input: unknown,
  issues: readonly z.core.$ZodIssue[],
): ExplainedIssue[] {
  const out: ExplainedIssue[] = [];
  for (const issue of issues) {
    const path = issue.path as PropertyKey[];
    const found = valueAt(input, path);
    const got = hasPath(input, path) ? `, got ${shown(found)}` : "";
    switch (issue.code) {
      case "unrecognized_keys": {
        const names = optionNamesAt(schema, path);
        for (const key of issue.keys) {
          const hint = closest(key, names);
          out.push({
            path: [...path, key],
            // The path ends with the key, so the message need not repeat it.
            detail: hint
              ? `unknown option (did you mean '${hint}'?)`
              : `unknown option${names.length ? ` (options here: ${names.join(", ")})` : ""}`,
          });
        }
        break;
      }
      case "invalid_type": {
        if (!issue.message.startsWith("Invalid input")) {
          // A schema's own wording (e.g. "a TLS entrypoint needs keyFile too").
          out.push({ path, detail: issue.message });
        } else if (found === undefined) {
          out.push({ path, detail: "required option is missing" });
        } else {
          out.push({
            path,
            detail: `expected ${issue.expected}, got ${typed(found)}`,
          });
        }
        break;
      }
      case "invalid_union": {
        const at = schemaAt(schema, path);
        if (at && isDurationSchema(at)) {
          out.push({
            path,
            detail: `expected a duration such as "10s" or "1m30s", or a number of seconds${got}`,
          });
        } else {
          const expected = issue.errors.flat()
            .filter((i) => i.code === "invalid_type" && i.path.length === 0)
            .map((i) => (i as { expected: string }).expected);
          out.push({
            path,
            detail: expected.length
              ? `expected ${[...new Set(expected)].join(" or ")}${got}`
              : `${issue.message}${got}`,
          });
        }
        break;
      }
      case "invalid_value":
      case "too_big":
      case "too_small":
      case "invalid_format":
        out.push({ path, detail: `${issue.message.replace(/^[A-Z][a-z]+ [a-z]+: /, "")}${got}` });
        break;
      default:
        out.push({ path, detail: issue.message });
    }
  }
  return out;
}

/**
 * Finds option names written twice with different case (`entryPoints` and
 * `entrypoints`), which canonicalization would otherwise merge silently.
 * Paths use the keys as written.
 */
export function caseClashes(schema: z.ZodType, value: unknown): ExplainedIssue[] {
  const out: ExplainedIssue[] = [];
  walkClashes(schema, value, [], out);
  return out;
}

function walkClashes(
  schema: z.ZodType,
  value: unknown,
  path: PropertyKey[],
  out: ExplainedIssue[],
): void {
  const node = describeSchema(schema);
  if (node.kind === "object" && isPlainObject(value)) {
    const seen = new Map<string, string>();
    for (const [key, child] of Object.entries(value)) {
      const field = node.fields.get(key.toLowerCase());
      if (!field) continue;
      const first = seen.get(field.key);
      if (first !== undefined) {
        out.push({
          path: [...path, key],
          detail: `option '${field.key}' is written twice ('${first}' and '${key}')`,
        });
      } else {
        seen.set(field.key, key);
      }
      walkClashes(field.schema, child, [...path, key], out);
    }
  } else if (node.kind === "record" && isPlainObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      walkClashes(node.value, child, [...path, key], out);
    }
  } else if (node.kind === "array" && Array.isArray(value)) {
    value.forEach((child, i) => walkClashes(node.element, child, [...path, i], out));
  }
}
