/**
 * A Pacer in front of an upstream that counts uploads and serves large
 * downloads, in a process of its own, so a test can measure Pacer's memory
 * without the test runner's heap. Prints `ready <port>` once routing.
 *
 * Usage: deno run --allow-net --allow-read --allow-env tests/server/_big_body_server.ts
 *
 * @module
 */
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";

const CHUNK = new Uint8Array(256 * 1024);
const up = await upstream("big", async (request) => {
  if (request.method === "POST") {
    let n = 0;
    for await (const chunk of request.body!) n += chunk.length;
    // How the body arrived: a sized upload must reach the upstream sized.
    const framing = request.headers.get("content-length") ??
      request.headers.get("transfer-encoding");
    return new Response(String(n), { headers: { "x-upload-framing": String(framing) } });
  }
  const total = Number(new URL(request.url).searchParams.get("bytes"));
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(CHUNK.length, total - sent);
      sent += n;
      controller.enqueue(CHUNK.subarray(0, n).slice());
    },
  });
  return new Response(body, { headers: { "content-length": String(total) } });
});
const p = await startPacer({
  config: {
    http: {
      routers: { r: { rule: "Host(`big.test`)", service: "s" } },
      services: { s: lbService([up.url]) },
    },
  },
});
console.log(`ready ${p.pacer.entryPoint("web").addr.port}`);
await new Promise<void>((resolve) => Deno.addSignalListener("SIGTERM", resolve));
await p[Symbol.asyncDispose]();
await up.close();
