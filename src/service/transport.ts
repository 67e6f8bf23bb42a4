/**
 * Servers transports: how Pacer connects to upstreams (Traefik's
 * `serversTransport` / `http.serversTransports`), turned into
 * `Deno.HttpClient` options.
 *
 * Deno's client has no per-client certificate-verification switch and no
 * separate dial timeout, so `insecureSkipVerify` is reported as unsupported
 * (start Deno with `--unsafely-ignore-certificate-errors=<hosts>` instead) and
 * `dialTimeout` is folded into the time allowed for response headers.
 *
 * @module
 */
import type { ServersTransportConfig } from "../config/dynamic.ts";
import { serversTransportSchema } from "../config/dynamic.ts";

/** A servers transport ready to create clients. */
export interface Transport {
  /** Qualified name (`default@internal` for the static one). */
  readonly name: string;
  readonly config: ServersTransportConfig;
  /** Client options; `allowHost` is always on so `passHostHeader` works. */
  readonly clientOptions: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem>;
  /** Time allowed until response headers, 0 = unlimited. */
  readonly headerTimeoutMs: number;
  /** Identity of the options; servers are keyed by it so a changed transport gets new clients. */
  readonly key: string;
  /** Non-fatal notes (unsupported options) for `/api/rawdata`. */
  readonly warnings: readonly string[];
}

/** Reads a file or inline PEM (Traefik's "FileOrContent"). */
function fileOrContent(value: string, readTextFile: (path: string) => string): string {
  return value.includes("-----BEGIN") ? value : readTextFile(value);
}

/**
 * Builds a {@linkcode Transport} from a validated configuration.
 * @throws {Error} If a CA or certificate file cannot be read (the message names the file).
 */
export function createTransport(
  name: string,
  config: ServersTransportConfig,
  readTextFile: (path: string) => string = Deno.readTextFileSync,
): Transport {
  const warnings: string[] = [];
  const options: Deno.CreateHttpClientOptions & Partial<Deno.TlsCertifiedKeyPem> = {
    allowHost: true,
    poolIdleTimeout: config.forwardingTimeouts.idleConnTimeout || false,
  };
  if (config.maxIdleConnsPerHost >= 0) options.poolMaxIdlePerHost = config.maxIdleConnsPerHost;
  if (config.disableHTTP2) options.http2 = false;
  if (config.rootCAs?.length) {
    options.caCerts = config.rootCAs.map((ca) => readOrExplain(ca, "rootCAs", readTextFile));
  }
  const certificate = config.certificates?.[0];
  if (certificate) {
    options.cert = readOrExplain(certificate.certFile, "certificates[0].certFile", readTextFile);
    options.key = readOrExplain(certificate.keyFile, "certificates[0].keyFile", readTextFile);
    if ((config.certificates?.length ?? 0) > 1) {
      warnings.push("only the first client certificate is used");
    }
  }
  if (config.insecureSkipVerify) {
    warnings.push(
      "insecureSkipVerify is not supported per transport by Deno; start Pacer with --unsafely-ignore-certificate-errors=<hosts> instead",
    );
  }
  if (config.serverName) {
    warnings.push("serverName (SNI override) is not supported by Deno's client");
  }
  if (config.peerCertURI || config.spiffe) {
    warnings.push("peerCertURI and spiffe are not supported");
  }
  const { dialTimeout, responseHeaderTimeout } = config.forwardingTimeouts;
  // No separate dial phase in fetch: with a header timeout, allow dial + header time.
  const headerTimeoutMs = responseHeaderTimeout > 0 ? responseHeaderTimeout + dialTimeout : 0;
  return {
    name,
    config,
    clientOptions: options,
    headerTimeoutMs,
    key: JSON.stringify([options, headerTimeoutMs]),
    warnings,
  };
}

function readOrExplain(
  value: string,
  field: string,
  readTextFile: (path: string) => string,
): string {
  try {
    return fileOrContent(value, readTextFile);
  } catch (error) {
    throw new Error(`Cannot read '${field}' file ${value}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The transport used when a service names none: Traefik's defaults. */
export function defaultTransport(config?: ServersTransportConfig): Transport {
  return createTransport("default@internal", config ?? serversTransportSchema.parse({}));
}
