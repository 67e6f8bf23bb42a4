/**
 * `pacer check`'s look at the file provider's dynamic files: they are read
 * as the provider reads them, then built into a generation as Pacer builds
 * one, without listening or connecting. Whatever Pacer would disable at
 * start (a rule that does not parse, a router to a missing service, an
 * unknown middleware, bad options) is reported
 * with the file, line and column of the item.
 *
 * Items of other providers (Marathon) are not read here, so a reference to
 * `name@marathon` cannot be checked: it is a warning, not a problem.
 *
 * @module
 */
import type { StaticConfig } from "../config/static.ts";
import { serversTransportSchema } from "../config/dynamic.ts";
import { ConfigError, type ConfigProblem } from "../config/source.ts";
import { internalServices } from "../api/internal.ts";
import { silentLogger } from "../log/logger.ts";
import type { MiddlewareRegistry } from "../middleware/registry.ts";
import { type LoadedFiles, loadFiles } from "../provider/file/mod.ts";
import { buildGeneration, type EntryPointInfo } from "../server/build.ts";
import { mergeConfigurations } from "../server/merge.ts";
import type { RuntimeItem } from "../server/runtime.ts";
import { ServerPool } from "../service/pool.ts";
import { defaultTransport } from "../service/transport.ts";

/** What the dynamic files hold that Pacer would refuse or ignore. */
export interface DynamicCheck {
  /** Would disable an item, or a whole file: exit 1. */
  readonly problems: ConfigProblem[];
  /** Would be ignored or cannot be checked here, each located. */
  readonly warnings: string[];
  /** The files read, as shown. */
  readonly files: string[];
}

/** Providers whose items `pacer check` can see. */
const CHECKED_PROVIDERS = new Set(["file", "internal"]);

/**
 * Checks the dynamic files of `config.providers.file`.
 * @param registry Built-in middlewares and the loaded plugins.
 * @param show How a file path is shown (relative to the working directory).
 */
export async function checkDynamicFiles(
  config: StaticConfig,
  registry: MiddlewareRegistry,
  staticFile: string,
  show: (path: string) => string,
): Promise<DynamicCheck> {
  const file = config.providers.file!;
  const problems: ConfigProblem[] = [];
  const warnings: string[] = [];
  let loaded: LoadedFiles;
  try {
    loaded = await loadFiles({
      ...(file.filename !== undefined ? { filename: file.filename } : {}),
      ...(file.directory !== undefined ? { directory: file.directory } : {}),
      log: silentLogger,
      registry,
    }, show);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { problems: [...problems, ...error.problems], warnings, files: [] };
  }
  for (const d of loaded.diagnostics) {
    const location = d.location ?? staticFile;
    if (d.severity === "error") problems.push({ location, message: d.message });
    else warnings.push(`${location}: ${d.message}`);
  }

  const pool = new ServerPool({ drainTimeoutMs: 0, log: silentLogger });
  const entryPoints: EntryPointInfo[] = Object.entries(config.entryPoints).map(([name, ep]) => ({
    name,
    tls: ep.http.tls !== undefined,
    asDefault: ep.asDefault,
    ...(ep.http.middlewares ? { middlewares: ep.http.middlewares } : {}),
  }));
  const generation = await buildGeneration(
    mergeConfigurations(new Map([["file", loaded.config]])),
    {
      entryPoints,
      defaultRuleSyntax: config.core.defaultRuleSyntax,
      defaultTransport: defaultTransport({
        ...serversTransportSchema.parse({}),
        ...config.serversTransport,
      }),
      registry,
      pool,
      log: silentLogger,
      serverName: "pacer-check",
      chain: config.chain,
      internal: internalServices({
        pool,
        registry,
        version: "check",
        terminating: () => false,
        terminatingStatusCode: 503,
        entryPoints: () => [],
      }),
    },
  );
  try {
    const kinds = [
      ["routers", generation.routers],
      ["services", generation.services],
      ["middlewares", generation.middlewares],
    ] as const;
    for (const [kind, items] of kinds) {
      for (const [qualified, item] of items as ReadonlyMap<string, RuntimeItem>) {
        if (item.provider !== "file") continue;
        const name = qualified.slice(0, -"@file".length);
        const key = `http.${kind}.${name}`;
        // Already reported where the bad option is written.
        if (loaded.diagnostics.some((d) => d.message.startsWith(`${key}: `))) continue;
        for (const error of item.errors) {
          const field = kind === "routers" ? routerField(error) : undefined;
          const location = loaded.locate(["http", kind, name, ...(field ? [field] : [])]) ??
            staticFile;
          const unseen = unseenReference(error);
          if (unseen) {
            warnings.push(
              `${location}: ${key} refers to '${unseen}', which pacer check cannot see`,
            );
          } else if (item.status === "disabled") {
            problems.push({ location, message: `${key}: ${error}` });
          } else {
            warnings.push(`${location}: ${key}: ${error}`);
          }
        }
      }
    }
  } finally {
    generation.retire();
  }
  return { problems, warnings, files: loaded.files.map(show) };
}

/** The router option a builder error is about, to point at it. */
function routerField(error: string): string | undefined {
  if (error.startsWith("invalid rule")) return "rule";
  if (error.startsWith("the service")) return "service";
  if (error.startsWith("the middleware") || error.startsWith("middleware chain")) {
    return "middlewares";
  }
  if (/^entryPoints? not found/.test(error)) return "entryPoints";
  return undefined;
}

/** The missing item of another provider an error names, if that is all it says. */
function unseenReference(error: string): string | undefined {
  const m = /^the (?:service|middleware) '([^']+@([^']+))' does not exist$/.exec(error);
  return m && !CHECKED_PROVIDERS.has(m[2]!) ? m[1] : undefined;
}
