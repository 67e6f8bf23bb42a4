/**
 * A real Pacer started the way `pacer run` starts one: a static
 * configuration file (with `plugins:`) and a dynamic YAML file in a temp
 * directory, read by `loadStaticConfig` and turned into a Pacer by
 * `pacerOptions()`, so plugins are loaded by the loader from their modules.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { loadStaticConfig } from "../../src/config/static.ts";
import { type LogFields, memoryLogger } from "../../src/log/logger.ts";
import { pacerOptions } from "../../src/cli/run.ts";
import { Pacer } from "../../src/server/pacer.ts";

/** Absolute path of a file of this repository (`plugins/request_id/mod.ts`). */
export function repoPath(relative: string): string {
  return fileURLToPath(new URL(`../../${relative}`, import.meta.url));
}

/** `file://` URL of `src/plugin/mod.ts`, for plugin modules written to temp dirs. */
export const PLUGIN_API = new URL("../../src/plugin/mod.ts", import.meta.url).href;

/** Options of {@linkcode configuredPacer}. */
export interface ConfiguredPacerOptions {
  /** `plugins:` of the static configuration: name → module (path or URL, as a user writes it). */
  readonly plugins?: Readonly<Record<string, string>>;
  /** The dynamic configuration (YAML text) read by the file provider. */
  readonly dynamic: string;
  /** Extra files to write in the temp dir (plugin modules), path → content. */
  readonly files?: Readonly<Record<string, string>>;
  /** `entryPoints.web.transport.respondingTimeouts.writeTimeout`. */
  readonly writeTimeout?: string;
}

/** A Pacer started from configuration files. */
export interface ConfiguredPacer extends AsyncDisposable {
  readonly pacer: Pacer;
  /** The temp dir holding `pacer.yaml`, `dynamic.yaml` and `files`. */
  readonly dir: string;
  /** Log records (JSON lines parsed). */
  records(): LogFields[];
  /** GET (or `init`) through the `web` entrypoint. */
  request(path: string, init?: RequestInit): Promise<Response>;
  /** `GET /api/rawdata` through the API entrypoint. */
  rawdata(): Promise<RawData>;
}

/** The parts of `/api/rawdata` these tests read. */
export interface RawData {
  routers: Record<string, { status: string; error?: string[] }>;
  middlewares: Record<string, { status: string; error?: string[]; type?: string }>;
}

/**
 * Writes the files, starts Pacer with `pacer.yaml` and waits until the
 * dynamic configuration is live.
 */
export async function configuredPacer(options: ConfiguredPacerOptions): Promise<ConfiguredPacer> {
  const dir = await Deno.makeTempDir({ prefix: "pacer-plugins-" });
  const plugins = Object.entries(options.plugins ?? {}).map(([name, module]) =>
    `  ${name}:\n    module: ${JSON.stringify(module)}\n`
  ).join("");
  const staticYaml = `entryPoints:
  web:
    address: "127.0.0.1:0"
    transport:
      lifeCycle:
        graceTimeOut: 1s
${
    options.writeTimeout
      ? `      respondingTimeouts:\n        writeTimeout: ${options.writeTimeout}\n`
      : ""
  }  traefik:
    address: "127.0.0.1:0"
    transport:
      lifeCycle:
        graceTimeOut: 1s
api:
  insecure: true
providers:
  providersThrottleDuration: 0s
  file:
    filename: dynamic.yaml
    watch: false
${plugins ? `plugins:\n${plugins}` : ""}`;
  await Deno.writeTextFile(`${dir}/pacer.yaml`, staticYaml);
  await Deno.writeTextFile(`${dir}/dynamic.yaml`, options.dynamic);
  for (const [path, content] of Object.entries(options.files ?? {})) {
    const full = `${dir}/${path}`;
    await Deno.mkdir(full.slice(0, full.lastIndexOf("/")), { recursive: true });
    await Deno.writeTextFile(full, content);
  }
  const { log, records } = memoryLogger("debug");
  let pacer: Pacer | undefined;
  const client = Deno.createHttpClient({ allowHost: true });
  const close = async () => {
    await pacer?.stop();
    client.close();
    await Deno.remove(dir, { recursive: true });
  };
  try {
    const { config } = await loadStaticConfig({
      args: [`--configFile=${dir}/pacer.yaml`],
      env: {},
      cwd: dir,
      checkFiles: true,
    });
    pacer = new Pacer(await pacerOptions(config, log));
    await pacer.start();
    for (let i = 0; i < 500 && !pacer.generation?.routers.size; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    await pacer.settled();
  } catch (error) {
    await close();
    throw error;
  }
  const started = pacer;
  const base = (ep: string) => `http://127.0.0.1:${started.entryPoint(ep).addr.port}`;
  return {
    pacer: started,
    dir,
    records,
    request: (path, init = {}) => fetch(base("web") + path, { ...init, client }),
    rawdata: async () => {
      const res = await fetch(`${base("traefik")}/api/rawdata`, { client });
      return await res.json() as RawData;
    },
    [Symbol.asyncDispose]: close,
  };
}
