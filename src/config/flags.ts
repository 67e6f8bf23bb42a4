/**
 * Command-line flags in Traefik's form (paerser's `flag` package):
 * `--entryPoints.web.address=:8081`, `--log.level DEBUG`, booleans and
 * sections without a value (`--api.insecure`, `--providers.marathon`), lists
 * comma-separated (`--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,192.168.0.1`)
 * or repeated. Option names are case-insensitive; object names (entrypoint
 * names) keep their case.
 *
 * @module
 */
import type { z } from "zod";
import type { ConfigProblem } from "./source.ts";
import {
  convertValue,
  optionKind,
  type Override,
  resolveOption,
  suggestSegments,
} from "./_overrides.ts";

/** Flags that are not part of the static configuration. */
const CONFIG_FILE_FLAGS = new Set(["config", "configfile"]);
const HELP_FLAGS = new Set(["help", "h"]);
const VERSION_FLAGS = new Set(["version"]);

/** Object names in flags are one segment, kept as written. */
function oneSegment(segments: readonly string[], start: number) {
  return [{ span: 1, name: segments[start]! }];
}

/** What the command line says. */
export interface FlagParseResult {
  /** Static-configuration settings, in argument order. */
  readonly overrides: Override[];
  /** Unknown flags, bad values, stray arguments; located by the flag. */
  readonly problems: ConfigProblem[];
  /** `--config F` / `--configFile F` (the last one wins). */
  readonly configFile?: { readonly path: string; readonly origin: string };
  /** `--help` or `-h` was given. */
  readonly help: boolean;
  /** `--version` was given. */
  readonly version: boolean;
}

/**
 * Parses flags against `schema` (the static configuration schema, or any
 * other zod object schema).
 *
 * A flag without `=` takes the next argument as its value unless it is a
 * boolean or a section (then it means `true`), as in paerser. A repeated list
 * flag appends; any other repeated flag takes the last value.
 *
 * @param args The arguments after the command name.
 * @param schema What the flags configure.
 */
export function parseFlags(args: readonly string[], schema: z.ZodType): FlagParseResult {
  const overrides: Override[] = [];
  const problems: ConfigProblem[] = [];
  let configFile: { path: string; origin: string } | undefined;
  let help = false;
  let version = false;
  const lists = new Map<string, number>();

  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") {
      for (const rest of args.slice(i + 1)) {
        problems.push({ location: rest, message: "unexpected argument after '--'" });
      }
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      problems.push({
        location: arg,
        message: "unexpected argument (options are flags such as --log.level=DEBUG)",
      });
      continue;
    }
    const dashes = arg.startsWith("--") ? 2 : 1;
    const body = arg.slice(dashes);
    const eq = body.indexOf("=");
    const name = eq > 0 ? body.slice(0, eq) : body;
    const origin = arg.slice(0, dashes) + name;
    let value: string | undefined = eq > 0 ? body.slice(eq + 1) : undefined;
    const takeNext = (): string | undefined => {
      const next = args[i + 1];
      if (next === undefined || (next.startsWith("-") && next !== "-")) return undefined;
      i++;
      return next;
    };
    if (name === "" || name.startsWith("-") || name.startsWith("=")) {
      problems.push({ location: arg, message: "bad flag syntax" });
      continue;
    }
    const lower = name.toLowerCase();
    if (CONFIG_FILE_FLAGS.has(lower)) {
      value ??= takeNext();
      if (value === undefined || value === "") {
        problems.push({ location: origin, message: "needs a file name" });
      } else {
        configFile = { path: value, origin };
      }
      continue;
    }
    if (HELP_FLAGS.has(lower) && value === undefined) {
      help = true;
      continue;
    }
    if (VERSION_FLAGS.has(lower) && value === undefined) {
      version = true;
      continue;
    }

    const segments = name.split(".");
    const resolved = resolveOption(schema, segments, oneSegment, undefined);
    if (!resolved.ok) {
      // Skip the value of `--unknown value` too, so it is not reported again.
      if (value === undefined) takeNext();
      const suggested = suggestSegments(schema, segments, resolved, oneSegment, undefined);
      const hint = suggested
        ? ` (did you mean ${arg.slice(0, dashes)}${suggested.join(".")}?)`
        : "";
      problems.push({ location: origin, message: `${resolved.detail}${hint}` });
      continue;
    }
    const kind = optionKind(resolved.schema);
    if (value === undefined) {
      value = kind === "boolean" || kind === "section" ? "true" : takeNext();
    }
    if (value === undefined) {
      problems.push({ location: origin, message: "needs a value" });
      continue;
    }
    const override = convertValue(resolved, value, origin);
    if ("error" in override) {
      problems.push({ location: origin, message: override.error });
      continue;
    }
    const key = override.path.join("\0");
    const previous = kind === "list" ? lists.get(key) : undefined;
    if (previous !== undefined) {
      // paerser appends repeated slice flags instead of replacing them.
      const before = overrides[previous]!;
      overrides[previous] = {
        ...before,
        value: [...(before.value as unknown[]), ...(override.value as unknown[])],
      };
      continue;
    }
    if (kind === "list") lists.set(key, overrides.length);
    overrides.push(override);
  }
  return {
    overrides,
    problems,
    ...(configFile ? { configFile } : {}),
    help,
    version,
  };
}
