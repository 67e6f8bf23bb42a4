/**
 * Streaming encoders for the compress middleware. Each flushes what it has
 * after every input chunk, so a slowly streamed response reaches the client
 * as it is produced (Traefik flushes its compressors the same way).
 *
 * - `gzip`, `deflate` (zlib format, the HTTP `deflate` coding): the web
 *   `CompressionStream`.
 * - `br`: `CompressionStream("brotli")` where the runtime has it (Deno 2.9
 *   does), else `node:zlib`.
 * - `zstd`: `node:zlib`'s zstd (Deno 2.9 has it), flushed per chunk.
 *
 * @module
 */
import zlib from "node:zlib";
import { Duplex } from "node:stream";

/** Content codings Pacer can produce. */
export const ENCODINGS = ["zstd", "br", "gzip", "deflate"] as const;
/** One content coding. */
export type Encoding = typeof ENCODINGS[number];

/** A readable/writable pair, as `pipeThrough` takes. */
export type Encoder = ReadableWritablePair<Uint8Array, Uint8Array>;

function web(format: string): Encoder {
  return new CompressionStream(format as CompressionFormat) as unknown as Encoder;
}

const webBrotli = (() => {
  try {
    new CompressionStream("brotli" as CompressionFormat);
    return true;
  } catch {
    return false;
  }
})();

function fromNode(stream: Duplex): Encoder {
  return Duplex.toWeb(stream) as unknown as Encoder;
}

/** A fresh encoder producing `encoding`. */
export function createEncoder(encoding: Encoding): Encoder {
  switch (encoding) {
    case "gzip":
      return web("gzip");
    case "deflate":
      return web("deflate");
    case "br":
      return webBrotli
        ? web("brotli")
        : fromNode(zlib.createBrotliCompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH }));
    case "zstd": {
      const constants = zlib.constants as unknown as Record<string, number>;
      const options = { flush: constants.ZSTD_e_flush } as zlib.ZlibOptions;
      const create = (zlib as unknown as {
        createZstdCompress(options: zlib.ZlibOptions): Duplex;
      }).createZstdCompress;
      return fromNode(create(options));
    }
  }
}
