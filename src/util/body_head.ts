/**
 * Reading the head of a body into memory without losing the rest: the
 * retry, forwardAuth and compress middlewares and the mirroring service
 * buffer a body when it is small enough and stream it on when it is not.
 *
 * @module
 */

/**
 * Joins chunks into one buffer. A single chunk is returned as is (the
 * stream handed it over); no chunk gives an empty buffer.
 */
export function concatChunks(
  chunks: readonly Uint8Array[],
  size = chunks.reduce((n, c) => n + c.byteLength, 0),
): Uint8Array<ArrayBuffer> {
  if (chunks.length === 1) return chunks[0] as Uint8Array<ArrayBuffer>;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** What {@linkcode readAtMost} found. */
export type BodyHead =
  /** The body ended within the limit: all of it. */
  | { readonly complete: true; readonly bytes: Uint8Array<ArrayBuffer> }
  /**
   * The body is larger than the limit (or paused): `size` bytes were read,
   * in the chunks `read`, and `body` streams the whole body again, those
   * bytes first, then the unread rest. Consume or cancel it.
   */
  | {
    readonly complete: false;
    readonly size: number;
    readonly read: readonly Uint8Array[];
    readonly body: ReadableStream<Uint8Array>;
  };

const PAUSED = Symbol("paused");

/** `read`, or `PAUSED` if it has not settled by the next macrotask. */
function readOrPause(
  read: Promise<ReadableStreamReadResult<Uint8Array>>,
): Promise<ReadableStreamReadResult<Uint8Array> | typeof PAUSED> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(PAUSED), 0);
    read.then((result) => {
      clearTimeout(timer);
      resolve(result);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Reads `body` until it ends or more than `max` bytes have been read (the
 * chunk that crosses `max` is read whole). With `stopOnPause`, it also stops
 * as soon as the stream has nothing ready by the next macrotask, so a slow
 * stream is not waited for; with `waitForFirstChunk` as well, only once it
 * has read something (the first chunk is always waited for).
 *
 * @param body The stream; locked from now on.
 * @param max Most bytes the caller wants in memory (`Infinity`: no limit).
 * @returns The whole body, or what was read and the body streamed again.
 */
export async function readAtMost(
  body: ReadableStream<Uint8Array>,
  max: number,
  options: { readonly stopOnPause?: boolean; readonly waitForFirstChunk?: boolean } = {},
): Promise<BodyHead> {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let pending: Promise<ReadableStreamReadResult<Uint8Array>> | undefined;
  while (size <= max) {
    const read = reader.read();
    const mayPause = options.stopOnPause && (size > 0 || !options.waitForFirstChunk);
    const result = mayPause ? await readOrPause(read) : await read;
    if (result === PAUSED) {
      pending = read;
      break;
    }
    if (result.done) {
      reader.releaseLock();
      return { complete: true, bytes: concatChunks(chunks, size) };
    }
    chunks.push(result.value);
    size += result.value.byteLength;
  }
  const rest = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const chunk = chunks.shift();
      if (chunk) return controller.enqueue(chunk);
      const result = await (pending ?? reader.read());
      pending = undefined;
      if (result.done) controller.close();
      else controller.enqueue(result.value);
    },
    cancel: (reason) => reader.cancel(reason),
    // A byte-sized queue lets the consumer (fetch's upload) run ahead: with
    // highWaterMark 0, each chunk was a separate round trip and a 1 GiB body
    // through retry took minutes of CPU instead of seconds.
  }, new ByteLengthQueuingStrategy({ highWaterMark: 1024 * 1024 }));
  return { complete: false, size, read: [...chunks], body: rest };
}
