/**
 * `deno task build:check`: verifies, without the network, what can be
 * verified about `deno task compile` (`deno compile` itself needs `denort`
 * from dl.deno.land; see /work/shared/TOOLCHAIN.md §3):
 *
 * 1. `deno check src/main.ts`: the entry type-checks.
 * 2. `deno info --json src/main.ts`: every `plugins/<folder>/mod.ts` is in
 *    the module graph (through `src/plugin/manifest.ts`).
 * 3. The `compile` task's own command, run with `DENORT_BIN` set to the
 *    `deno` binary: its "Embedded Files" listing contains every plugin
 *    module. That output is plain `deno`, not a Pacer binary: it is written
 *    to a temp dir and deleted, never shipped.
 *
 * Used by `tests/build/compile_check_test.ts` and runnable on its own.
 *
 * @module
 */
import { fileURLToPath } from "node:url";

const ROOT = new URL("../../", import.meta.url);

/** What {@linkcode checkCompile} found. */
export interface CompileCheckReport {
  /** `plugins/<folder>/mod.ts` of every plugin folder. */
  readonly plugins: readonly string[];
  /** Module specifiers of the graph of `src/main.ts`. */
  readonly graph: readonly string[];
  /** Entries of the "Embedded Files" listing (`dir/*` covers a whole folder). */
  readonly embedded: readonly string[];
  /** The compile command that was run (output path replaced). */
  readonly command: readonly string[];
  /** Where the (non-runnable) output was written; deleted before returning. */
  readonly output: string;
}

/** Options of {@linkcode checkCompile}. */
export interface CompileCheckOptions {
  /** Progress lines. @default {() => {}} */
  readonly progress?: (line: string) => void;
}

async function run(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: fileURLToPath(ROOT),
    env: { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1", RUST_BACKTRACE: "0", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: output.code, stdout: decode(output.stdout), stderr: decode(output.stderr) };
}

/** `plugins/<folder>/mod.ts` for every folder of `plugins/`, sorted. */
export async function pluginModules(): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(new URL("plugins/", ROOT))) {
    if (entry.isDirectory) out.push(`plugins/${entry.name}/mod.ts`);
  }
  return out.sort();
}

/**
 * Reads the "Embedded Files" tree `deno compile` prints into paths relative
 * to its root; a folder embedded whole is printed (and returned) as `dir/*`.
 *
 * @example
 * ```ts
 * parseEmbeddedFiles("Embedded Files\n\npacer\n├── plugins/* (3KB)\n└─┬ src (1KB)\n  └── main.ts (1KB)\n");
 * // ["plugins/*", "src/main.ts"]
 * ```
 */
export function parseEmbeddedFiles(output: string): string[] {
  const lines = output.split("\n");
  const start = lines.findIndex((l) => l.trim() === "Embedded Files");
  if (start < 0) return [];
  const out: string[] = [];
  const stack: string[] = [];
  let rootSeen = false;
  for (const line of lines.slice(start + 1)) {
    if (!rootSeen) {
      if (line.trim() !== "") rootSeen = true; // the executable's name
      continue;
    }
    if (line.trim() === "") break;
    const at = line.search(/[^│├└─┬ ]/);
    if (at < 4) break;
    // Each level indents by two columns; top-level names start at column 4.
    const depth = (at - 4) / 2;
    const name = line.slice(at).replace(/ \([^()]*\)$/, "");
    stack.length = depth;
    stack.push(name);
    // "├─┬ dir" opens a folder; "├── x" is a leaf (a file, a chain a/b/c.ts, or dir/*).
    if (!/┬ $/.test(line.slice(0, at))) out.push(stack.join("/"));
  }
  return out;
}

/** Whether a listing entry covers `path` (`dir/*` covers everything under `dir/`). */
export function isEmbedded(entries: readonly string[], path: string): boolean {
  return entries.some((e) => e === path || (e.endsWith("/*") && path.startsWith(e.slice(0, -1))));
}

/**
 * Runs the three checks.
 *
 * @throws {Error} Listing every problem found.
 */
export async function checkCompile(options: CompileCheckOptions = {}): Promise<CompileCheckReport> {
  const progress = options.progress ?? (() => {});
  const problems: string[] = [];
  const plugins = await pluginModules();

  progress("deno check src/main.ts");
  const check = await run(["check", "src/main.ts"]);
  if (check.code !== 0) problems.push(`deno check src/main.ts failed:\n${check.stderr}`);

  progress("deno info --json src/main.ts");
  const info = await run(["info", "--json", "src/main.ts"]);
  let graph: string[] = [];
  if (info.code !== 0) {
    problems.push(`deno info failed:\n${info.stderr}`);
  } else {
    graph = (JSON.parse(info.stdout) as { modules: { specifier: string }[] }).modules
      .map((m) => m.specifier);
    for (const plugin of plugins) {
      if (!graph.includes(new URL(plugin, ROOT).href)) {
        problems.push(
          `${plugin} is not in the module graph of src/main.ts (list it in src/plugin/manifest.ts)`,
        );
      }
    }
  }

  const tasks = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT))).tasks as Record<
    string,
    string
  >;
  const task = (tasks.compile ?? "").split(/\s+/).filter(Boolean);
  if (task[0] !== "deno" || task[1] !== "compile" || !task.includes("-o")) {
    throw new Error(
      `deno.json task 'compile' must be "deno compile ... -o <file> ...", got ${tasks.compile}`,
    );
  }
  const dir = await Deno.makeTempDir({ prefix: "pacer-compile-check-" });
  const command = task.slice(1).map((arg, i, all) => (all[i - 1] === "-o" ? `${dir}/pacer` : arg));
  let embedded: string[] = [];
  try {
    progress(`DENORT_BIN=<deno> deno ${command.join(" ")}`);
    // The plain deno binary stands in for denort: compile then lists what it embeds.
    const compiled = await run(command, { DENORT_BIN: Deno.execPath() });
    if (compiled.code !== 0) {
      problems.push(`deno compile failed:\n${compiled.stderr}`);
    } else {
      embedded = parseEmbeddedFiles(compiled.stdout + "\n" + compiled.stderr);
      if (embedded.length === 0) {
        problems.push(`deno compile printed no "Embedded Files" listing:\n${compiled.stdout}`);
      }
      for (const plugin of plugins) {
        if (embedded.length && !isEmbedded(embedded, plugin)) {
          problems.push(`${plugin} is not embedded by the compile task`);
        }
      }
    }
  } finally {
    // Not runnable (it is deno itself): never leave it where it could be shipped.
    await Deno.remove(dir, { recursive: true });
  }
  if (problems.length) throw new Error(problems.join("\n"));
  return { plugins, graph, embedded, command, output: `${dir}/pacer` };
}

if (import.meta.main) {
  try {
    const report = await checkCompile({ progress: (line) => console.log(`• ${line}`) });
    console.log(`ok: ${report.plugins.length} plugins type-checked, in the graph and embedded:`);
    for (const plugin of report.plugins) console.log(`  ${plugin}`);
  } catch (error) {
    console.error((error as Error).message);
    Deno.exit(1);
  }
}
