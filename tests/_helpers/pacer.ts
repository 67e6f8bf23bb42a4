/**
 * Starts a real Pacer on 127.0.0.1 for tests, with a client that can set the
 * Host header (Deno's fetch drops it otherwise).
 *
 * @module
 */
import type { DynamicConfig } from "../../src/config/dynamic.ts";
import { type Logger, silentLogger } from "../../src/log/logger.ts";
import { builtinRegistry } from "../../src/middleware/builtins.ts";
import type { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import type { Provider } from "../../src/provider/provider.ts";
import {
  Pacer,
  type PacerEntryPoint,
  type PacerOptions,
  staticProvider,
} from "../../src/server/pacer.ts";

/** A Pacer under test. */
export interface TestPacer extends AsyncDisposable {
  readonly pacer: Pacer;
  /** `http://127.0.0.1:<port>` of an entrypoint (default `web`). */
  url(entryPoint?: string): string;
  /** fetch through the `web` entrypoint with a Host header. */
  request(host: string, path?: string, init?: RequestInit): Promise<Response>;
  readonly client: Deno.HttpClient;
}

/** Options of {@linkcode startPacer}. */
export interface StartPacerOptions
  extends Partial<Omit<PacerOptions, "entryPoints" | "providers">> {
  /** A fixed configuration, served by a `file`-named static provider. */
  readonly config?: DynamicConfig;
  readonly providers?: readonly Provider[];
  /** Extra entrypoints besides `web`. */
  readonly entryPoints?: readonly Partial<PacerEntryPoint>[];
  /** Settings for the `web` entrypoint. */
  readonly web?: Partial<PacerEntryPoint>;
  readonly registry?: MiddlewareRegistry;
  readonly log?: Logger;
}

/** Starts Pacer and waits until its configuration is live. */
export async function startPacer(options: StartPacerOptions = {}): Promise<TestPacer> {
  const providers = [...(options.providers ?? [])];
  if (options.config) providers.push(staticProvider("file", options.config));
  const entry = (e: Partial<PacerEntryPoint>, name: string): PacerEntryPoint => ({
    hostname: "127.0.0.1",
    port: 0,
    isTrusted: () => false,
    graceTimeOutMs: 2000,
    ...e,
    name: e.name ?? name,
  });
  const pacer = new Pacer({
    throttleMs: 0,
    log: options.log ?? silentLogger,
    registry: options.registry ?? builtinRegistry(),
    ...options,
    entryPoints: [
      entry(options.web ?? {}, "web"),
      ...(options.entryPoints ?? []).map((e, i) => entry(e, `ep${i}`)),
    ],
    providers,
  });
  await pacer.start();
  // Providers emit asynchronously: wait for the first configuration to be live.
  for (let i = 0; i < 500 && providers.length > 0 && !pacer.generation; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  await pacer.settled();
  const client = Deno.createHttpClient({ allowHost: true });
  const url = (entryPoint = "web") => {
    const addr = pacer.entryPoint(entryPoint).addr;
    return `http://127.0.0.1:${addr.port}`;
  };
  const close = async () => {
    await pacer.stop();
    client.close();
  };
  return {
    pacer,
    client,
    url,
    request: (host, path = "/", init = {}) => {
      const headers = new Headers(init.headers);
      headers.set("host", host);
      return fetch(url() + path, { ...init, headers, client });
    },
    [Symbol.asyncDispose]: close,
  };
}

/** A load-balancer service over `urls`, Traefik's shape. */
export function lbService(
  urls: string[],
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  return { loadBalancer: { servers: urls.map((url) => ({ url })), ...extra } };
}
