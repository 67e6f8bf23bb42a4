/**
 * Benchmark upstream: `/small` answers 13 bytes, `/64k` answers 64 KiB.
 * A POST is read to its end and answered with its byte count; on `/paced`
 * the reader pauses 1 ms every 4 chunks, as a proxy's reader waits on its
 * upstream (`deno task bench:upload`).
 * Usage: deno run --allow-net bench/_upstream.ts <port>
 * @module
 */
const port = Number(Deno.args[0] ?? 0);
const small = new TextEncoder().encode("Hello, world!");
const big = new Uint8Array(64 * 1024).fill(97);

async function count(body: ReadableStream<Uint8Array>, paced: boolean): Promise<Response> {
  let bytes = 0;
  let chunks = 0;
  for await (const chunk of body) {
    bytes += chunk.length;
    if (paced && ++chunks % 4 === 0) await new Promise((r) => setTimeout(r, 1));
  }
  return new Response(String(bytes));
}

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: (a) => console.log(`listening ${a.port}`) },
  (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "POST") return count(req.body!, path === "/paced");
    return new Response(path === "/64k" ? big : small, {
      headers: { "content-type": "text/plain" },
    });
  },
);
