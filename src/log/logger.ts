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
  return new FieldsLogger(
    {
      min: RANK[options.level ?? "info"],
      format: options.format ?? "text",
      sink: options.sink ?? stderrSink,
      now: options.now ?? (() => new Date()),
    },
    undefined,
    {},
  );
}

/** What every logger made from one {@linkcode createLogger} call shares. */
interface Output {
  readonly min: number;
  readonly format: LogFormat;
  readonly sink: LogSink;
  readonly now: () => Date;
}

/**
 * A logger and its children. A child keeps only its own fields and a link
 * to its parent, and the fields are merged when a line is written: a
 * configuration of 10,000 routers makes some 40,000 children (one per router
 * and per middleware), almost all of which never write a line.
 */
class FieldsLogger implements Logger {
  readonly #out: Output;
  readonly #parent: FieldsLogger | undefined;
  readonly #own: LogFields;

  constructor(out: Output, parent: FieldsLogger | undefined, own: LogFields) {
    this.#out = out;
    this.#parent = parent;
    this.#own = own;
  }

  debug(msg: string, fields?: LogFields): void {
    this.#write("debug", msg, fields);
  }

  info(msg: string, fields?: LogFields): void {
    this.#write("info", msg, fields);
  }

  warn(msg: string, fields?: LogFields): void {
    this.#write("warn", msg, fields);
  }

  error(msg: string, fields?: LogFields): void {
    this.#write("error", msg, fields);
  }

  with(fields: LogFields): Logger {
    return new FieldsLogger(this.#out, this, { ...fields });
  }

  enabled(level: LogLevel): boolean {
    return RANK[level] >= this.#out.min;
  }

  /** Own fields over the parent's, the parent's over the grandparent's. */
  #fields(into: LogFields): LogFields {
    if (this.#parent) this.#parent.#fields(into);
    return Object.assign(into, this.#own);
  }

  #write(level: LogLevel, msg: string, fields?: LogFields): void {
    const out = this.#out;
    if (RANK[level] < out.min) return;
    const all = this.#fields({});
    if (fields) Object.assign(all, fields);
    let line: string;
    if (out.format === "json") {
      const record: LogFields = { time: out.now().toISOString(), level, msg };
      for (const [k, v] of Object.entries(all)) record[k] = fieldValue(v);
      line = JSON.stringify(record);
    } else {
      line = `${out.now().toISOString()} ${level.toUpperCase().padEnd(5)} ${msg}`;
      for (const [k, v] of Object.entries(all)) {
        if (v !== undefined) line += ` ${k}=${textValue(v)}`;
      }
    }
    out.sink(line, level);
  }
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
