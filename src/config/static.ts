/**
 * The static configuration: how Pacer starts. Traefik v3's vocabulary and
 * defaults (`entryPoints`, `providers`, `serversTransport`, `api`, `ping`,
 * `log`, `accessLog`, `core`) plus Pacer's `plugins` and `drain`, so a
 * Traefik user's static file reads the same.
 *
 * Sources, later wins: a file (`--config`/`--configFile`/`PACER_CONFIG_FILE`,
 * else `./pacer.yaml`, `./pacer.yml` or `./pacer.json`), then `PACER_*`
 * environment variables, then flags. Every problem from all three is
 * collected and reported at once, located (`pacer.yaml:12:5`,
 * `--log.level`, `PACER_LOG_LEVEL`).
 *
 * Durations come out in milliseconds. See docs/static-configuration.md.
 *
 * @module
 */
import { isIP } from "node:net";
import { dirname, isAbsolute, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { z } from "zod";
import { duration } from "./duration.ts";
import { ruleSyntaxSchema, serversTransportSchema } from "./dynamic.ts";
import { formatPath } from "./issues.ts";
import { canonicalizeKeys } from "./schema_walk.ts";
import { ConfigError, type ConfigProblem, parseConfigText, type ParsedSource } from "./source.ts";
import { configFileFromEnv, parseEnv } from "./env_vars.ts";
import { parseFlags } from "./flags.ts";
import { applyOverrides } from "./_overrides.ts";
import { caseClashes, explainIssues } from "./_problems.ts";
import { marathonOptionsSchema } from "../provider/marathon/options.ts";
import { ipOrCidrSchema } from "../net/ip.ts";
import { encodedCharactersSchema } from "../server/encoded_characters.ts";
import { shippedPluginDir } from "../plugin/loader.ts";
import type { LogFormat, LogLevel } from "../log/logger.ts";
import { parseStatusRanges } from "../log/access_log.ts";

// ---- Helpers -----------------------------------------------------------------

/**
 * A section that is always present in the output: absent or empty (`log:`
 * with nothing under it) means all defaults.
 */
/** An access log field's or header's mode. */
const fieldModeSchema = z.enum(["keep", "drop", "redact"]);

/** A status code or range for `accessLog.filters.statusCodes`. */
const statusFilterSchema = z.string().superRefine((value, ctx) => {
  const ranges = parseStatusRanges([value]);
  if (typeof ranges === "string") ctx.addIssue({ code: "custom", message: ranges });
});

function section<T extends z.ZodType>(schema: T) {
  return z.preprocess((v) => (v === null ? {} : v), schema).prefault({});
}

/**
 * A section enabled by its mere presence, as Traefik does for providers,
 * `api` and `ping`: `ping: {}`, `ping:` (empty) and `ping: true` enable it
 * with defaults, `ping: false` or absence leave it off.
 */
function toggle<T extends z.ZodType>(schema: T) {
  return z.preprocess(
    (v) => (v === null || v === true ? {} : v === false ? undefined : v),
    schema.optional(),
  ).optional();
}

/** Where an entrypoint listens, from {@linkcode parseAddress}. */
export interface ListenAddress {
  /** Host or IP as written (IPv6 without brackets); `""` means all interfaces. */
  readonly host: string;
  /** TCP port, 0-65535 (0 picks a free port). */
  readonly port: number;
}

const HOSTNAME =
  /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\.?$/i;

/**
 * Parses an entrypoint address in Traefik's form: `":80"`,
 * `"127.0.0.1:8080"`, `"[::1]:443"`, `"localhost:80"`, optionally with a
 * `/tcp` suffix.
 *
 * @throws {RangeError} If the address is not `host:port`, the port is not
 * 0-65535, or it asks for UDP (`/udp`), which Pacer does not serve.
 */
export function parseAddress(address: string): ListenAddress {
  const got = `got ${JSON.stringify(address)}`;
  let rest = address.trim();
  const slash = rest.lastIndexOf("/");
  if (slash >= 0) {
    const protocol = rest.slice(slash + 1).toLowerCase();
    if (protocol === "udp") {
      throw new RangeError(
        `UDP entrypoints are not supported (Pacer serves HTTP over TCP), ${got}`,
      );
    }
    if (protocol !== "tcp") {
      throw new RangeError(`must be host:port, optionally followed by /tcp, ${got}`);
    }
    rest = rest.slice(0, slash);
  }
  let host: string;
  let portText: string;
  const v6 = /^\[([^\]]*)\]:([^:]*)$/.exec(rest);
  if (v6) {
    host = v6[1]!;
    portText = v6[2]!;
    if (isIP(host) !== 6) throw new RangeError(`must be host:port with a valid IPv6 host, ${got}`);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0 || rest.indexOf(":") !== colon) {
      throw new RangeError(`must be host:port (such as ":80" or "127.0.0.1:8080"), ${got}`);
    }
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (host !== "" && isIP(host) === 0 && !HOSTNAME.test(host)) {
      throw new RangeError(`must be host:port with a valid host name or IP address, ${got}`);
    }
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    throw new RangeError(`must be host:port with a port from 0 to 65535, ${got}`);
  }
  return { host, port: Number(portText) };
}

const addressSchema = z.preprocess(
  // `address: 80` in YAML is a number: explain it rather than "expected string".
  (v) => (typeof v === "number" ? String(v) : v),
  z.string().transform((value, ctx) => {
    try {
      parseAddress(value);
      // Traefik's optional "/tcp" says nothing Pacer needs; drop it.
      return value.trim().replace(/\/tcp$/i, "");
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  }),
).describe("host:port");

const LEVELS: Readonly<Record<string, LogLevel>> = {
  // Pacer has four levels; Traefik's extra ones map to the nearest.
  trace: "debug",
  debug: "debug",
  info: "info",
  warn: "warn",
  warning: "warn",
  error: "error",
  fatal: "error",
  panic: "error",
};

const logLevelSchema = z.string().transform((value, ctx): LogLevel => {
  const level = LEVELS[value.trim().toLowerCase()];
  if (level) return level;
  ctx.addIssue({
    code: "custom",
    message: `must be one of DEBUG, INFO, WARN, ERROR (TRACE, FATAL and PANIC are accepted), got ${
      JSON.stringify(value)
    }`,
  });
  return z.NEVER;
}).describe("DEBUG|INFO|WARN|ERROR");

const FORMATS: Readonly<Record<string, LogFormat>> = { common: "text", text: "text", json: "json" };

const logFormatSchema = z.string().transform((value, ctx): LogFormat => {
  const format = FORMATS[value.trim().toLowerCase()];
  if (format) return format;
  ctx.addIssue({
    code: "custom",
    message: `must be "common" (or "text") or "json", got ${JSON.stringify(value)}`,
  });
  return z.NEVER;
}).describe("common|json");

/** Whether a plugin module specifier is one Pacer loads. */
function isModuleSpecifier(value: string): boolean {
  return /^(\.\.?\/|\/|npm:|file:\/\/\/)./.test(value);
}

const moduleSchema = z.string().superRefine((value, ctx) => {
  if (!isModuleSpecifier(value)) {
    ctx.addIssue({
      code: "custom",
      message: `must be "./path.ts" (relative to the configuration file), "npm:name", ` +
        `"file:///path.ts" or an absolute path, got ${JSON.stringify(value)}`,
    });
  }
}).describe("./file.ts|npm:…|file:///…");

// ---- Schema ------------------------------------------------------------------

/** `entryPoints.<name>.http.tls` (Pacer: a certificate for a TLS entrypoint). */
export const entryPointTlsSchema = z.strictObject({
  /** PEM certificate (chain) file. Must exist at start. */
  certFile: z.string({ error: "a TLS entrypoint needs certFile and keyFile" }).min(1),
  /** PEM private key file. Must exist at start. */
  keyFile: z.string({ error: "a TLS entrypoint needs certFile and keyFile" }).min(1),
});

/** `entryPoints.<name>.http.redirections.entryPoint`: Traefik's entrypoint redirection. */
export const redirectEntryPointSchema = z.strictObject({
  /** Target entrypoint name, or a port such as `":443"`. */
  to: z.string().min(1),
  /** @default {"https"} */
  scheme: z.string().min(1).default("https"),
  /** 301/308 when true, 302/307 otherwise. @default {true} */
  permanent: z.boolean().default(true),
  /**
   * Priority of the generated redirect router. Traefik v3 uses MaxInt-1,
   * which JavaScript cannot hold exactly; v2's MaxInt32-1 also outranks
   * every generated rule.
   * @default {2147483646}
   */
  priority: z.number().int().default(2_147_483_646),
});

/** Traefik's default `idleTimeout` (180 s), which Pacer cannot apply (see {@linkcode staticConfigWarnings}). */
const IDLE_TIMEOUT_DEFAULT_MS = 180_000;

/** `entryPoints.<name>`. */
export const entryPointSchema = z.strictObject({
  /** `":80"`, `"127.0.0.1:8080"`, `"[::1]:443"` (a `/tcp` suffix is dropped; `/udp` is refused). */
  address: addressSchema,
  /** Routers without `entryPoints` attach to the `asDefault` entrypoints (all, if none is). @default {false} */
  asDefault: z.boolean().default(false),
  transport: section(z.strictObject({
    respondingTimeouts: section(z.strictObject({
      /** Time a client has to send its whole request body; a slower one gets 408 (0 = none). @default {60s} */
      readTimeout: duration().default(60_000),
      /** Time to write a response (0 = none). @default {0} */
      writeTimeout: duration().default(0),
      /** Keep-alive idle time: accepted, not applied (Deno keeps idle connections open). @default {180s} */
      idleTimeout: duration().default(IDLE_TIMEOUT_DEFAULT_MS),
    })),
    lifeCycle: section(z.strictObject({
      /** Keep accepting requests this long after a stop signal. @default {0} */
      requestAcceptGraceTimeout: duration().default(0),
      /** Time given to active requests to finish on stop. @default {10s} */
      graceTimeOut: duration().default(10_000),
    })),
  })),
  forwardedHeaders: section(z.strictObject({
    /** Peers whose `X-Forwarded-*` headers are kept. @default {[]} */
    trustedIPs: z.array(ipOrCidrSchema).default([]),
    /** Keep `X-Forwarded-*` headers from anyone. @default {false} */
    insecure: z.boolean().default(false),
  })),
  http: section(z.strictObject({
    /** Pacer: serve TLS with this certificate. Absent = plain HTTP. */
    tls: toggle(entryPointTlsSchema),
    /** Middlewares prepended to every router on this entrypoint. @default {[]} */
    middlewares: z.array(z.string().min(1)).default([]),
    redirections: toggle(z.strictObject({
      entryPoint: toggle(redirectEntryPointSchema),
    })),
    /**
     * Normalize and clean the request path before routing (decode escaped
     * unreserved characters; drop `.`, `..` and duplicate slashes), as
     * Traefik v3 does. @default {true}
     */
    sanitizePath: z.boolean().default(true),
    /**
     * Reserved escapes allowed in request paths (Traefik v3.6.7+ names and
     * defaults: all allowed). A refused one gets 400 Bad Request.
     */
    encodedCharacters: section(encodedCharactersSchema(true)),
  })),
});
/** A validated entrypoint. */
export type EntryPointConfig = z.output<typeof entryPointSchema>;

/** `providers.file`. */
export const fileProviderSchema = z.strictObject({
  /** One dynamic configuration file (exactly one of filename/directory). */
  filename: z.string().min(1).optional(),
  /** A directory of dynamic files (read recursively). */
  directory: z.string().min(1).optional(),
  /** Reload on change. @default {true} */
  watch: z.boolean().default(true),
}).superRefine((f, ctx) => {
  if ((f.filename === undefined) === (f.directory === undefined)) {
    ctx.addIssue({
      code: "custom",
      message: f.filename === undefined
        ? "set 'filename' or 'directory'"
        : "set only one of 'filename' and 'directory'",
    });
  }
});
/** Validated file provider options. */
export type FileProviderConfig = z.output<typeof fileProviderSchema>;

/** The static `serversTransport`: the default transport to upstreams. */
export const staticServersTransportSchema = serversTransportSchema.pick({
  insecureSkipVerify: true,
  rootCAs: true,
  maxIdleConnsPerHost: true,
  forwardingTimeouts: true,
});

const baseSchema = z.strictObject({
  /** Where Pacer listens. @default {{ http: { address: ":80" } } when none is configured} */
  entryPoints: z.record(z.string().min(1), entryPointSchema).default({}),
  providers: section(z.strictObject({
    /** Minimum time between two configurations applied from one provider. @default {2s} */
    providersThrottleDuration: duration().default(2_000),
    /** Dynamic configuration from a file or directory. Off when absent. */
    file: toggle(fileProviderSchema),
    /** Dynamic configuration from Marathon. `marathon: {}` enables it with defaults. */
    marathon: toggle(marathonOptionsSchema),
  })),
  /** Default transport to upstreams (insecureSkipVerify, rootCAs, maxIdleConnsPerHost 200, forwardingTimeouts). */
  serversTransport: section(staticServersTransportSchema),
  /** The API and dashboard. Off when absent. */
  api: toggle(z.strictObject({
    /** Serve the API on the `traefik` entrypoint (created on :8080 if missing). @default {false} */
    insecure: z.boolean().default(false),
    /** @default {true} */
    dashboard: z.boolean().default(true),
    /** @default {false} */
    debug: z.boolean().default(false),
  })),
  /** `/ping` health endpoint. Off when absent. */
  ping: toggle(z.strictObject({
    /** @default {"traefik"} */
    entryPoint: z.string().min(1).default("traefik"),
    /** Do not attach `/ping` to an entrypoint; a router must use `ping@internal`. @default {false} */
    manualRouting: z.boolean().default(false),
    /** Status returned while stopping. @default {503} */
    terminatingStatusCode: z.number().int().min(100).max(599).default(503),
  })),
  log: section(z.strictObject({
    /** DEBUG, INFO, WARN or ERROR (case-insensitive; TRACE → debug, FATAL/PANIC → error); output lower case. @default {"INFO"} */
    level: logLevelSchema.prefault("INFO"),
    /** `common` (Traefik's name; `text` also accepted) or `json`; output as the logger's `text`/`json`. @default {"common"} */
    format: logFormatSchema.prefault("common"),
    /** Write logs to this file instead of stderr. */
    filePath: z.string().min(1).optional(),
    /** @default {false} */
    noColor: z.boolean().default(false),
  })),
  /** Access log: one line per delivered request (Traefik's). Off unless the section is present. */
  accessLog: toggle(z.strictObject({
    /** Append to this file; stdout without it. */
    filePath: z.string().min(1).optional(),
    /** `common` (Traefik's Common Log Format) or `json`. @default {"common"} */
    format: z.enum(["common", "json"]).default("common"),
    /** Lines kept in memory before writing (at most a second). @default {0} */
    bufferingSize: z.number().int().min(0).default(0),
    /** Log requests served by `@internal` routers too. @default {false} */
    addInternals: z.boolean().default(false),
    /** With any filter set, a request is logged when it passes one. */
    filters: z.strictObject({
      /** `"404"`, `"500-599"`. */
      statusCodes: z.array(statusFilterSchema).optional(),
      /** Log retried requests. @default {false} */
      retryAttempts: z.boolean().default(false),
      /** Log requests slower than this. @default {0} */
      minDuration: duration().default(0),
    }).optional(),
    /** JSON only: which fields and request headers are kept, dropped or redacted. */
    fields: z.strictObject({
      /** @default {"keep"} */
      defaultMode: fieldModeSchema.default("keep"),
      names: z.record(z.string(), fieldModeSchema).optional(),
      headers: z.strictObject({
        /** @default {"drop"} */
        defaultMode: fieldModeSchema.default("drop"),
        names: z.record(z.string(), fieldModeSchema).optional(),
      }).optional(),
    }).optional(),
  })),
  core: section(z.strictObject({
    /** Rule syntax of routers that do not set `ruleSyntax`. @default {"v3"} */
    defaultRuleSyntax: ruleSyntaxSchema.default("v3"),
  })),
  /** Traefik's `global` section: accepted and ignored (Pacer never phones home). */
  global: toggle(z.strictObject({
    checkNewVersion: z.boolean().optional(),
    sendAnonymousUsage: z.boolean().optional(),
  })),
  /** Pacer: middleware plugins by name. `module` is resolved to a URL when loaded. @default {{}} */
  plugins: z.record(
    z.string().min(1),
    z.strictObject({
      /** `./relative.ts` (to the configuration file), `npm:…`, `file:///…` or an absolute path. */
      module: moduleSchema,
    }),
  ).default({}),
  /** Pacer: servers leaving rotation. */
  drain: section(z.strictObject({
    /** How long a draining server keeps its in-flight requests. @default {30s} */
    timeout: duration().default(30_000),
  })),
  /**
   * Pacer: the stages appended to every router that does not list them
   * (router → retry → health-gate → drain). Turn one off to opt out globally.
   */
  chain: section(z.strictObject({
    /** Retry failed requests safely (`retry` middleware defaults). @default {true} */
    retry: z.boolean().default(true),
    /** Route only to healthy servers; passive health; immediate 503. @default {true} */
    healthGate: z.boolean().default(true),
    /** Keep leaving servers out of rotation until their requests end. @default {true} */
    drain: z.boolean().default(true),
  })),
});

type BaseConfig = z.output<typeof baseSchema>;

/** Name of the internal entrypoint Traefik creates for the API and ping. */
export const INTERNAL_ENTRYPOINT = "traefik";

/**
 * Traefik's `SetEffectiveConfiguration`: an `http` entrypoint on `:80` when
 * none is configured, and a `traefik` entrypoint on `:8080` when
 * `api.insecure` is set or `ping` uses it (without manual routing) and it
 * does not exist.
 */
function effectiveConfiguration(config: BaseConfig): BaseConfig {
  const entryPoints = { ...config.entryPoints };
  if (Object.keys(entryPoints).length === 0) {
    entryPoints.http = entryPointSchema.parse({ address: ":80" });
  }
  const needsInternal = config.api?.insecure === true ||
    (config.ping !== undefined && !config.ping.manualRouting &&
      config.ping.entryPoint === INTERNAL_ENTRYPOINT);
  if (needsInternal && !(INTERNAL_ENTRYPOINT in entryPoints)) {
    entryPoints[INTERNAL_ENTRYPOINT] = entryPointSchema.parse({ address: ":8080" });
  }
  return { ...config, entryPoints };
}

function conflicts(a: ListenAddress, b: ListenAddress): boolean {
  if (a.port === 0 || a.port !== b.port) return false;
  const any = (h: string) => h === "" || h === "0.0.0.0" || h === "::";
  return a.host === b.host || any(a.host) || any(b.host);
}

/** Checks that need the whole (effective) configuration. */
function crossCheck(config: BaseConfig, ctx: z.RefinementCtx): void {
  const names = Object.keys(config.entryPoints);
  const list = names.join(", ");
  if (config.ping && !config.ping.manualRouting && !names.includes(config.ping.entryPoint)) {
    ctx.addIssue({
      code: "custom",
      path: ["ping", "entryPoint"],
      message: `unknown entrypoint ${
        JSON.stringify(config.ping.entryPoint)
      } (entrypoints: ${list})`,
    });
  }
  const seen: [string, ListenAddress][] = [];
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    const to = ep.http.redirections?.entryPoint?.to;
    if (to !== undefined && !/^:\d{1,5}$/.test(to)) {
      if (to === name) {
        ctx.addIssue({
          code: "custom",
          path: ["entryPoints", name, "http", "redirections", "entryPoint", "to"],
          message: "an entrypoint cannot redirect to itself",
        });
      } else if (!names.includes(to)) {
        ctx.addIssue({
          code: "custom",
          path: ["entryPoints", name, "http", "redirections", "entryPoint", "to"],
          message: `must be an entrypoint name or a port such as ":443", got ${
            JSON.stringify(to)
          } (entrypoints: ${list})`,
        });
      }
    }
    const address = parseAddress(ep.address);
    const clash = seen.find(([, other]) => conflicts(other, address));
    if (clash) {
      ctx.addIssue({
        code: "custom",
        path: ["entryPoints", name, "address"],
        message: `listens on the same port as entrypoint '${clash[0]}' (${
          JSON.stringify(config.entryPoints[clash[0]]!.address)
        })`,
      });
    }
    seen.push([name, address]);
  }
}

/**
 * The static configuration schema. Parsing also applies Traefik's effective
 * defaults (the `http` and `traefik` entrypoints) and cross-checks
 * (redirection targets, the ping entrypoint, clashing ports).
 *
 * Option names are case-insensitive: run {@linkcode canonicalizeKeys} first
 * (as {@linkcode loadStaticConfig} does).
 */
export const staticConfigSchema = baseSchema
  .transform(effectiveConfiguration)
  .superRefine(crossCheck);

/** The validated static configuration. Durations are in milliseconds. */
export type StaticConfig = z.output<typeof staticConfigSchema>;

/** Raw static configuration, as written in a file. */
export type StaticConfigInput = z.input<typeof staticConfigSchema>;

// ---- Loading -----------------------------------------------------------------

/** Files looked for in the working directory when no file is named. */
export const DEFAULT_CONFIG_FILES: readonly string[] = ["pacer.yaml", "pacer.yml", "pacer.json"];

/** Input of {@linkcode loadStaticConfig}. */
export interface LoadStaticConfigInput {
  /** Command-line arguments after the command name. */
  readonly args: readonly string[];
  /** The environment (`Deno.env.toObject()`). */
  readonly env: Readonly<Record<string, string>>;
  /** Base of relative paths. @default {Deno.cwd()} */
  readonly cwd?: string;
  /** Reads a file; throws `Deno.errors.NotFound` if it does not exist. @default {Deno.readTextFile} */
  readonly readFile?: (path: string) => Promise<string>;
  /**
   * Also check that the files the configuration names exist: TLS
   * certificates and keys, the file provider's file or directory, local
   * plugin modules (with `Deno.stat`). `pacer check` and start-up turn it on.
   * @default {false}
   */
  readonly checkFiles?: boolean;
}

/** Result of {@linkcode loadStaticConfig}. */
export interface LoadedStaticConfig {
  /** The validated, effective configuration; paths made absolute, plugin modules as URLs. */
  readonly config: StaticConfig;
  /** The file used, as given (or as found in the working directory); absent if none. */
  readonly configFile?: string;
}

interface RankedProblem extends ConfigProblem {
  readonly rank: readonly number[];
}

function isNotFound(error: unknown): boolean {
  return error instanceof Deno.errors.NotFound ||
    (error as { code?: string } | null)?.code === "ENOENT";
}

/**
 * Loads the static configuration from a file, `PACER_*` variables and flags
 * (later wins), validates it, and applies Traefik's effective defaults.
 *
 * Relative paths (file provider, TLS files, log files) are resolved against
 * `cwd`, as Traefik does; a plugin `module` written in the file is resolved
 * against the file's directory (from a flag or variable: against `cwd`).
 *
 * @example
 * ```ts
 * const { config, configFile } = await loadStaticConfig({
 *   args: ["--log.level=DEBUG"],
 *   env: Deno.env.toObject(),
 * });
 * ```
 *
 * @throws {ConfigError} Listing every problem of the file, the variables and
 * the flags, each located.
 */
export async function loadStaticConfig(input: LoadStaticConfigInput): Promise<LoadedStaticConfig> {
  const cwd = input.cwd ?? Deno.cwd();
  const readFile = input.readFile ?? ((path: string) => Deno.readTextFile(path));
  const schema = staticConfigSchema;
  const problems: RankedProblem[] = [];
  const fileRank = (location: string): number[] => {
    const m = /:(\d+):(\d+)$/.exec(location);
    return [0, m ? Number(m[1]) : 0, m ? Number(m[2]) : 0];
  };

  const flags = parseFlags(input.args, schema);

  // 1. The file.
  const named = flags.configFile ?? configFileFromEnv(input.env);
  let configFile: string | undefined;
  let text: string | undefined;
  if (named) {
    configFile = named.path;
    try {
      text = await readFile(resolve(cwd, named.path));
    } catch (error) {
      problems.push({
        location: named.path,
        message: isNotFound(error)
          ? `configuration file not found (named by ${named.origin})`
          : `cannot read the configuration file: ${(error as Error).message}`,
        rank: [0, 0, 0],
      });
    }
  } else {
    for (const candidate of DEFAULT_CONFIG_FILES) {
      try {
        text = await readFile(resolve(cwd, candidate));
        configFile = candidate;
        break;
      } catch (error) {
        if (isNotFound(error)) continue;
        problems.push({
          location: candidate,
          message: `cannot read the configuration file: ${(error as Error).message}`,
          rank: [0, 0, 0],
        });
        break;
      }
    }
  }
  let parsed: ParsedSource | undefined;
  let fileValue: unknown = {};
  let fileUsable = problems.length === 0;
  if (text !== undefined && configFile !== undefined) {
    try {
      parsed = parseConfigText(text, configFile);
      if (
        typeof parsed.value !== "object" || parsed.value === null || Array.isArray(parsed.value)
      ) {
        // Merging would silently drop a list or a scalar; say so instead.
        fileUsable = false;
        problems.push({
          location: configFile,
          message: `must contain options such as "entryPoints:", got ${
            Array.isArray(parsed.value) ? "a list" : JSON.stringify(parsed.value)
          }`,
          rank: [0, 0, 0],
        });
      }
      fileValue = canonicalizeKeys(schema, parsed.value);
      for (const clash of caseClashes(schema, parsed.value)) {
        const location = parsed.locate(clash.path);
        problems.push({
          location,
          message: `'${formatPath(clash.path)}': ${clash.detail}`,
          rank: fileRank(location),
        });
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      fileUsable = false;
      for (const p of error.problems) problems.push({ ...p, rank: fileRank(p.location) });
    }
  }

  // 2. Variables, then flags.
  const env = parseEnv(input.env, schema, fileValue);
  const envNames = Object.keys(input.env).sort();
  const envRank = (name: string) => [1, envNames.indexOf(name), 0];
  const flagRank = (origin: string) => [
    2,
    input.args.findIndex((a) => a === origin || a.startsWith(`${origin}=`)),
    0,
  ];
  for (const p of env.problems) problems.push({ ...p, rank: envRank(p.location) });
  for (const p of flags.problems) problems.push({ ...p, rank: flagRank(p.location) });
  const envOrigins = new Set(env.overrides.map((o) => o.origin));
  const rankOf = (location: string) =>
    envOrigins.has(location)
      ? envRank(location)
      : location.startsWith("-")
      ? flagRank(location)
      : fileRank(location);

  // 3. Merge and validate. A file that did not parse would only add noise
  // ("address is missing") to its syntax errors, so validation waits for it.
  let config: StaticConfig | undefined;
  const merged = applyOverrides(
    fileValue,
    [...env.overrides, ...flags.overrides],
    parsed?.locate,
    configFile ?? "(static configuration)",
  );
  if (fileUsable) {
    const result = schema.safeParse(merged.value);
    if (result.success) {
      config = result.data;
    } else {
      for (const issue of explainIssues(schema, merged.value, result.error.issues)) {
        const { location, override } = merged.locate(issue.path);
        problems.push({
          location,
          message: override || issue.path.length === 0
            ? issue.detail
            : `'${formatPath(issue.path)}': ${issue.detail}`,
          rank: rankOf(location),
        });
      }
    }
  }

  // 4. Paths, then (optionally) the files they name.
  if (config) {
    const base = configFile ? dirname(resolve(cwd, configFile)) : cwd;
    config = resolvePaths(config, cwd, (name) => {
      const { override } = merged.locate(["plugins", name, "module"]);
      return override ? cwd : base;
    });
    if (input.checkFiles) {
      for (const missing of await missingFiles(config)) {
        const { location, override } = merged.locate(missing.path);
        problems.push({
          location,
          message: override ? missing.detail : `'${formatPath(missing.path)}': ${missing.detail}`,
          rank: rankOf(location),
        });
      }
    }
  }

  if (problems.length > 0 || !config) {
    problems.sort((a, b) => {
      for (let i = 0; i < 3; i++) {
        const d = (a.rank[i] ?? 0) - (b.rank[i] ?? 0);
        if (d !== 0) return d;
      }
      return 0;
    });
    throw new ConfigError(problems.map(({ location, message }) => ({ location, message })));
  }
  return configFile === undefined ? { config } : { config, configFile };
}

function resolveModule(module: string, base: string): string {
  if (module.startsWith("npm:") || module.startsWith("file:")) return module;
  return pathToFileURL(isAbsolute(module) ? module : resolve(base, module)).href;
}

/** Makes paths absolute and plugin modules URLs (a new object; input untouched). */
function resolvePaths(
  config: StaticConfig,
  cwd: string,
  moduleBase: (plugin: string) => string,
): StaticConfig {
  const abs = (p: string) => resolve(cwd, p);
  const entryPoints = Object.fromEntries(
    Object.entries(config.entryPoints).map(([name, ep]) => [
      name,
      ep.http.tls
        ? {
          ...ep,
          http: {
            ...ep.http,
            tls: { certFile: abs(ep.http.tls.certFile), keyFile: abs(ep.http.tls.keyFile) },
          },
        }
        : ep,
    ]),
  );
  const file = config.providers.file;
  const plugins = Object.fromEntries(
    Object.entries(config.plugins).map((
      [name, p],
    ) => [name, { module: resolveModule(p.module, moduleBase(name)) }]),
  );
  return {
    ...config,
    entryPoints,
    providers: {
      ...config.providers,
      ...(file
        ? {
          file: {
            ...file,
            ...(file.filename !== undefined ? { filename: abs(file.filename) } : {}),
            ...(file.directory !== undefined ? { directory: abs(file.directory) } : {}),
          },
        }
        : {}),
    },
    log: { ...config.log, ...(config.log.filePath ? { filePath: abs(config.log.filePath) } : {}) },
    ...(config.accessLog
      ? {
        accessLog: {
          ...config.accessLog,
          ...(config.accessLog.filePath ? { filePath: abs(config.accessLog.filePath) } : {}),
        },
      }
      : {}),
    plugins,
  };
}

async function statKind(path: string): Promise<"file" | "directory" | "missing"> {
  try {
    const info = await Deno.stat(path);
    return info.isDirectory ? "directory" : "file";
  } catch {
    return "missing";
  }
}

/** Files the configuration names that do not exist (or are the wrong kind). */
async function missingFiles(
  config: StaticConfig,
): Promise<{ path: PropertyKey[]; detail: string }[]> {
  const out: { path: PropertyKey[]; detail: string }[] = [];
  const expect = async (path: PropertyKey[], file: string, kind: "file" | "directory") => {
    const found = await statKind(file);
    if (found === "missing") out.push({ path, detail: `${kind} not found: ${file}` });
    else if (found !== kind) out.push({ path, detail: `is not a ${kind}: ${file}` });
  };
  for (const [name, ep] of Object.entries(config.entryPoints)) {
    if (!ep.http.tls) continue;
    await expect(["entryPoints", name, "http", "tls", "certFile"], ep.http.tls.certFile, "file");
    await expect(["entryPoints", name, "http", "tls", "keyFile"], ep.http.tls.keyFile, "file");
  }
  const file = config.providers.file;
  if (file?.filename) await expect(["providers", "file", "filename"], file.filename, "file");
  if (file?.directory) {
    await expect(["providers", "file", "directory"], file.directory, "directory");
  }
  for (const [name, plugin] of Object.entries(config.plugins)) {
    // A shipped plugin is served from the bundle or binary: no file needs to exist beside it.
    if (plugin.module.startsWith("file:") && shippedPluginDir(plugin.module) === undefined) {
      await expect(["plugins", name, "module"], fileURLToPath(plugin.module), "file");
    }
  }
  return out;
}

/**
 * Notes about a valid configuration that a user should still hear about:
 * accepted options that do nothing.
 */
export function staticConfigWarnings(config: StaticConfig): string[] {
  const out: string[] = [];
  if (config.global) out.push("global is accepted and ignored (Pacer never phones home)");
  for (const [name, entryPoint] of Object.entries(config.entryPoints)) {
    const idle = entryPoint.transport.respondingTimeouts.idleTimeout;
    // 0 (none) is what Deno does; the default is not the user's choice.
    if (idle !== 0 && idle !== IDLE_TIMEOUT_DEFAULT_MS) {
      out.push(
        `entryPoints.${name}.transport.respondingTimeouts.idleTimeout is not applied: ` +
          "Deno's server keeps idle keep-alive connections open and lets no code close them",
      );
    }
  }
  return out;
}
