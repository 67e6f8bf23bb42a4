/**
 * `pacer check`: validates the static configuration (file, `PACER_*`
 * variables, flags) and, when the file provider is configured, reads every
 * dynamic file and checks its top-level shape. Prints every problem, located,
 * and exits 1; or prints `Configuration OK: <file>` and exits 0. Meant for CI
 * and for `ExecStartPre=` before a restart.
 *
 * @module
 */
import { relative, resolve } from "node:path";
import { dynamicConfigShapeSchema } from "../config/dynamic.ts";
import {
  ConfigError,
  type ConfigProblem,
  parseConfigText,
  validateWith,
} from "../config/source.ts";
import {
  type LoadedStaticConfig,
  loadStaticConfig,
  staticConfigWarnings,
} from "../config/static.ts";

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
dynamic file of providers.file. Prints each problem as location: message.
Exit status: 0 when the configuration is valid, 1 otherwise.
Options: as for \`pacer run\` (see pacer --help).
`;

/** Extensions the file provider reads in a directory. */
const DYNAMIC_EXTENSIONS = [".yaml", ".yml", ".json", ".toml"];

async function dynamicFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  const entries: Deno.DirEntry[] = [];
  for await (const entry of Deno.readDir(directory)) entries.push(entry);
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const path = resolve(directory, entry.name);
    if (entry.isDirectory) out.push(...await dynamicFiles(path));
    else if (DYNAMIC_EXTENSIONS.some((ext) => entry.name.toLowerCase().endsWith(ext))) {
      out.push(path);
    }
  }
  return out;
}

/** Checks one dynamic file; returns its problems. */
async function checkDynamicFile(path: string, shown: string): Promise<ConfigProblem[]> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    return [{ location: shown, message: `cannot read: ${(error as Error).message}` }];
  }
  try {
    const result = validateWith(dynamicConfigShapeSchema, parseConfigText(text, shown));
    return result.ok ? [] : result.problems;
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
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
  const checked: string[] = [];
  const file = loaded.config.providers.file;
  if (file) {
    // checkFiles already reported a missing file or directory, so these exist.
    const paths = file.filename !== undefined
      ? [file.filename]
      : await dynamicFiles(file.directory!);
    for (const path of paths) {
      const shown = display(path, cwd);
      checked.push(shown);
      problems.push(...await checkDynamicFile(path, shown));
    }
  }
  if (problems.length > 0) return fail(io, problems);

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
  for (const warning of staticConfigWarnings(loaded.config)) lines.push(`  warning: ${warning}`);
  io.stdout(lines.join("\n") + "\n");
  return 0;
}

function fail(io: CheckIO, problems: readonly ConfigProblem[]): number {
  const count = `${problems.length} problem${problems.length === 1 ? "" : "s"}`;
  io.stderr(
    problems.map((p) => `${p.location}: ${p.message}`).join("\n") +
      `\nConfiguration invalid: ${count}\n`,
  );
  return 1;
}
