/**
 * Benchmark upstream: `/small` answers 13 bytes, `/64k` answers 64 KiB.
 * Usage: deno run --allow-net bench/_upstream.ts <port>
 * @module
 */
const port = Number(Deno.args[0] ?? 0);
const small = new TextEncoder().encode("Hello, world!");
const big = new Uint8Array(64 * 1024).fill(97);
Deno.serve(
  { hostname: "127.0.0.1", port, onListen: (a) => console.log(`listening ${a.port}`) },
  (req) => {
    const path = new URL(req.url).pathname;
    return new Response(path === "/64k" ? big : small, {
      headers: { "content-type": "text/plain" },
    });
  },
);
