/**
 * Request ids for correlation: every request gets an id, kept from the
 * client when it sent a valid one, otherwise generated. The id is forwarded
 * upstream in the same header, echoed on the response (so a user can quote
 * it to support), and set as the typed context variable `requestId` for the
 * middlewares after this one.
 *
 * An incoming id is only kept when it matches `pattern` and fits
 * `maxLength`: ids end up in upstream logs, so a client must not be able to
 * inject newlines, JSON or megabytes through them. Turn `trustIncoming` off
 * on entrypoints that face the internet when ids must be unforgeable.
 *
 * @example
 * ```yaml
 * # static configuration
 * plugins:
 *   requestId:
 *     module: ./plugins/request_id/mod.ts
 * # dynamic configuration
 * http:
 *   middlewares:
 *     ids:
 *       plugin:
 *         requestId:
 *           headerName: X-Correlation-Id
 *           generator: uuidv7
 * ```
 *
 * @module
 */
import {
  copyHeaders,
  definePlugin,
  editableHeaders,
  regexp,
  rewriteRequest,
  z,
} from "../../src/plugin/mod.ts";
import type { MiddlewareHandler } from "../../src/plugin/mod.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The id of this request, set by the requestId plugin. */
    requestId: string;
  }
}

/** An HTTP header name (RFC 9110 token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** The requestId options. */
export const requestIdConfig = z.strictObject({
  /** Header carrying the id, in both directions. @default {"X-Request-Id"} */
  headerName: z.string().regex(TOKEN, { message: "must be an HTTP header name" })
    .default("X-Request-Id"),
  /** Keep a valid id the client sent; `false` always generates one. @default {true} */
  trustIncoming: z.boolean().default(true),
  /**
   * JavaScript regular expression an incoming id must match to be kept
   * (whole value; anchor it). The default allows what common tracers send.
   * @default {"^[A-Za-z0-9._:+=/-]+$"}
   */
  pattern: regexp().default("^[A-Za-z0-9._:+=/-]+$"),
  /** Longest incoming id kept, in characters. @default {200} */
  maxLength: z.number().int().min(1).max(1024).default(200),
  /** How new ids are made: `uuid` (random, v4) or `uuidv7` (time-ordered). @default {"uuid"} */
  generator: z.enum(["uuid", "uuidv7"]).default("uuid"),
  /** Set the id on the response too. @default {true} */
  echo: z.boolean().default(true),
});

/** Validated requestId options. */
export type RequestIdConfig = z.output<typeof requestIdConfig>;

/** Test seams of {@linkcode requestId}. */
export interface RequestIdOptions {
  /** Replaces the configured generator. */
  readonly generate?: () => string;
  /** Clock for `uuidv7`, ms since the epoch. @default {Date.now} */
  readonly now?: () => number;
}

/**
 * A UUID version 7 (RFC 9562): 48 bits of Unix time in ms, then random
 * bits, so ids sort by creation time (handy in log searches).
 */
export function uuidv7(now: number = Date.now()): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  let ms = Math.floor(now);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${
    hex.slice(20)
  }`;
}

/** Builds the requestId middleware. */
export function requestId(
  config: RequestIdConfig,
  options: RequestIdOptions = {},
): MiddlewareHandler {
  const { headerName, trustIncoming, maxLength, echo } = config;
  const pattern = new RegExp(config.pattern);
  const now = options.now ?? Date.now;
  const generate = options.generate ??
    (config.generator === "uuidv7" ? () => uuidv7(now()) : () => crypto.randomUUID());
  const acceptable = (id: string | null): id is string =>
    id !== null && id.length > 0 && id.length <= maxLength && pattern.test(id);

  return async function requestId(c, next) {
    const incoming = c.req.raw.headers.get(headerName);
    const id = trustIncoming && acceptable(incoming) ? incoming : generate();
    c.set("requestId", id);
    if (id !== incoming) {
      const headers = copyHeaders(c.req.raw.headers);
      headers.set(headerName, id);
      rewriteRequest(c, { headers });
    }
    await next();
    if (echo) editableHeaders(c).set(headerName, id);
  };
}

/** The requestId plugin. */
export default definePlugin({
  name: "requestId",
  version: "1.0.0",
  description: "Keeps or generates X-Request-Id, forwards and echoes it",
  config: requestIdConfig,
  create: (config) => requestId(config),
});
