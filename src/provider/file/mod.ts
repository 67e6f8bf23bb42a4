/**
 * The file provider (Traefik's `providers.file`): dynamic configuration from
 * one YAML/JSON file or a directory of them (read recursively, in name
 * order), watched so edits apply live.
 *
 * A file that does not parse, or whose shape is wrong, keeps the last good
 * configuration in force and logs every problem with its file:line:column.
 * Items that are individually invalid (one bad router) are reported with
 * their location too, and the builder disables only them.
 *
 * @module
 */
import { join, relative, resolve } from "node:path";
import {
  type DynamicConfig,
  dynamicConfigShapeSchema,
  routerSchema,
  serversTransportSchema,
  serviceSchema,
} from "../../config/dynamic.ts";
import {
  ConfigError,
  type ConfigProblem,
  parseConfigText,
  type ParsedSource,
  validateWith,
} from "../../config/source.ts";
import type { Logger } from "../../log/logger.ts";
import type { MiddlewareRegistry } from "../../middleware/registry.ts";
import type { Diagnostic, Emit, Provider } from "../provider.ts";
import type { z } from "zod";

/** Options of {@linkcode FileProvider} (`providers.file`). */
export interface FileProviderOptions {
  /** One file. Exactly one of `filename` and `directory`. */
  readonly filename?: string;
  /** A directory of `.yaml`, `.yml` and `.json` files, read recursively. */
  readonly directory?: string;
  /** Re-read on changes. @default {true} */
  readonly watch?: boolean;
  readonly log: Logger;
  /** For located middleware errors. */
  readonly registry?: MiddlewareRegistry;
  /** Quiet time after a change before re-reading (editors write in bursts). @default {100} */
  readonly debounceMs?: number;
}

/** A loaded configuration with per-item problems. */
export interface LoadedFiles {
  readonly config: DynamicConfig;
  readonly diagnostics: Diagnostic[];
  readonly files: string[];
  /**
   * Where an item, or a value inside it, was written: `[section, kind,
   * name, ...]` (`["http", "routers", "api", "rule"]`) to `"file:line:col"`
   * in the file that defined the item; `undefined` for an item no file has.
   */
  locate(path: readonly [string, string, string, ...PropertyKey[]]): string | undefined;
}

const EXTENSIONS = [".yaml", ".yml", ".json", ".toml"];

async function listFiles(directory: string): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(directory)) {
    const path = join(directory, entry.name);
    if (entry.isDirectory) out.push(...await listFiles(path));
    else if (EXTENSIONS.some((e) => entry.name.toLowerCase().endsWith(e))) out.push(path);
  }
  return out.sort();
}

type Section = "http" | "tcp" | "udp";

const ITEM_SCHEMAS: [Section, string, z.ZodType][] = [
  ["http", "routers", routerSchema],
  ["http", "services", serviceSchema],
  ["http", "serversTransports", serversTransportSchema],
];

function itemDiagnostics(
  source: ParsedSource,
  config: Record<string, Record<string, Record<string, unknown>>>,
  registry: MiddlewareRegistry | undefined,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const sub = (path: PropertyKey[]): ParsedSource => ({
    value: undefined,
    locate: (inner) => source.locate([...path, ...inner]),
  });
  for (const [section, kind, schema] of ITEM_SCHEMAS) {
    for (const [name, raw] of Object.entries(config[section]?.[kind] ?? {})) {
      const result = validateWith(schema, { ...sub([section, kind, name]), value: raw });
      if (!result.ok) {
        for (const p of result.problems) {
          out.push({
            severity: "error",
            item: name,
            location: p.location,
            message: `${section}.${kind}.${name}: ${p.message}`,
          });
        }
      }
    }
  }
  if (registry) {
    for (const [name, raw] of Object.entries(config.http?.middlewares ?? {})) {
      const resolved = registry.resolve(raw);
      if (!resolved.ok) {
        out.push({
          severity: "error",
          item: name,
          location: source.locate(["http", "middlewares", name]),
          message: `http.middlewares.${name}: ${resolved.error}`,
        });
      }
    }
  }
  return out;
}

/**
 * Reads the configured file(s) into one configuration.
 * @param display How a file's path is shown in locations (default: relative
 *   to the directory, or as configured for a single file).
 * @throws {ConfigError} With every problem located, if any file is unusable.
 */
export async function loadFiles(
  options: FileProviderOptions,
  display?: (path: string) => string,
): Promise<LoadedFiles> {
  const files = options.filename ? [options.filename] : await listFiles(options.directory!);
  const problems: ConfigProblem[] = [];
  const diagnostics: Diagnostic[] = [];
  const merged: Record<string, Record<string, Record<string, unknown>>> = {};
  const origin = new Map<string, string>();
  /** The source that defined each item, by `section.kind.name`. */
  const sources = new Map<string, ParsedSource>();
  let tls: unknown;
  const base = options.directory ?? ".";
  for (const file of files) {
    const shown = display ? display(file) : options.directory ? relative(base, file) : file;
    let text: string;
    try {
      text = await Deno.readTextFile(file);
    } catch (error) {
      problems.push({
        location: shown,
        message: `cannot read the file: ${(error as Error).message}`,
      });
      continue;
    }
    let source: ParsedSource;
    try {
      source = parseConfigText(text, shown);
    } catch (error) {
      if (error instanceof ConfigError) problems.push(...error.problems);
      else problems.push({ location: shown, message: (error as Error).message });
      continue;
    }
    if (source.value === null || source.value === undefined) continue;
    const shape = validateWith(dynamicConfigShapeSchema, source);
    if (!shape.ok) {
      problems.push(...shape.problems);
      continue;
    }
    const value = shape.value as Record<string, Record<string, Record<string, unknown>>>;
    diagnostics.push(...itemDiagnostics(source, value, options.registry));
    for (const section of ["http", "tcp", "udp"] as const) {
      for (const [kind, items] of Object.entries(value[section] ?? {})) {
        if (!items) continue;
        const target = ((merged[section] ??= {})[kind] ??= {});
        for (const [name, item] of Object.entries(items)) {
          const key = `${section}.${kind}.${name}`;
          if (name in target) {
            diagnostics.push({
              severity: "warning",
              item: name,
              location: source.locate([section, kind, name]),
              message: `${key} is already defined in ${origin.get(key)}; this one is ignored`,
            });
            continue;
          }
          target[name] = item;
          origin.set(key, shown);
          sources.set(key, source);
        }
      }
    }
    if ((value as { tls?: unknown }).tls !== undefined) tls ??= (value as { tls?: unknown }).tls;
  }
  if (problems.length) throw new ConfigError(problems);
  const config: DynamicConfig = { ...merged };
  if (tls !== undefined) config.tls = tls;
  const locate: LoadedFiles["locate"] = (path) =>
    sources.get(path.slice(0, 3).join("."))?.locate(path);
  return { config, diagnostics, files, locate };
}

/** Watches files and emits their configuration. */
export class FileProvider implements Provider {
  readonly name = "file";
  readonly #options: FileProviderOptions;

  /**
   * @throws {TypeError} Unless exactly one of `filename` and `directory` is set.
   */
  constructor(options: FileProviderOptions) {
    if (!options.filename === !options.directory) {
      throw new TypeError(
        "Cannot create the file provider as exactly one of 'filename' and 'directory' must be set",
      );
    }
    this.#options = options;
  }

  async run(emit: Emit, signal: AbortSignal): Promise<void> {
    const log = this.#options.log.with({ provider: this.name });
    const load = async () => {
      try {
        const loaded = await loadFiles(this.#options);
        for (const d of loaded.diagnostics) {
          log[d.severity === "error" ? "error" : "warn"](d.message, { location: d.location });
        }
        emit({ provider: this.name, config: loaded.config, diagnostics: loaded.diagnostics });
        log.debug("Configuration read", { files: loaded.files.length });
      } catch (error) {
        if (error instanceof ConfigError) {
          for (const p of error.problems) {
            log.error(`Invalid dynamic configuration, keeping the last good one: ${p.message}`, {
              location: p.location,
            });
          }
        } else {
          log.error("Cannot read the dynamic configuration, keeping the last good one", { error });
        }
      }
    };
    if (this.#options.watch === false) {
      await load();
      return;
    }
    const target = resolve(this.#options.filename ?? this.#options.directory!);
    // Watch the file's directory: editors replace files by rename, which ends a watch on the file.
    const watchPath = this.#options.filename ? resolve(target, "..") : target;
    // Watch before the first read, so an edit made while reading is not lost.
    const watcher = Deno.watchFs(watchPath, { recursive: !this.#options.filename });
    const stop = () => watcher.close();
    signal.addEventListener("abort", stop, { once: true });
    await load();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let reading = Promise.resolve();
    try {
      for await (const event of watcher) {
        if (this.#options.filename && !event.paths.some((p) => resolve(p) === target)) continue;
        clearTimeout(timer);
        timer = setTimeout(() => {
          reading = reading.then(load);
        }, this.#options.debounceMs ?? 100);
      }
    } catch (error) {
      if (!signal.aborted) log.error("Stopped watching the dynamic configuration", { error });
    } finally {
      clearTimeout(timer);
      signal.removeEventListener("abort", stop);
      await reading;
    }
  }
}
