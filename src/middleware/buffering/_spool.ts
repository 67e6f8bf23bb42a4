/**
 * Reads a body completely, in memory up to a threshold and in a temporary
 * file beyond it (oxy's multibuf, which Traefik's buffering uses), with an
 * optional maximum size.
 *
 * @module
 */
import type { Logger } from "../../plugin/mod.ts";
import { concatChunks } from "../_http.ts";

/** The body exceeded its maximum size. */
export class BodyTooLargeError extends Error {
  constructor(max: number) {
    super(`body larger than ${max} bytes`);
    this.name = "BodyTooLargeError";
  }
}

/** A completely read body. */
export interface BufferedBody {
  /** Size in bytes. */
  readonly size: number;
  /** The content, or a fresh stream of it (each call starts over). */
  content(): Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
  /**
   * The content for a single consumer; a spooled file is unlinked at once
   * and closes when the stream ends or is cancelled.
   */
  take(): Uint8Array<ArrayBuffer> | ReadableStream<Uint8Array>;
  /** Frees the temporary file (if any) and closes streams still open. */
  dispose(): Promise<void>;
}

/** Options of {@linkcode bufferBody}. */
export interface BufferOptions {
  /** Maximum size in bytes; 0 = none. */
  readonly max: number;
  /** Bytes kept in memory before spooling to a temporary file. */
  readonly mem: number;
  /** Warned (once per call) when the temporary file cannot be created. */
  readonly log?: Logger | undefined;
}

const EMPTY = new Uint8Array(0);

function memoryBody(bytes: Uint8Array<ArrayBuffer>): BufferedBody {
  return {
    size: bytes.byteLength,
    content: () => bytes,
    take: () => bytes,
    dispose: () => Promise.resolve(),
  };
}

function fileBody(path: string, size: number): BufferedBody {
  const open = new Set<Deno.FsFile>();
  let removed = false;
  const stream = (file: Deno.FsFile): ReadableStream<Uint8Array> => {
    open.add(file);
    return new ReadableStream<Uint8Array>({
      async pull(controller) {
        const buffer = new Uint8Array(64 * 1024);
        const n = await file.read(buffer);
        if (n === null) {
          open.delete(file);
          file.close();
          controller.close();
        } else {
          controller.enqueue(buffer.subarray(0, n));
        }
      },
      cancel() {
        if (open.delete(file)) file.close();
      },
    });
  };
  return {
    size,
    content: () => stream(Deno.openSync(path, { read: true })),
    take() {
      const s = stream(Deno.openSync(path, { read: true }));
      // The open handle keeps the data readable after the unlink (POSIX).
      removed = true;
      Deno.removeSync(path);
      return s;
    },
    async dispose() {
      for (const file of open) {
        try {
          file.close();
        } catch { /* already closed */ }
      }
      open.clear();
      if (!removed) {
        removed = true;
        await Deno.remove(path).catch(() => {});
      }
    },
  };
}

async function writeAll(file: Deno.FsFile, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.byteLength) offset += await file.write(bytes.subarray(offset));
}

/**
 * Reads `body` to the end.
 * @throws {BodyTooLargeError} When it exceeds `options.max` (the rest is cancelled).
 */
export async function bufferBody(
  body: ReadableStream<Uint8Array> | null,
  options: BufferOptions,
): Promise<BufferedBody> {
  if (body === null) return memoryBody(EMPTY);
  const { max, log } = options;
  let mem = options.mem;
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let file: Deno.FsFile | undefined;
  let path: string | undefined;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (max > 0 && size > max) {
        await reader.cancel().catch(() => {});
        throw new BodyTooLargeError(max);
      }
      if (file) {
        await writeAll(file, value);
        continue;
      }
      chunks.push(value);
      if (size > mem) {
        try {
          path = await Deno.makeTempFile({ prefix: "pacer-buffer-" });
          file = await Deno.open(path, { write: true });
          for (const chunk of chunks) await writeAll(file, chunk);
          chunks.length = 0;
        } catch (error) {
          log?.warn("Cannot spool body to a temporary file, keeping it in memory", { error });
          file?.close();
          file = undefined;
          if (path) await Deno.remove(path).catch(() => {});
          path = undefined;
          mem = Infinity;
        }
      }
    }
  } catch (error) {
    file?.close();
    if (path) await Deno.remove(path).catch(() => {});
    throw error;
  } finally {
    reader.releaseLock();
  }
  if (file && path) {
    file.close();
    return fileBody(path, size);
  }
  return memoryBody(concatChunks(chunks, size));
}
