/**
 * `PACER_*` environment variables in Traefik's form (paerser's `env`
 * package): the option path in upper case, joined with `_`, such as
 * `PACER_ENTRYPOINTS_WEB_ADDRESS=:8081` or `PACER_LOG_LEVEL=DEBUG`. Lists are
 * comma-separated; sections take `true`/`false` (`PACER_PROVIDERS_MARATHON=true`).
 *
 * Object names (entrypoint, plugin names) come out in lower case, as in
 * Traefik, unless the configuration file already has that name in another
 * case, which is then used. Traefik cannot express a name containing `_`
 * (it splits there); Pacer can, for names the file defines:
 * `PACER_ENTRYPOINTS_MY_WEB_ADDRESS` sets the file's entrypoint `my_web`.
 *
 * @module
 */
import type { z } from "zod";
import type { ConfigProblem } from "./source.ts";
import { convertValue, type Override, resolveOption, suggestSegments } from "./_overrides.ts";

/** Prefix of every Pacer variable. */
export const ENV_PREFIX = "PACER_";

/**
 * `PACER_*` variables that are not static options: they are skipped, not
 * reported as unknown.
 */
export const NON_CONFIG_ENV_VARS: readonly string[] = ["PACER_CONFIG_FILE", "PACER_CONFIGFILE"];

/** What the environment says. */
export interface EnvParseResult {
  /** Static-configuration settings, ordered by variable name. */
  readonly overrides: Override[];
  /** Unknown variables and bad values, located by the variable name. */
  readonly problems: ConfigProblem[];
  /** `PACER_CONFIG_FILE` (or `PACER_CONFIGFILE`). */
  readonly configFile?: { readonly path: string; readonly origin: string };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Object names in variables: names the file already has, matched
 * case-insensitively (longest first, so `MY_WEB` finds `my_web`), then the
 * next segment in lower case (Traefik's rule). A new name with `_` is never
 * guessed: `PACER_ENTRYPOINTS_WEB_HTPP_ADDRESS` must not silently create an
 * entrypoint `web_htpp`.
 */
function envNames(segments: readonly string[], start: number, existing: unknown) {
  const out: { span: number; name: string }[] = [];
  const known = isPlainObject(existing) ? Object.keys(existing) : [];
  for (let span = segments.length - start; span >= 1; span--) {
    const spelled = segments.slice(start, start + span).join("_");
    const match = known.find((k) => k.toLowerCase() === spelled);
    if (match !== undefined) out.push({ span, name: match });
  }
  if (!out.some((o) => o.span === 1)) out.push({ span: 1, name: segments[start]! });
  return out;
}

/**
 * Reads `PACER_*` variables against `schema`.
 *
 * @param env The environment (`Deno.env.toObject()`).
 * @param schema What the variables configure.
 * @param existing The file's data (canonical keys), to reuse its object names.
 */
export function parseEnv(
  env: Readonly<Record<string, string>>,
  schema: z.ZodType,
  existing?: unknown,
): EnvParseResult {
  const overrides: Override[] = [];
  const problems: ConfigProblem[] = [];
  let configFile: { path: string; origin: string } | undefined;
  const names = Object.keys(env)
    // Traefik compares the prefix case-insensitively; so do we.
    .filter((n) => n.toUpperCase().startsWith(ENV_PREFIX))
    .sort();
  for (const name of names) {
    const raw = env[name]!;
    if (NON_CONFIG_ENV_VARS.includes(name.toUpperCase())) {
      if (raw !== "") configFile = { path: raw, origin: name };
      continue;
    }
    const segments = name.slice(ENV_PREFIX.length).toLowerCase().split("_");
    const resolved = resolveOption(schema, segments, envNames, existing);
    if (!resolved.ok) {
      const suggested = suggestSegments(schema, segments, resolved, envNames, existing);
      const hint = suggested
        ? ` (did you mean ${ENV_PREFIX}${suggested.join("_").toUpperCase()}?)`
        : resolved.afterName
        ? ` (a name containing '_' must first be defined in the configuration file)`
        : "";
      problems.push({ location: name, message: `${resolved.detail}${hint}` });
      continue;
    }
    const override = convertValue(resolved, raw, name);
    if ("error" in override) {
      problems.push({ location: name, message: override.error });
      continue;
    }
    overrides.push(override);
  }
  return { overrides, problems, ...(configFile ? { configFile } : {}) };
}

/**
 * The configuration file named by `PACER_CONFIG_FILE` (or Traefik's
 * `PACER_CONFIGFILE` spelling), if set and not empty.
 */
export function configFileFromEnv(
  env: Readonly<Record<string, string>>,
): { readonly path: string; readonly origin: string } | undefined {
  for (const name of Object.keys(env).sort()) {
    if (NON_CONFIG_ENV_VARS.includes(name.toUpperCase()) && env[name]) {
      return { path: env[name]!, origin: name };
    }
  }
  return undefined;
}
