import { deepEqual, equal, ok } from "node:assert/strict";
import { memoryLogger } from "../../src/log/logger.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";
import { within } from "../_helpers/within.ts";

const READ_TIMEOUT_MS = 300;

/** One answer read off a raw socket: status, headers (lower-cased names), body. */
interface RawAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/**
 * Sends `head` and the first bytes of a body over a raw socket, then sends
 * nothing more (a client too slow to finish), and reads one answer.
 */
async function stalledUpload(port: number, declared: number, sent: string): Promise<RawAnswer> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = `POST /up HTTP/1.1\r\nhost: slow.test\r\ncontent-length: ${declared}\r\n\r\n`;
    await conn.write(new TextEncoder().encode(head + sent));
    const buffer = new Uint8Array(4096);
    let text = "";
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += new TextDecoder().decode(buffer.subarray(0, n));
      const end = text.indexOf("\r\n\r\n");
      if (end < 0) continue;
      const [statusLine, ...lines] = text.slice(0, end).split("\r\n");
      const headers = new Map(lines.map((l) => {
        const colon = l.indexOf(":");
        return [l.slice(0, colon).toLowerCase(), l.slice(colon + 1).trim()];
      }));
      const body = text.slice(end + 4);
      if (body.length < Number(headers.get("content-length") ?? 0)) continue;
      return { status: Number(statusLine!.split(" ")[1]), headers, body };
    }
    throw new Error(`connection closed before an answer: ${JSON.stringify(text)}`);
  } finally {
    conn.close();
  }
}

/** An upstream that reads each body to its end and records how that went. */
async function countingUpstream(outcomes: string[]) {
  return await upstream("count", async (request) => {
    try {
      outcomes.push(`read ${(await request.arrayBuffer()).byteLength}`);
    } catch (error) {
      outcomes.push(`failed: ${error}`);
    }
    return new Response("done");
  });
}

for (
  const [name, declared, middlewares] of [
    // Small enough for retry to buffer it for replay: retry reads it.
    ["a body retry buffers", 10, []],
    // Larger than retry's replay limit (1 MiB): streamed by the forwarder.
    ["a body streamed to the upstream", 2 * 1024 * 1024, []],
    // Read whole by a middleware before anything is forwarded.
    ["a body the buffering middleware reads", 2 * 1024 * 1024, ["buffer"]],
  ] as const
) {
  Deno.test(`readTimeout: a client too slow to send ${name} gets 408 and the upstream request is cut`, async () => {
    const outcomes: string[] = [];
    await using up = await countingUpstream(outcomes);
    const { log, records } = memoryLogger();
    // Two servers, so the passive health check could eject one: it must not.
    await using other = await countingUpstream([]);
    await using p = await startPacer({
      log,
      web: { readTimeoutMs: READ_TIMEOUT_MS },
      config: {
        http: {
          routers: {
            r: { rule: "Host(`slow.test`)", service: "s", middlewares: [...middlewares] },
          },
          middlewares: { buffer: { buffering: {} } },
          services: { s: lbService([up.url, other.url]) },
        },
      },
    });
    const started = performance.now();
    const answer = await stalledUpload(p.pacer.entryPoint("web").addr.port, declared, "ab");
    const waited = performance.now() - started;

    equal(answer.status, 408);
    equal(answer.body, "Request Timeout");
    equal(answer.headers.get("connection"), "close");
    equal(answer.headers.has("x-pacer-upstream-error"), false, "the internal marker stays inside");
    ok(waited >= READ_TIMEOUT_MS - 20, `answered after ${Math.round(waited)} ms`);
    ok(waited < READ_TIMEOUT_MS + 2_000, `answered after ${Math.round(waited)} ms`);
    ok(!outcomes.some((o) => o.startsWith("read")), `upstream: ${outcomes.join(", ")}`);
    // The client's fault: nothing at warn or error (no "middleware failed",
    // no server ejected by the passive health check).
    const loud = records().filter((r) => r.level === "warn" || r.level === "error");
    equal(loud.length, 0, JSON.stringify(loud));
    // Both servers still take requests.
    const after = await Promise.all([p.request("slow.test"), p.request("slow.test")]);
    equal(after.map((r) => r.status).join(","), "200,200");
    await Promise.all(after.map((r) => r.body?.cancel()));
  });
}

Deno.test("readTimeout: a body sent in time passes whole, and a body nobody reads leaves no timer", async () => {
  const outcomes: string[] = [];
  await using up = await countingUpstream(outcomes);
  await using p = await startPacer({
    web: { readTimeoutMs: 60_000 },
    config: {
      http: {
        routers: { r: { rule: "Host(`up.test`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const body = new Uint8Array(3 * 1024 * 1024).fill(7);
  const sent = await p.request("up.test", "/", { method: "POST", body });
  equal(sent.status, 200);
  await sent.body?.cancel();
  equal(outcomes.join(","), `read ${body.length}`);
  // No router: answered without reading the body. The deadline's 60 s timer
  // must stop with the exchange (the test's sanitizer fails on a leaked timer).
  const unrouted = await p.request("nowhere.test", "/", { method: "POST", body });
  equal(unrouted.status, 404);
  await unrouted.body?.cancel();
});

Deno.test("readTimeout: an upstream that answers before reading the body ends the exchange; nothing is left reading", async () => {
  const up = await upstream("early", () => new Response("too large", { status: 413 }));
  // Stopped by the test itself, within a bound.
  const p = await startPacer({
    web: { readTimeoutMs: 60_000 },
    config: {
      http: {
        routers: { r: { rule: "Host(`early.test`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  // Larger than retry's replay limit, so the forwarder streams it; sent in
  // pieces, so most of it is still to come when the upstream answers.
  let sent = 0;
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= 8 * 1024 * 1024) return controller.close();
      sent += 64 * 1024;
      await new Promise((r) => setTimeout(r, 1));
      controller.enqueue(new Uint8Array(64 * 1024));
    },
  });
  const answer = await within(
    p.request("early.test", "/", { method: "POST", body }).then(async (r) => ({
      status: r.status,
      text: await r.text(),
    })),
    5_000,
    "no answer within 5 s",
  );
  deepEqual(answer, { status: 413, text: "too large" });
  // Pacer stops, and the upstream's connection ends: nothing is left
  // sending or reading the client's body (the sanitizers also fail on a read
  // or timer that outlives the test).
  const stopping = Promise.resolve(p[Symbol.asyncDispose]()).then(() => "stopped");
  equal(await within(stopping, 5_000, "hung"), "stopped");
  equal(await within(up.close().then(() => "closed"), 5_000, "hung"), "closed");
});
