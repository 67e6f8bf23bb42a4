import assert from "node:assert/strict";
import { concatChunks, readAtMost } from "../../src/util/body_head.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

/** A stream of `chunks`, recording whether it was cancelled. */
function source(
  chunks: Uint8Array[],
): { stream: ReadableStream<Uint8Array>; cancelled: () => boolean } {
  let cancelled = false;
  const queue = [...chunks];
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = queue.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
    cancel() {
      cancelled = true;
    },
  });
  return { stream, cancelled: () => cancelled };
}

async function all(stream: ReadableStream<Uint8Array>): Promise<number[]> {
  return [...new Uint8Array(await new Response(stream).arrayBuffer())];
}

Deno.test("concatChunks() joins chunks, returning a single chunk as is", () => {
  const one = bytes(1, 2);
  assert.equal(concatChunks([one]), one);
  assert.deepEqual([...concatChunks([bytes(1), bytes(2, 3), bytes()])], [1, 2, 3]);
  assert.deepEqual([...concatChunks([bytes(1), bytes(2)], 2)], [1, 2]);
  assert.equal(concatChunks([]).byteLength, 0);
});

Deno.test("readAtMost() returns a body that fits whole", async () => {
  const { stream } = source([bytes(1, 2), bytes(3)]);
  const head = await readAtMost(stream, 3);
  assert.ok(head.complete);
  assert.deepEqual([...head.bytes], [1, 2, 3]);
  assert.equal(stream.locked, false, "lock released");
  const empty = await readAtMost(source([]).stream, 0);
  assert.ok(empty.complete && empty.bytes.byteLength === 0);
});

Deno.test("readAtMost() stops past the limit and streams the whole body again", async () => {
  const { stream } = source([bytes(1, 2), bytes(3, 4), bytes(5)]);
  const head = await readAtMost(stream, 3);
  assert.ok(!head.complete);
  assert.equal(head.size, 4, "the chunk crossing the limit is read whole");
  assert.deepEqual(head.read.map((c) => [...c]), [[1, 2], [3, 4]], "the chunks read");
  assert.deepEqual(await all(head.body), [1, 2, 3, 4, 5]);
  const unlimited = await readAtMost(source([bytes(1), bytes(2)]).stream, Infinity);
  assert.ok(unlimited.complete && unlimited.bytes.byteLength === 2);
});

Deno.test("readAtMost() with a negative limit reads nothing", async () => {
  const { stream } = source([bytes(1)]);
  const head = await readAtMost(stream, -1);
  assert.ok(!head.complete);
  assert.equal(head.size, 0);
  assert.deepEqual(await all(head.body), [1]);
});

Deno.test("readAtMost() passes a cancel of the rest on to the source", async () => {
  const src = source([bytes(1, 2), bytes(3), bytes(4)]);
  const head = await readAtMost(src.stream, 1);
  assert.ok(!head.complete);
  await head.body.cancel();
  assert.equal(src.cancelled(), true);
});

Deno.test("readAtMost() with stopOnPause does not wait for a stream that pauses", async () => {
  let release!: () => void;
  const later = new Promise<void>((resolve) => (release = resolve));
  let sent = 0;
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent === 0) {
        sent++;
        controller.enqueue(bytes(1));
        return;
      }
      await later;
      if (sent === 1) {
        sent++;
        controller.enqueue(bytes(2));
      } else {
        controller.close();
      }
    },
  }, { highWaterMark: 0 });
  const head = await readAtMost(stream, 10, { stopOnPause: true });
  assert.ok(!head.complete);
  assert.equal(head.size, 1);
  release();
  // The read that was pending when it paused is not lost.
  assert.deepEqual(await all(head.body), [1, 2]);
});

Deno.test("readAtMost() with waitForFirstChunk waits for the first chunk, then stops on a pause", async () => {
  let release!: () => void;
  const later = new Promise<void>((resolve) => (release = resolve));
  const chunks = [bytes(1), bytes(2)];
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      // Each chunk comes only after a pause: the first after 20 ms, the second on release.
      if (chunks.length === 2) await new Promise((resolve) => setTimeout(resolve, 20));
      else if (chunks.length === 1) await later;
      const next = chunks.shift();
      if (next) controller.enqueue(next);
      else controller.close();
    },
  }, { highWaterMark: 0 });
  const head = await readAtMost(stream, 10, { stopOnPause: true, waitForFirstChunk: true });
  assert.ok(!head.complete);
  assert.equal(head.size, 1, "the slow first chunk was waited for, the second was not");
  assert.deepEqual(head.read.map((c) => [...c]), [[1]]);
  release();
  assert.deepEqual(await all(head.body), [1, 2]);
});
