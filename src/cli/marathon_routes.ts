/**
 * `pacer marathon routes`: a dry run for label authors. Reads Marathon apps
 * from a file (the body of `GET /v2/apps`) or from a live Marathon, builds
 * the configuration Pacer's Marathon provider would build from them, and
 * prints it.
 *
 * - **stdout** gets the dynamic configuration only (JSON, or YAML with
 *   `--format yaml`), names unqualified as the provider emits them (Pacer
 *   adds `@marathon`); empty sections are left out. It is valid input for
 *   the file provider.
 * - **stderr** gets the diagnostics, one per line
 *   (`error   /app: message`), then a one-line summary.
 *
 * Exit status: 0 when the configuration was built (whatever the
 * diagnostics), 1 when the apps cannot be read (missing file, invalid JSON,
 * wrong shape, Marathon unreachable or refusing), 2 on a usage error
 * (unknown flag, invalid `--option`), 3 with `--strict` when a diagnostic is
 * an error.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { stringify as toYaml } from "yaml";
import { parseFlags } from "../config/flags.ts";
import { formatIssues } from "../config/issues.ts";
import { createLogger } from "../log/logger.ts";
import { builtinRegistry } from "../middleware/builtins.ts";
import { buildConfiguration, compileDefaultRule } from "../provider/marathon/build.ts";
import { MarathonClient, readTlsMaterial } from "../provider/marathon/client.ts";
import { compileConstraints } from "../provider/marathon/constraints.ts";
import { type MarathonOptions, marathonOptionsSchema } from "../provider/marathon/options.ts";
import type { Diagnostic } from "../provider/provider.ts";
import type { CommandIO } from "./run.ts";

/** What `pacer marathon routes` reads and where it writes (tests pass their own). */
export interface MarathonRoutesIO extends CommandIO {
  /** Reads a file (`-` is standard input). @default {Deno.readTextFile} */
  readonly readFile?: (path: string) => Promise<string>;
  /** For `--endpoint`. @default {globalThis.fetch} */
  readonly fetch?: typeof fetch;
  /** The time readiness windows are judged at, unless `--now` is given. @default {() => new Date()} */
  readonly now?: () => Date;
}

const USAGE = `Usage: pacer marathon routes (--apps FILE | --endpoint URL) [options]

Prints the dynamic configuration Pacer's Marathon provider builds from
Marathon apps: a dry run for label authors.

Input (one of):
  --apps FILE          the body of GET /v2/apps ({"apps": [...]}), a bare array of
                       apps, or the body of GET /v2/apps/{id} ({"app": {...}});
                       "-" reads standard input
  --endpoint URL       list the apps of a live Marathon (comma-separated members,
                       as providers.marathon.endpoint), once

Options:
  --option KEY=VALUE   a providers.marathon option, repeatable: exposedByDefault=false,
                       defaultRule='Host(\`{{ normalize .Name }}.example.com\`)',
                       constraints='Label("env","prod")', respectReadinessChecks=true,
                       basic.httpBasicAuthUser=u, dcosToken=..., tls.ca=ca.pem,
                       responseHeaderTimeout=10s (durations as strings)
  --format json|yaml   output format [json]
  --now TIME           judge readiness windows at this RFC 3339 time [now]
  --strict             exit 3 when a diagnostic is an error
  -h, --help           show this help

Output: the configuration on stdout; diagnostics and a summary on stderr.
Exit status: 0 built, 1 apps unreadable, 2 usage error, 3 --strict and errors.
`;

class UsageError extends Error {}

/** Parses `--option KEY=VALUE` list into `providers.marathon` options (schema names, any case). */
export function parseMarathonOptions(pairs: readonly string[]): MarathonOptions {
  const args: string[] = [];
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq <= 0) {
      throw new UsageError(`--option must be KEY=VALUE: current value is '${pair}'`);
    }
    args.push(`--${pair.slice(0, eq)}=${pair.slice(eq + 1)}`);
  }
  const { overrides, problems } = parseFlags(args, marathonOptionsSchema);
  if (problems.length > 0) {
    throw new UsageError(
      problems.map((p) => `--option ${p.location.replace(/^--/, "")}: ${p.message}`).join("\n"),
    );
  }
  const raw: Record<string, unknown> = {};
  for (const o of overrides) {
    let obj = raw;
    for (const key of o.path.slice(0, -1)) {
      if (typeof obj[key] !== "object" || obj[key] === null) obj[key] = {};
      obj = obj[key] as Record<string, unknown>;
    }
    const last = o.path[o.path.length - 1]!;
    if (o.kind === "set") obj[last] = o.value;
    else if (o.kind === "enable") obj[last] ??= {};
    else delete obj[last];
  }
  const result = marathonOptionsSchema.safeParse(raw);
  if (!result.success) {
    throw new UsageError(`Invalid --option: ${formatIssues(result.error.issues)}`);
  }
  return result.data;
}

/**
 * Reads an apps document: `{"apps": [...]}`, a bare array, or `{"app": {...}}`.
 *
 * @throws {SyntaxError} If the text is not JSON.
 * @throws {TypeError} If the JSON has none of those shapes.
 */
export function readAppsDocument(text: string): unknown[] {
  const json: unknown = JSON.parse(text);
  if (Array.isArray(json)) return json;
  if (typeof json === "object" && json !== null) {
    const doc = json as Record<string, unknown>;
    if (Array.isArray(doc.apps)) return doc.apps;
    if (typeof doc.app === "object" && doc.app !== null && !Array.isArray(doc.app)) {
      return [doc.app];
    }
  }
  throw new TypeError(
    `expected the body of GET /v2/apps ({"apps": [...]}), a JSON array of apps, or {"app": {...}}`,
  );
}

/** Drops empty maps and sections, for a readable dry run. */
function pruneEmpty(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const pruned = typeof v === "object" && v !== null && !Array.isArray(v) ? pruneEmpty(v) : v;
    const emptySection = typeof pruned === "object" && pruned !== null && !Array.isArray(pruned) &&
      Object.keys(pruned).length === 0;
    // Only the section/map levels are pruned; an empty object inside an item keeps its meaning.
    if (emptySection && isSectionKey(k)) continue;
    out[k] = pruned;
  }
  return out;
}

const SECTION_KEYS = new Set([
  "http",
  "tcp",
  "udp",
  "tls",
  "routers",
  "services",
  "middlewares",
  "serversTransports",
  "stores",
]);

function isSectionKey(key: string): boolean {
  return SECTION_KEYS.has(key);
}

function formatDiagnostic(d: Diagnostic): string {
  // Messages already name the task and the item; the app id lets a reader grep.
  return `${d.severity.padEnd(7)} ${d.appId ? `${d.appId}: ` : ""}${d.message}`;
}

/**
 * Runs `pacer marathon routes`.
 *
 * @param args The arguments after `marathon routes`.
 * @returns The exit status (see the module documentation).
 */
export async function marathonRoutesCommand(
  args: string[],
  io: MarathonRoutesIO,
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: {
        apps: { type: "string" },
        endpoint: { type: "string" },
        option: { type: "string", multiple: true },
        format: { type: "string", default: "json" },
        now: { type: "string" },
        strict: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }).values;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (parsed.help) {
    io.stdout(USAGE);
    return 0;
  }
  let options: MarathonOptions;
  let now: Date;
  try {
    if ((parsed.apps === undefined) === (parsed.endpoint === undefined)) {
      throw new UsageError("give exactly one of --apps FILE and --endpoint URL");
    }
    if (parsed.format !== "json" && parsed.format !== "yaml") {
      throw new UsageError(`--format must be json or yaml: current value is '${parsed.format}'`);
    }
    const pairs = [...(parsed.option ?? [])];
    if (parsed.endpoint !== undefined) pairs.push(`endpoint=${parsed.endpoint}`);
    options = parseMarathonOptions(pairs);
    compileDefaultRule(options.defaultRule);
    try {
      compileConstraints(options.constraints);
    } catch (error) {
      throw new UsageError(
        `Cannot use providers.marathon.constraints: ${(error as Error).message}`,
      );
    }
    now = parsed.now !== undefined ? new Date(parsed.now) : io.now?.() ?? new Date();
    if (Number.isNaN(now.getTime())) {
      throw new UsageError(`--now must be an RFC 3339 time: current value is '${parsed.now}'`);
    }
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\nRun 'pacer marathon routes --help' for the usage.\n`);
    return 2;
  }

  let apps: unknown[];
  let source: string;
  if (parsed.apps !== undefined) {
    source = parsed.apps === "-" ? "standard input" : parsed.apps;
    try {
      const readFile = io.readFile ??
        ((path: string) =>
          path === "-" ? new Response(Deno.stdin.readable).text() : Deno.readTextFile(path));
      apps = readAppsDocument(await readFile(parsed.apps));
    } catch (error) {
      io.stderr(`Cannot read the apps from ${source}: ${(error as Error).message}\n`);
      return 1;
    }
  } else {
    source = options.endpoint;
    const log = createLogger({ level: "warn", sink: (line) => io.stderr(`${line}\n`) });
    let client: MarathonClient | undefined;
    try {
      const { material, warnings } = readTlsMaterial(options.tls);
      for (const warning of warnings) io.stderr(`warning: ${warning}\n`);
      client = new MarathonClient({
        options,
        tls: material,
        log,
        ...(io.fetch ? { fetch: io.fetch } : {}),
      });
      apps = await client.fetchApps(new AbortController().signal);
    } catch (error) {
      io.stderr(`Cannot list the apps of Marathon at ${source}: ${(error as Error).message}\n`);
      return 1;
    } finally {
      await client?.close();
    }
  }

  const result = buildConfiguration(apps, options, { now, registry: builtinRegistry() });
  const config = pruneEmpty(result.config);
  io.stdout(
    parsed.format === "yaml"
      ? toYaml(config, { lineWidth: 0 })
      : `${JSON.stringify(config, null, 2)}\n`,
  );
  for (const d of result.diagnostics) io.stderr(`${formatDiagnostic(d)}\n`);
  const count = (s: Diagnostic["severity"]) =>
    result.diagnostics.filter((d) => d.severity === s).length;
  const http = result.config.http;
  io.stderr(
    `${apps.length} app(s) from ${source}: ${
      Object.keys(http?.routers ?? {}).length
    } HTTP router(s), ${Object.keys(http?.services ?? {}).length} HTTP service(s); ${
      count("error")
    } error(s), ${count("warning")} warning(s), ${count("info")} note(s)\n`,
  );
  return parsed.strict && count("error") > 0 ? 3 : 0;
}
