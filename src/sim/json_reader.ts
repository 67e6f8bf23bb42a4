/**
 * Reads untyped request JSON field by field and collects Marathon-style
 * findings: wrong JSON types become 400 "Invalid JSON" details
 * (`error.expected.jsstring`, ...), semantic problems become 422 "Object is
 * not valid" details.
 *
 * @module
 */

import { type ErrorDetail, invalidJson, objectNotValid } from "./errors.ts";

/** A JSON object as parsed. */
export type JsonObject = Record<string, unknown>;

/** Whether a value is a plain JSON object. */
export function isObject(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Collects findings while reading one request body. */
export class JsonReader {
  readonly #typeErrors = new Map<string, string[]>();
  readonly #invalid = new Map<string, string[]>();

  #add(map: Map<string, string[]>, path: string, error: string): void {
    const list = map.get(path) ?? [];
    if (!list.includes(error)) list.push(error);
    map.set(path, list);
  }

  /** Records a wrong JSON type (400). */
  typeError(path: string, expected: string): void {
    this.#add(this.#typeErrors, path || "/", `error.expected.${expected}`);
  }

  /** Records a validation failure (422). */
  invalid(path: string, error: string): void {
    this.#add(this.#invalid, path || "/", error);
  }

  /** A string field; `null`/absent give `undefined`. */
  str(v: unknown, path: string): string | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") return this.typeError(path, "jsstring"), undefined;
    return v;
  }

  /** A number field; `null`/absent give `undefined`. */
  num(v: unknown, path: string): number | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "number" || !Number.isFinite(v)) {
      return this.typeError(path, "jsnumber"), undefined;
    }
    return v;
  }

  /** An integer field. */
  int(v: unknown, path: string): number | undefined {
    const n = this.num(v, path);
    if (n !== undefined && !Number.isInteger(n)) return this.typeError(path, "jsnumber"), undefined;
    return n;
  }

  /** A boolean field. */
  bool(v: unknown, path: string): boolean | undefined {
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") return this.typeError(path, "jsboolean"), undefined;
    return v;
  }

  /** An array field. */
  arr(v: unknown, path: string): unknown[] | undefined {
    if (v === undefined || v === null) return undefined;
    if (!Array.isArray(v)) return this.typeError(path, "jsarray"), undefined;
    return v;
  }

  /** An object field. */
  obj(v: unknown, path: string): JsonObject | undefined {
    if (v === undefined || v === null) return undefined;
    if (!isObject(v)) return this.typeError(path, "jsobject"), undefined;
    return v;
  }

  /** A string-to-string map (labels). */
  strMap(v: unknown, path: string): Record<string, string> | undefined {
    const o = this.obj(v, path);
    if (!o) return undefined;
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o)) {
      const s = this.str(val, `${path}/${k}`);
      if (s !== undefined) out[k] = s;
    }
    return out;
  }

  /** Throws the 400, then the 422, if anything was recorded. */
  finish(): void {
    const details = (m: Map<string, string[]>): ErrorDetail[] =>
      [...m].map(([path, errors]) => ({ path, errors }));
    if (this.#typeErrors.size > 0) throw invalidJson(details(this.#typeErrors));
    if (this.#invalid.size > 0) throw objectNotValid(details(this.#invalid));
  }
}

/**
 * Parses a request body as JSON.
 *
 * @throws {MarathonError} 400 "Invalid JSON" on a syntax error.
 */
export function parseJsonBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw invalidJson([{
      path: "/",
      errors: [`error.invalid.json: ${err instanceof Error ? err.message : String(err)}`],
    }]);
  }
}
