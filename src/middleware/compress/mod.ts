/**
 * Compresses responses (Traefik's `compress`): zstd, brotli (`br`) and
 * gzip, plus `deflate` as a Pacer extension.
 *
 * The coding is negotiated from `Accept-Encoding` (q-values, then the order
 * of `encodings`; `*` picks `defaultEncoding` or the first of `encodings`).
 * Without `Accept-Encoding`, responses are compressed only when
 * `defaultEncoding` is set (Traefik's compatibility rule). Never compressed:
 * HEAD requests, requests whose `Content-Type` is excluded (gRPC always is),
 * responses without a body, 204/206/304, responses that already have a
 * `Content-Encoding`, Server-Sent Events (`text/event-stream`), responses of
 * an excluded (or not included) type, and responses smaller than
 * `minResponseBodyBytes`.
 *
 * The body is streamed: a response with a `Content-Length` is decided on
 * it; one without is read until `minResponseBodyBytes` arrive or the stream
 * pauses, then compressed (Traefik's compressor starts on the proxy's first
 * flush the same way), or sent as is if it ended smaller. Compressors flush
 * after every chunk, so streamed responses keep flowing.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     compress:
 *       compress:
 *         excludedContentTypes: [text/event-stream]
 *         minResponseBodyBytes: 1200
 *         encodings: [br, gzip]
 * ```
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { definePlugin, z } from "../../plugin/mod.ts";
import { editableHeaders, readAtMost, replaceResponse } from "../_http.ts";
import { createEncoder, type Encoding, ENCODINGS } from "./_encoders.ts";
import {
  type MediaType,
  mediaTypeMatches,
  parseMediaType,
  tryParseMediaType,
} from "./_media_type.ts";

/** Traefik's default threshold, used when `minResponseBodyBytes` is 0. */
export const DEFAULT_MIN_SIZE = 1024;

const mediaTypeList = z.array(
  z.string().superRefine((value, ctx) => {
    try {
      parseMediaType(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
    }
  }),
).default([]);

const encoding = z.enum(ENCODINGS, {
  message: `must be one of ${ENCODINGS.join(", ")}`,
});

/** compress options (Traefik's names and defaults). */
export const compressConfig = z.strictObject({
  /**
   * Content types never compressed (request and response); `application/grpc`
   * always is. Exclusive with `includedContentTypes`.
   * @default {[]}
   */
  excludedContentTypes: mediaTypeList,
  /**
   * If set, only responses of these content types are compressed.
   * @default {[]}
   */
  includedContentTypes: mediaTypeList,
  /**
   * Smaller responses are sent as is; 0 means the default.
   * @default {1024}
   */
  minResponseBodyBytes: z.number().int().min(0).default(DEFAULT_MIN_SIZE),
  /**
   * Codings offered, preferred first (`deflate` is a Pacer extension).
   * @default {["zstd", "br", "gzip"]}
   */
  encodings: z.array(encoding).min(1, { message: "at least one encoding must be specified" })
    .default(["zstd", "br", "gzip"]),
  /**
   * Coding used without `Accept-Encoding`, or for `*`. Must be in `encodings`.
   * @default {none}
   */
  defaultEncoding: z.union([encoding, z.literal("")]).default(""),
}).superRefine((config, ctx) => {
  if (config.excludedContentTypes.length > 0 && config.includedContentTypes.length > 0) {
    ctx.addIssue({
      code: "custom",
      path: ["includedContentTypes"],
      message: "excludedContentTypes and includedContentTypes options are mutually exclusive",
    });
  }
  if (config.defaultEncoding && !config.encodings.includes(config.defaultEncoding)) {
    ctx.addIssue({
      code: "custom",
      path: ["defaultEncoding"],
      message: `'${config.defaultEncoding}' is not listed in encodings (${
        config.encodings.join(", ")
      })`,
    });
  }
});
/** Validated compress options. */
export type CompressConfig = z.output<typeof compressConfig>;

const ALWAYS_EXCLUDED = ["application/grpc"];
const NEVER_COMPRESSED = parseMediaType("text/event-stream");
const NULL_BODY = new Set([101, 103, 204, 205, 206, 304]);

/**
 * Picks the coding for an `Accept-Encoding` value (Traefik's
 * `getCompressionEncoding`), or `undefined` for no compression.
 */
export function negotiateEncoding(
  acceptEncoding: string,
  encodings: readonly Encoding[],
  defaultEncoding: Encoding | "" = "",
): Encoding | undefined {
  // An empty field means the client wants no content coding (RFC 9110).
  if (acceptEncoding === "") return undefined;
  const priority = new Map<string, number>([["*", -1], ["identity", encodings.length]]);
  encodings.forEach((e, i) => priority.set(e, i));
  let best: { type: string; weight: number; rank: number } | undefined;
  for (const item of acceptEncoding.replaceAll(" ", "").split(",")) {
    const [type = "", param] = item.split(";", 2);
    const rank = priority.get(type);
    if (rank === undefined) continue;
    let weight = 1;
    if (param?.startsWith("q=")) {
      weight = Number.parseFloat(param.slice(2));
      // A weight of 0 (or an unreadable one, as in Go) means "not acceptable".
      if (!(weight > 0)) continue;
    }
    if (!best || weight > best.weight || (weight === best.weight && rank < best.rank)) {
      best = { type, weight, rank };
    }
  }
  if (!best || best.type === "identity") return undefined;
  if (best.type === "*") return defaultEncoding || encodings[0];
  return best.type as Encoding;
}

function addVary(headers: Headers): void {
  const vary = headers.get("vary");
  if (!vary) headers.set("vary", "Accept-Encoding");
  else if (!/(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i.test(vary)) {
    headers.append("vary", "Accept-Encoding");
  }
}

/** Builds the compress middleware. */
export function compress(config: CompressConfig): MiddlewareHandler {
  const excludes = [...ALWAYS_EXCLUDED, ...config.excludedContentTypes].map(parseMediaType);
  const excludedRequestTypes = new Set(excludes.map((m) => m.type));
  const includes = config.includedContentTypes.map(parseMediaType);
  const minSize = config.minResponseBodyBytes > 0 ? config.minResponseBodyBytes : DEFAULT_MIN_SIZE;
  const { encodings, defaultEncoding } = config;

  const compressible = (contentType: string | null): boolean => {
    if (contentType === null || contentType === "") return true;
    const actual: MediaType | undefined = tryParseMediaType(contentType);
    if (!actual) return false;
    if (actual.type === NEVER_COMPRESSED.type) return false;
    if (includes.length > 0 && !includes.some((p) => mediaTypeMatches(p, actual))) return false;
    return !excludes.some((p) => mediaTypeMatches(p, actual));
  };

  return async function compress(c, next) {
    if (c.req.method === "HEAD") return await next();
    const requestType = c.req.raw.headers.get("content-type");
    if (requestType && excludedRequestTypes.has(tryParseMediaType(requestType)?.type ?? "")) {
      return await next();
    }
    const accept = c.req.raw.headers.get("accept-encoding");
    const chosen = accept === null
      ? defaultEncoding || undefined
      : negotiateEncoding(accept, encodings, defaultEncoding);
    if (!chosen) return await next();

    await next();

    const headers = editableHeaders(c);
    addVary(headers);
    const res = c.res;
    if (
      res.body === null || NULL_BODY.has(res.status) || headers.has("content-range") ||
      headers.has("content-encoding") || !compressible(headers.get("content-type"))
    ) {
      return;
    }
    const length = headers.get("content-length");
    let body: ReadableStream<Uint8Array>;
    if (length !== null && /^\d+$/.test(length)) {
      if (Number(length) < minSize) return;
      body = res.body;
    } else {
      // Unknown length: read until minSize bytes (fewer: too small to
      // compress) unless the stream pauses first.
      const head = await readAtMost(res.body, minSize - 1, { stopOnPause: true });
      if (head.complete) {
        const size = head.bytes.byteLength;
        headers.set("content-length", String(size));
        replaceResponse(
          c,
          new Response(size === 0 ? null : head.bytes, {
            status: res.status,
            statusText: res.statusText,
            headers,
          }),
        );
        return;
      }
      body = head.body;
    }
    headers.delete("content-length");
    headers.delete("accept-ranges");
    headers.set("content-encoding", chosen);
    replaceResponse(
      c,
      new Response(body.pipeThrough(createEncoder(chosen)), {
        status: res.status,
        statusText: res.statusText,
        headers,
      }),
    );
  };
}

/** The compress plugin. */
export default definePlugin({
  name: "compress",
  description: "Compresses responses (zstd, br, gzip, deflate)",
  config: compressConfig,
  create: (config) => compress(config),
});
