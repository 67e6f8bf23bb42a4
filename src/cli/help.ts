/**
 * `pacer --help`: the commands, where configuration comes from, and every
 * static option generated from the schema (so the list cannot drift from
 * what is accepted).
 *
 * @module
 */
import type { z } from "zod";
import { formatDuration } from "../config/duration.ts";
import { staticConfigSchema } from "../config/static.ts";
import { isDurationSchema } from "../config/schema_info.ts";
import { schemaDef } from "../config/schema_walk.ts";

/** One option in the help listing. */
export interface OptionRow {
  /** Flag form, object names as `<name>`: `--entryPoints.<name>.address`. */
  readonly flag: string;
  /** What it takes: `boolean`, `duration`, `DEBUG|INFO|WARN|ERROR`, `enable`... */
  readonly type: string;
  /** The default, as a user would write it; absent when there is none. */
  readonly default?: string;
}

function shownDefault(value: unknown, duration: boolean): string | undefined {
  if (value === undefined) return undefined;
  if (duration && typeof value === "number") return formatDuration(value);
  if (Array.isArray(value)) return value.length ? value.join(",") : undefined;
  if (typeof value === "object" && value !== null) return undefined;
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

/**
 * Lists the options of a schema in flag form, with their type and default.
 *
 * @param schema A zod object schema (the static configuration by default).
 */
export function listOptions(schema: z.ZodType = staticConfigSchema): OptionRow[] {
  const rows: OptionRow[] = [];
  walk(schema, [], rows);
  return rows;
}

function walk(schema: z.ZodType, path: string[], rows: OptionRow[]): void {
  let current = schema;
  let fallback: unknown;
  let described: string | undefined;
  let optional = false;
  for (let depth = 0; depth < 32; depth++) {
    described ??= current.description;
    if (isDurationSchema(current)) {
      const def = schemaDef(current);
      if (def.type === "default") fallback ??= def.defaultValue;
      if (def.type === "optional" || def.type === "default") {
        current = def.innerType!;
        continue;
      }
      rows.push(row(path, described ?? "duration", shownDefault(fallback, true), optional));
      return;
    }
    const def = schemaDef(current);
    switch (def.type) {
      case "optional":
        optional = true;
        current = def.innerType!;
        continue;
      case "default":
        fallback ??= def.defaultValue;
        current = def.innerType!;
        continue;
      case "prefault":
        // A scalar prefault is written in input form ("INFO", "common"):
        // what a user would type.
        if (typeof def.defaultValue !== "object") fallback ??= def.defaultValue;
        current = def.innerType!;
        continue;
      case "nullable":
      case "readonly":
      case "catch":
      case "nonoptional":
        current = def.innerType!;
        continue;
      case "pipe":
        // Preprocess pipes show their output; transforms their input.
        current = schemaDef(def.in!).type === "transform" ? def.out! : def.in!;
        continue;
      case "object": {
        if (optional && path.length > 0) {
          rows.push(row(path, "enable (true/false)", undefined, true));
        }
        for (const [key, child] of Object.entries(def.shape ?? {})) {
          walk(child, [...path, key], rows);
        }
        return;
      }
      case "record":
        walk(def.valueType!, [...path, "<name>"], rows);
        return;
      case "array": {
        const element = schemaDef(def.element!);
        const of = def.element!.description ?? element.type;
        rows.push(row(path, described ?? `list of ${of}`, shownDefault(fallback, false), true));
        return;
      }
      case "enum":
        rows.push(row(
          path,
          described ?? Object.values(def.entries ?? {}).join("|"),
          shownDefault(fallback, false),
          optional,
        ));
        return;
      default:
        rows.push(row(path, described ?? def.type, shownDefault(fallback, false), optional));
        return;
    }
  }
}

function row(
  path: string[],
  type: string,
  fallback: string | undefined,
  optional: boolean,
): OptionRow {
  const flag = `--${path.join(".")}`;
  if (fallback !== undefined) return { flag, type, default: fallback };
  return { flag, type: optional ? type : `${type}, required` };
}

/** The usage text of `pacer --help`: commands, configuration sources, static options. */
export function helpText(): string {
  // `global` is accepted for Traefik files but does nothing: not worth a line.
  const rows = listOptions().filter((r) => !r.flag.startsWith("--global"));
  const width = 46;
  const options = rows.map((r) => {
    const info = r.default === undefined ? r.type : `${r.type} (default ${r.default})`;
    return `  ${r.flag.padEnd(width)}  ${info}`;
  });
  return [
    "Pacer: an edge reverse proxy for Marathon clusters, configured like Traefik.",
    "",
    "Usage:",
    "  pacer [run] [--config FILE] [options]   start the proxy (the default command)",
    "  pacer check [--config FILE] [options]   validate the configuration; exit 0 if OK, 1 if not",
    "  pacer demo                              a simulated Marathon cluster with demo apps, Pacer in front",
    "  pacer sim [options]                     run the Marathon cluster simulator",
    "  pacer marathon routes [options]         print the routes built from Marathon apps",
    "  pacer --help | --version",
    "",
    "Configuration (later wins):",
    "  1. file   --config FILE (or --configFile, PACER_CONFIG_FILE);",
    "            else ./pacer.yaml, ./pacer.yml or ./pacer.json",
    "  2. env    PACER_ + option path in upper case joined by _   PACER_LOG_LEVEL=DEBUG",
    "  3. flags  --log.level=DEBUG or --log.level DEBUG; a boolean or section alone",
    "            means true (--api.insecure, --providers.marathon)",
    "  Option names are case-insensitive. Lists are comma-separated. Durations:",
    '  "10s", "1m30s", or a number of seconds. No entrypoint configured: http on :80.',
    "  Details: docs/static-configuration.md",
    "",
    "Static options:",
    ...options,
    "",
  ].join("\n");
}
