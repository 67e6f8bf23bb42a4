/**
 * `pacer check`: validates the static configuration (file, `PACER_*`
 * variables, flags) and, when the file provider is configured, reads every
 * dynamic file and builds it as Pacer would (`check_dynamic.ts`): every
 * item Pacer would disable is a problem, and so is a plugin that does not
 * load. Prints every problem, located,
 * and exits 1; or prints `Configuration OK: <file>` and exits 0. Meant for CI
 * and for `ExecStartPre=` before a restart.
 *
 * @module
 */
import { relative } from "node:path";
import { ConfigError, type ConfigProblem } from "../config/source.ts";
import {
  type LoadedStaticConfig,
  loadStaticConfig,
  staticConfigWarnings,
} from "../config/static.ts";
import { memoryLogger } from "../log/logger.ts";
import { builtinRegistry } from "../middleware/builtins.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import { loadPlugins } from "../plugin/loader.ts";
import { checkDynamicFiles } from "./check_dynamic.ts";

/** Where `pacer check` writes, and what it reads. */
export interface CheckIO {
  /** The environment (`Deno.env.toObject()`). */
  readonly env: Readonly<Record<string, string>>;
  /** Writes one block of text to standard output (no newline added by the caller). */
  readonly stdout: (s: string) => void;
  /** Writes one block of text to standard error. */
  readonly stderr: (s: string) => void;
  /** Base of relative paths. @default {Deno.cwd()} */
  readonly cwd?: string;
}

const USAGE = `Usage: pacer check [--config FILE] [options]

Validates the static configuration (file, PACER_* variables, flags) and every
dynamic file of providers.file, built as Pacer would build it (rules, options,
references). Prints each problem as location: message.
Exit status: 0 when the configuration is valid, 1 otherwise.
Options: as for \`pacer run\` (see pacer --help).
`;

/** Loads the configured plugins as `pacer run` does; each one that fails is a problem. */
async function loadCheckedPlugins(
  loaded: LoadedStaticConfig,
  staticFile: string,
): Promise<{ registry: MiddlewareRegistry; problems: ConfigProblem[] }> {
  const registry = builtinRegistry();
  const errors = memoryLogger("error");
  await loadPlugins(loaded.config.plugins, registry, errors.log);
  const problems = errors.records().map((record) => ({
    location: staticFile,
    message: `plugins.${record.plugin}: ${record.msg}: ${record.error}`,
  }));
  return { registry, problems };
}

function display(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel && !rel.startsWith("..") ? rel : path;
}

/**
 * Runs `pacer check`.
 *
 * @param args The arguments after `check` (a leading `check` is skipped).
 * @returns The exit code: 0 when everything is valid, 1 otherwise.
 */
export async function checkCommand(args: string[], io: CheckIO): Promise<number> {
  const rest = args[0] === "check" ? args.slice(1) : args;
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout(USAGE);
    return 0;
  }
  const cwd = io.cwd ?? Deno.cwd();
  let loaded: LoadedStaticConfig;
  try {
    loaded = await loadStaticConfig({ args: rest, env: io.env, cwd, checkFiles: true });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return fail(io, error.problems);
  }

  const problems: ConfigProblem[] = [];
  const warnings = staticConfigWarnings(loaded.config);
  const staticFile = loaded.configFile ?? "(configuration)";
  const { registry, problems: pluginProblems } = await loadCheckedPlugins(loaded, staticFile);
  problems.push(...pluginProblems);
  let checked: string[] = [];
  const file = loaded.config.providers.file;
  if (file) {
    // checkFiles already reported a missing file or directory, so these exist.
    const dynamic = await checkDynamicFiles(
      loaded.config,
      registry,
      staticFile,
      (path) => display(path, cwd),
    );
    problems.push(...dynamic.problems);
    warnings.push(...dynamic.warnings);
    checked = dynamic.files;
  }
  if (problems.length > 0) return fail(io, problems, warnings);

  const lines = [
    `Configuration OK: ${loaded.configFile ?? "no file (defaults, PACER_* variables and flags)"}`,
  ];
  if (file) {
    lines.push(
      checked.length
        ? `  dynamic files: ${checked.join(", ")}`
        : `  dynamic files: none found in ${display(file.directory ?? "", cwd)}`,
    );
  }
  for (const warning of warnings) lines.push(`  warning: ${warning}`);
  io.stdout(lines.join("\n") + "\n");
  return 0;
}

function fail(
  io: CheckIO,
  problems: readonly ConfigProblem[],
  warnings: readonly string[] = [],
): number {
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  const lines = [
    ...problems.map((p) => `${p.location}: ${p.message}`),
    ...warnings.map((w) => `warning: ${w}`),
    `Configuration invalid: ${count}`,
  ];
  io.stderr(lines.join("\n") + "\n");
  return 1;
}
