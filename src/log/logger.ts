/**
 * Structured logging: one line per event, as text (`key=value`) or JSON.
 *
 * Every part of Pacer logs through a {@linkcode Logger}, usually a child
 * carrying its context (`log.with({ router: "api@file" })`), so each line names
 * what it is about.
 *
 * @module
 */

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** Output formats. `common` is Traefik's name for the text format. */
export type LogFormat = "text" | "json";

/** Fields attached to a log line. */
export type LogFields = Record<string, unknown>;

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Where formatted lines go. Tests pass an array sink to capture them. */
export type LogSink = (line: string, level: LogLevel) => void;

/** Options of {@linkcode createLogger}. */
export interface LoggerOptions {
  /** Lowest level written. @default {"info"} */
  readonly level?: LogLevel;
  /** Line format. @default {"text"} */
  readonly format?: LogFormat;
  /** Destination. @default {stderr} */
  readonly sink?: LogSink;
  /** Clock, for tests. @default {() => new Date()} */
  readonly now?: () => Date;
}

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A child logger whose lines carry `fields` too. */
  with(fields: LogFields): Logger;
  /** Whether `level` would be written (skip building costly fields otherwise). */
  enabled(level: LogLevel): boolean;
}

const encoder = new TextEncoder();

function stderrSink(line: string): void {
  try {
    Deno.stderr.writeSync(encoder.encode(line + "\n"));
  } catch {
    // A closed stderr must never take the proxy down.
  }
}

function fieldValue(value: unknown): unknown {
  if (value instanceof Error) {
    return value.cause instanceof Error
      ? `${value.message}: ${value.cause.message}`
      : value.message;
  }
  return value;
}

function textValue(value: unknown): string {
  const v = fieldValue(value);
  const s = typeof v === "string" ? v : JSON.stringify(v) ?? String(v);
  return /^[^\s"=]+$/.test(s) ? s : JSON.stringify(s);
}

/**
 * Creates a logger.
 *
 * @example
 * ```ts
 * const log = createLogger({ level: "debug", format: "json" });
 * log.with({ provider: "file" }).info("Configuration loaded", { routers: 3 });
 * ```
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = RANK[options.level ?? "info"];
  const format = options.format ?? "text";
  const sink = options.sink ?? stderrSink;
  const now = options.now ?? (() => new Date());

  function make(base: LogFields): Logger {
    function write(level: LogLevel, msg: string, fields?: LogFields): void {
      if (RANK[level] < min) return;
      const all = fields ? { ...base, ...fields } : base;
      let line: string;
      if (format === "json") {
        const out: LogFields = { time: now().toISOString(), level, msg };
        for (const [k, v] of Object.entries(all)) out[k] = fieldValue(v);
        line = JSON.stringify(out);
      } else {
        line = `${now().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
        for (const [k, v] of Object.entries(all)) {
          if (v !== undefined) line += ` ${k}=${textValue(v)}`;
        }
      }
      sink(line, level);
    }
    return {
      debug: (msg, fields) => write("debug", msg, fields),
      info: (msg, fields) => write("info", msg, fields),
      warn: (msg, fields) => write("warn", msg, fields),
      error: (msg, fields) => write("error", msg, fields),
      with: (fields) => make({ ...base, ...fields }),
      enabled: (level) => RANK[level] >= min,
    };
  }
  return make({});
}

/** A logger that writes nothing (default for library code and tests). */
export const silentLogger: Logger = createLogger({ level: "error", sink: () => {} });

/** Captures lines in memory; for tests that assert on logs. */
export function memoryLogger(
  level: LogLevel = "debug",
): { log: Logger; lines: string[]; records: () => LogFields[] } {
  const lines: string[] = [];
  const log = createLogger({ level, format: "json", sink: (l) => lines.push(l) });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l) as LogFields) };
}
