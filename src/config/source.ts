/**
 * Reads configuration text (YAML or JSON) and keeps track of where every key
 * was written, so validation errors point at `pacer.yaml:12:5` instead of a
 * bare option path. Used for the static configuration and by the file
 * provider for dynamic files.
 *
 * @example
 * ```ts
 * const source = parseConfigText(await Deno.readTextFile("dyn.yaml"), "dyn.yaml");
 * const result = validateWith(dynamicConfigShapeSchema, source);
 * if (!result.ok) throw new ConfigError(result.problems);
 * ```
 *
 * @module
 */
import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument } from "yaml";
import type { Document, Node as YamlNode } from "yaml";
import type { z } from "zod";
import { canonicalizeKeys } from "./schema_walk.ts";
import { caseClashes, type ExplainedIssue, explainIssues } from "./_problems.ts";
import { formatPath } from "./issues.ts";

/** One thing wrong with the configuration, and where it was written. */
export interface ConfigProblem {
  /**
   * Where: `"pacer.yaml:12:5"` (file, line, column; 1-based), a flag
   * (`"--entryPoints.web.address"`), an environment variable
   * (`"PACER_ENTRYPOINTS_WEB_ADDRESS"`), or a file name alone.
   */
  readonly location: string;
  /** What, e.g. `'entryPoints.web.address': must be host:port, got "80x"`. */
  readonly message: string;
}

/**
 * A configuration that cannot be used. Carries every problem found, not only
 * the first, so a user fixes them in one pass.
 */
export class ConfigError extends Error {
  /** Every problem, in the order they should be read. */
  readonly problems: readonly ConfigProblem[];

  /**
   * Creates the error from its problems.
   *
   * @param problems At least one problem; the message lists them one per
   * line as `location: message`.
   */
  constructor(problems: readonly ConfigProblem[], options?: ErrorOptions) {
    super(problems.map((p) => `${p.location}: ${p.message}`).join("\n"), options);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/** Parsed configuration text plus a way back to where things were written. */
export interface ParsedSource {
  /** Plain data: objects, arrays, strings, numbers, booleans, null. */
  readonly value: unknown;
  /**
   * Maps a path (as in a zod issue; keys matched case-insensitively, since
   * option names are canonicalized before validation) to `"file:line:col"`
   * of the key (or list item). Falls back to the nearest ancestor that
   * exists; the file name alone for the root.
   */
  locate(path: readonly PropertyKey[]): string;
}

/** A source to validate: parsed text, or any value with a locator (flags, labels). */
export interface LocatedValue {
  /** The data to validate. */
  readonly value: unknown;
  /** Where the value at `path` was written (see {@linkcode ParsedSource.locate}). */
  locate(path: readonly PropertyKey[]): string;
}

/** Result of {@linkcode validateWith}. */
export type ValidationResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly problems: ConfigProblem[] };

const SUPPORTED = "use YAML (.yaml, .yml) or JSON (.json)";

function extensionOf(filename: string): string {
  const base = filename.slice(filename.lastIndexOf("/") + 1);
  const dot = base.lastIndexOf(".");
  return dot > 0 ? base.slice(dot).toLowerCase() : "";
}

/** A quoted or plain key at the start of the text, followed by `:`. */
const KEY_AT = /^("(?:[^"\\]|\\.)*"|'[^']*'|[^\s:,{}[\]][^:,{}[\]\n]*?)\s*:/;

function syntaxMessage(code: string, message: string, text: string, pos: [number, number]): string {
  if (code === "DUPLICATE_KEY") {
    // yaml reports only where the key starts; read the key from the text.
    const key = KEY_AT.exec(text.slice(pos[0], pos[0] + 200))?.[1];
    return key ? `duplicate key ${key.startsWith('"') ? key : `'${key}'`}` : "duplicate key";
  }
  // yaml's messages end with a period and sometimes carry the source line.
  return message.split("\n")[0]!.replace(/\.$/, "");
}

/**
 * Parses YAML or JSON configuration text, keeping key locations.
 *
 * The format follows the extension: `.json` files go through the YAML parser
 * too (JSON is YAML), which also accepts trailing commas and comments in
 * them. `.toml` is refused with a clear message (Traefik reads TOML; Pacer
 * does not). Any other extension is read as YAML.
 *
 * @param text The file's content.
 * @param filename The name used in locations, as the user should see it.
 * @returns The data (`{}` for an empty file) and a locator.
 * @throws {ConfigError} Listing every syntax error and duplicate key, located.
 */
export function parseConfigText(text: string, filename: string): ParsedSource {
  if (extensionOf(filename) === ".toml") {
    throw new ConfigError([{
      location: filename,
      message: `TOML configuration files are not supported; ${SUPPORTED}`,
    }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    // Traefik's YAML reader understands `<<: *anchor`; keep such files valid.
    merge: true,
  });
  const at = (offset: number): string => {
    const { line, col } = lineCounter.linePos(offset);
    return `${filename}:${line}:${col}`;
  };
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => ({
      location: at(e.pos[0]),
      message: syntaxMessage(e.code, e.message, text, e.pos),
    })));
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (error) {
    throw new ConfigError([{ location: filename, message: (error as Error).message }], {
      cause: error,
    });
  }
  return {
    value: value ?? {},
    locate: (path) => locateIn(doc, path, filename, at),
  };
}

function keyText(node: unknown): string | undefined {
  return isScalar(node) ? String(node.value) : undefined;
}

function locateIn(
  doc: Document,
  path: readonly PropertyKey[],
  filename: string,
  at: (offset: number) => string,
): string {
  let current: unknown = doc.contents;
  let location = filename;
  for (const part of path) {
    if (isAlias(current)) current = current.resolve(doc);
    if (isMap(current)) {
      const wanted = String(part);
      const pair = current.items.find((p) => keyText(p.key) === wanted) ??
        current.items.find((p) => keyText(p.key)?.toLowerCase() === wanted.toLowerCase());
      if (!pair) break;
      const range = (pair.key as YamlNode).range;
      if (range) location = at(range[0]);
      current = pair.value;
    } else if (isSeq(current) && typeof part === "number") {
      const item = current.items[part] as YamlNode | undefined;
      if (!item) break;
      if (item.range) location = at(item.range[0]);
      current = item;
    } else {
      break;
    }
  }
  return location;
}

/**
 * Validates a located value: option names are canonicalized first (they are
 * case-insensitive), then every zod issue becomes a located problem.
 *
 * @param schema The schema to validate against.
 * @param source Parsed text, or any value with a locator.
 * @returns The parsed value, or every problem (not only the first).
 */
export function validateWith<T>(
  schema: z.ZodType<T>,
  source: ParsedSource | LocatedValue,
): ValidationResult<T> {
  const clashes: ExplainedIssue[] = caseClashes(schema, source.value);
  const canonical = canonicalizeKeys(schema, source.value);
  const result = schema.safeParse(canonical);
  const explained = [
    ...clashes,
    ...(result.success ? [] : explainIssues(schema, canonical, result.error.issues)),
  ];
  if (explained.length === 0 && result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    problems: explained.map(({ path, detail }) => ({
      location: source.locate(path),
      message: path.length ? `'${formatPath(path)}': ${detail}` : detail,
    })),
  };
}
