/**
 * `pacer [run]`: loads the static configuration, starts every entrypoint and
 * provider, and stops gracefully on SIGTERM/SIGINT (Traefik's lifeCycle).
 *
 * @module
 */
import { isIP } from "node:net";
import { serversTransportSchema } from "../config/dynamic.ts";
import { ConfigError } from "../config/source.ts";
import {
  loadStaticConfig,
  parseAddress,
  type StaticConfig,
  staticConfigWarnings,
} from "../config/static.ts";
import { createLogger, type Logger, type LogSink } from "../log/logger.ts";
import { AccessLog } from "../log/access_log.ts";
import { builtinRegistry } from "../middleware/builtins.ts";
import { loadPlugins } from "../plugin/loader.ts";
import { FileProvider } from "../provider/file/mod.ts";
import { marathonProvider } from "../provider/marathon/provider.ts";
import type { Provider } from "../provider/provider.ts";
import { IPChecker } from "../net/ip.ts";
import { Pacer, type PacerEntryPoint, type PacerOptions } from "../server/pacer.ts";
import { VERSION } from "../version.ts";

/** Streams for a command's output (tests pass their own). */
export interface CommandIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const ENV_PREFIX = "PACER_";

/**
 * Reads the `PACER_*` variables. Deno can list environment variables only
 * with an unscoped `--allow-env` (a prefix like `PACER_*` can be read but
 * not listed, and `/proc/self/environ` needs `--allow-all`); without it the
 * overrides are skipped with a note.
 */
export function readPacerEnv(): { env: Record<string, string>; note?: string } {
  try {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(Deno.env.toObject())) {
      if (k.startsWith(ENV_PREFIX)) env[k] = v;
    }
    return { env };
  } catch {
    return {
      env: {},
      note:
        "PACER_* environment variables are ignored: Deno lists environment variables only with --allow-env",
    };
  }
}

function fileSink(path: string): LogSink {
  const file = Deno.openSync(path, { append: true, create: true, write: true });
  const encoder = new TextEncoder();
  return (line) => {
    try {
      file.writeSync(encoder.encode(line + "\n"));
    } catch {
      // A full disk must not take the proxy down.
    }
  };
}

/** Writes text whole (a write may take only part of it), and never throws. */
function textWriter(file: { writeSync(p: Uint8Array): number }): (text: string) => void {
  const encoder = new TextEncoder();
  return (text) => {
    try {
      let bytes = encoder.encode(text);
      while (bytes.length > 0) bytes = bytes.subarray(file.writeSync(bytes));
    } catch {
      // A full disk or a closed stdout must not take the proxy down.
    }
  };
}

/** The access log the static configuration asks for (to stdout unless `filePath`). */
export function accessLogFor(config: StaticConfig): AccessLog | undefined {
  const a = config.accessLog;
  if (!a) return undefined;
  const out = a.filePath
    ? Deno.openSync(a.filePath, { append: true, create: true, write: true })
    : Deno.stdout;
  return new AccessLog(a, textWriter(out));
}

/** Creates the logger the static configuration asks for. */
export function loggerFor(config: StaticConfig): Logger {
  return createLogger({
    level: config.log.level,
    format: config.log.format,
    ...(config.log.filePath ? { sink: fileSink(config.log.filePath) } : {}),
  });
}

function listenHost(host: string): string {
  // ":80" listens on every IPv4 interface; Deno's "0.0.0.0" avoids failing on hosts without IPv6.
  if (host === "") return "0.0.0.0";
  return host;
}

/** Turns a validated static configuration into the options of a {@linkcode Pacer}. */
export async function pacerOptions(
  config: StaticConfig,
  log: Logger,
  extra: { providers?: Provider[]; chain?: PacerOptions["chain"] } = {},
): Promise<PacerOptions> {
  const registry = builtinRegistry();
  await loadPlugins(config.plugins, registry, log);
  const accessLog = accessLogFor(config);
  const entryPoints: PacerEntryPoint[] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const trusted = new IPChecker(ep.forwardedHeaders.trustedIPs);
    const insecure = ep.forwardedHeaders.insecure;
    const tls = ep.http.tls
      ? {
        cert: await Deno.readTextFile(ep.http.tls.certFile),
        key: await Deno.readTextFile(ep.http.tls.keyFile),
      }
      : undefined;
    const address = parseAddress(ep.address);
    entryPoints.push({
      name,
      hostname: listenHost(address.host),
      port: address.port,
      ...(tls ? { tls } : {}),
      // contains() first: with no trustedIPs it answers at once, and this runs per request.
      isTrusted: insecure ? () => true : (ip) => trusted.contains(ip) && isIP(ip) !== 0,
      readTimeoutMs: ep.transport.respondingTimeouts.readTimeout,
      writeTimeoutMs: ep.transport.respondingTimeouts.writeTimeout,
      sanitizePath: ep.http.sanitizePath,
      encodedCharacters: ep.http.encodedCharacters,
      asDefault: ep.asDefault,
      middlewares: ep.http.middlewares,
      requestAcceptGraceTimeoutMs: ep.transport.lifeCycle.requestAcceptGraceTimeout,
      graceTimeOutMs: ep.transport.lifeCycle.graceTimeOut,
      ...(accessLog ? { accessLog } : {}),
    });
  }
  const providers: Provider[] = [...(extra.providers ?? [])];
  const p = config.providers;
  if (p.file) {
    providers.push(
      new FileProvider({
        ...(p.file.filename ? { filename: p.file.filename } : {}),
        ...(p.file.directory ? { directory: p.file.directory } : {}),
        watch: p.file.watch,
        log,
        registry,
      }),
    );
  }
  if (p.marathon) providers.push(marathonProvider(p.marathon, { log, registry }));
  return {
    entryPoints,
    providers,
    throttleMs: p.providersThrottleDuration,
    registry,
    log,
    defaultRuleSyntax: config.core.defaultRuleSyntax,
    // Already validated (durations in ms): complete it with the dynamic schema's defaults, do not re-parse.
    serversTransport: { ...serversTransportSchema.parse({}), ...config.serversTransport },
    drainTimeoutMs: config.drain.timeout,
    ...(config.api
      ? { api: { insecure: config.api.insecure, dashboard: config.api.dashboard } }
      : {}),
    ...(config.ping
      ? {
        ping: {
          entryPoint: config.ping.entryPoint,
          manualRouting: config.ping.manualRouting,
          terminatingStatusCode: config.ping.terminatingStatusCode,
        },
      }
      : {}),
    chain: extra.chain ?? config.chain,
    version: VERSION,
  };
}

/** Explains a start-up failure in one line a user can act on. */
export function explainStartError(error: unknown): string {
  if (error instanceof ConfigError) return `Invalid static configuration:\n${error.message}`;
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    return `Missing permission: ${(error as Error).message}. See "Permissions" in the README.`;
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return `Cannot listen: ${(error as Error).message} (another process uses the port).`;
  }
  return `Cannot start: ${(error as Error).message ?? error}`;
}

/**
 * Keeps Pacer serving when a plugin's background work (a timer, a promise
 * nobody awaits) throws: the error is logged instead of ending the process.
 * Errors inside request handling never get here (they become 500s).
 */
export function logStrayErrors(log: Logger): void {
  globalThis.addEventListener("unhandledrejection", (event) => {
    event.preventDefault();
    log.error("Unhandled promise rejection (Pacer keeps running)", { error: event.reason });
  });
  globalThis.addEventListener("error", (event) => {
    event.preventDefault();
    log.error("Uncaught error (Pacer keeps running)", { error: event.error ?? event.message });
  });
}

/** Waits for SIGTERM or SIGINT. */
function untilSignal(): Promise<Deno.Signal> {
  return new Promise((resolve) => {
    const signals: Deno.Signal[] = ["SIGTERM", "SIGINT"];
    const handlers = signals.map((signal) => {
      const handler = () => {
        signals.forEach((s, i) => Deno.removeSignalListener(s, handlers[i]!));
        resolve(signal);
      };
      Deno.addSignalListener(signal, handler);
      return handler;
    });
  });
}

/** Runs Pacer until a stop signal. Returns the process exit code. */
export async function runCommand(args: string[], io: CommandIO): Promise<number> {
  const { env, note } = readPacerEnv();
  let config: StaticConfig;
  let configFile: string | undefined;
  try {
    ({ config, configFile } = await loadStaticConfig({ args, env, checkFiles: true }));
  } catch (error) {
    io.stderr(explainStartError(error) + "\n");
    return 1;
  }
  let log: Logger;
  try {
    log = loggerFor(config);
  } catch (error) {
    io.stderr(explainStartError(error) + "\n");
    return 1;
  }
  logStrayErrors(log);
  if (note) log.warn(note);
  for (const warning of staticConfigWarnings(config)) log.warn(warning);
  let pacer: Pacer;
  try {
    pacer = new Pacer(await pacerOptions(config, log));
    await pacer.start();
  } catch (error) {
    io.stderr(explainStartError(error) + "\n");
    return 1;
  }
  log.info("Pacer started", { version: VERSION, config: configFile ?? "(defaults)" });
  const signal = await untilSignal();
  log.info("Received signal, stopping", { signal });
  await pacer.stop();
  return 0;
}
