import { equal, ok } from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { memoryLogger } from "../../src/log/logger.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { answerWhenAborted, closedPort, upstream } from "../_helpers/upstream.ts";
import { within } from "../_helpers/within.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/**
 * Chunked upload size. In Deno 2.9.6, Deno.serve buffers a chunked request
 * body that is read more slowly than it arrives, at a cost that grows with
 * the backlog (see `deno task bench:upload`), so the chunked upload is proven
 * at a size far above every buffer of Pacer's own (retry's 1 MiB replay
 * limit), and the 1 GiB upload is sized, as curl -T and browsers send files.
 */
const CHUNKED_UPLOAD = 64 * MiB;
const CHUNK = 256 * 1024;

/** A stream of `total` zero bytes in fresh chunks. */
function zeros(total: number): ReadableStream<Uint8Array> {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= total) return controller.close();
      const n = Math.min(CHUNK, total - sent);
      sent += n;
      controller.enqueue(new Uint8Array(n));
    },
  });
}

/**
 * POSTs `total` zero bytes with a Content-Length over a raw socket (fetch
 * sends every stream chunked) and returns the response's status line,
 * headers and body as one text.
 */
async function sizedUpload(port: number, host: string, total: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const head = `POST /up HTTP/1.1\r\nhost: ${host}\r\ncontent-length: ${total}\r\n` +
      "connection: close\r\n\r\n";
    await writeAll(conn, new TextEncoder().encode(head));
    const chunk = new Uint8Array(CHUNK);
    for (let sent = 0; sent < total; sent += CHUNK) {
      await writeAll(conn, chunk.subarray(0, Math.min(CHUNK, total - sent)));
    }
    const decoder = new TextDecoder();
    const buffer = new Uint8Array(16 * 1024);
    let text = "";
    for (let n; (n = await conn.read(buffer)) !== null;) {
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
    }
    return text;
  } finally {
    conn.close();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** Resident memory of a process in bytes, via `ps` (Deno needs --allow-all to read another process's /proc). */
async function rssOf(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
  })
    .output();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

Deno.test("uploads and downloads stream through; 1 GiB each way with flat memory", async () => {
  // Pacer and the upstream run in their own process, as in production, so the
  // measurement is Pacer's memory, not the test runner's.
  const server = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-read",
      "--allow-env",
      new URL("./_big_body_server.ts", import.meta.url).pathname,
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const first = (await lines.read()).value ?? "";
  const port = Number(/ready (\d+)/.exec(first)?.[1]);
  const client = Deno.createHttpClient({ allowHost: true });
  try {
    // Larger than retry's replay buffer: streamed once, every byte arrives.
    const chunked = await fetch(`http://127.0.0.1:${port}/up`, {
      method: "POST",
      body: zeros(CHUNKED_UPLOAD),
      headers: { host: "big.test" },
      client,
    });
    equal(chunked.headers.get("x-upload-framing"), "chunked");
    equal(await chunked.text(), String(CHUNKED_UPLOAD));

    const base = await rssOf(server.pid);
    let peak = base;
    const sampler = setInterval(async () => peak = Math.max(peak, await rssOf(server.pid)), 100);
    try {
      const sized = await sizedUpload(port, "big.test", GiB);
      ok(sized.startsWith("HTTP/1.1 200"), sized.slice(0, 200));
      // The upstream got a sized upload, not one re-framed as chunked.
      ok(sized.includes(`x-upload-framing: ${GiB}\r\n`), sized.slice(0, 400));
      equal(sized.slice(sized.indexOf("\r\n\r\n") + 4), String(GiB));

      const download = await fetch(`http://127.0.0.1:${port}/down?bytes=${GiB}`, {
        headers: { host: "big.test" },
        client,
      });
      equal(download.headers.get("content-length"), String(GiB));
      let n = 0;
      for await (const chunk of download.body!) n += chunk.length;
      equal(n, GiB);
    } finally {
      clearInterval(sampler);
    }
    const growth = Math.max(peak, await rssOf(server.pid)) - base;
    // 2 GiB went through Pacer; its memory grew by a small fraction of that.
    ok(growth < 96 * MiB, `Pacer's RSS grew by ${Math.round(growth / MiB)} MiB`);
  } finally {
    client.close();
    server.kill("SIGTERM");
    await server.status;
    await lines.cancel();
  }
});

Deno.test("a WebSocket is proxied both ways with its subprotocol", async () => {
  let upstreamClosed!: () => void;
  const upstreamDone = new Promise<void>((r) => upstreamClosed = r);
  await using up = await upstream("ws", (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request, { protocol: "echo.v1" });
    socket.onmessage = (e) => socket.send(typeof e.data === "string" ? `echo:${e.data}` : e.data);
    socket.onclose = () => upstreamClosed();
    return response;
  });
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "PathPrefix(`/ws`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const ws = new WebSocket(`${p.url().replace("http", "ws")}/ws`, ["echo.v1"]);
  const messages: string[] = [];
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  equal(ws.protocol, "echo.v1");
  const got = new Promise<void>((resolve) => {
    ws.onmessage = (e) => {
      messages.push(e.data);
      if (messages.length === 2) resolve();
    };
  });
  ws.send("hello");
  ws.send("again");
  await got;
  equal(messages.join(","), "echo:hello,echo:again");
  equal(up.seen[0]!.headers.get("x-forwarded-proto"), "ws");
  ws.close();
  await closed;
  await upstreamDone; // the close reached the upstream through Pacer
});

Deno.test("server-sent events arrive as the upstream sends them", async () => {
  let next!: () => void;
  await using up = await upstream("sse", () => {
    let i = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (i === 3) return controller.close();
        await new Promise<void>((r) => next = r);
        controller.enqueue(new TextEncoder().encode(`event: tick\ndata: ${i++}\n\n`));
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Path(`/events`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const res = await p.request("x.test", "/events");
  equal(res.headers.get("content-type"), "text/event-stream");
  const events = res.body!.pipeThrough(new TextDecoderStream()).pipeThrough(
    new EventSourceParserStream(),
  )
    .getReader();
  for (let i = 0; i < 3; i++) {
    await new Promise((r) => setTimeout(r, 5));
    next();
    const { value } = await events.read();
    equal(value?.event, "tick");
    equal(value?.data, String(i), "each event is delivered before the next is produced");
  }
  await events.cancel();
});

Deno.test("upstream failures map to 502 and 504 with short text bodies, logged with router, service and server", async () => {
  await using slow = await upstream("slow", async () => {
    await new Promise((r) => setTimeout(r, 500));
    return new Response("late");
  });
  const { log, records } = memoryLogger();
  const refusedUrl = `http://127.0.0.1:${closedPort()}`;
  await using p = await startPacer({
    log,
    config: {
      http: {
        routers: {
          refused: { rule: "Host(`refused.test`)", service: "refused" },
          slow: { rule: "Host(`slow.test`)", service: "slow" },
        },
        services: {
          refused: lbService([refusedUrl]),
          slow: lbService([slow.url], { serversTransport: "fast" }),
        },
        serversTransports: {
          fast: { forwardingTimeouts: { responseHeaderTimeout: "100ms", dialTimeout: "50ms" } },
        },
      },
    },
  });
  const refused = await p.request("refused.test");
  equal(refused.status, 502);
  equal(await refused.text(), "Bad Gateway");
  equal(
    refused.headers.get("x-pacer-upstream-error"),
    null,
    "the internal marker never leaves Pacer",
  );
  const timedOut = await p.request("slow.test");
  equal(timedOut.status, 504);
  equal(await timedOut.text(), "Gateway Timeout");
  const failed = records().filter((r) => r.msg === "Upstream request failed");
  const refusedLog = failed.find((r) => r.kind === "connect");
  equal(refusedLog?.level, "warn");
  equal(refusedLog?.router, "refused@file");
  equal(refusedLog?.service, "refused@file");
  equal(refusedLog?.server, refusedUrl);
  equal(refusedLog?.status, 502);
  ok(String(refusedLog?.error).includes("refused"), String(refusedLog?.error));
  const timeoutLog = failed.find((r) => r.kind === "timeout");
  equal(timeoutLog?.router, "slow@file");
  equal(timeoutLog?.server, slow.url);
  equal(timeoutLog?.status, 504);
  await new Promise((r) => setTimeout(r, 500));
});

for (
  const [name, init, middlewares] of [
    ["a GET", {}, []],
    // A retry attempt with a body and a rewritten request are built from the
    // client's request and must still see it leave (DerivedRequest).
    ["a POST with a body, replayed by retry", { method: "POST", body: "payload" }, []],
    ["a GET behind stripPrefix", {}, ["strip"]],
  ] as const
) {
  Deno.test(`the upstream request is aborted when the client goes away: ${name}`, async () => {
    let upstreamAborted!: () => void;
    const aborted = new Promise<void>((r) => upstreamAborted = r);
    await using up = await upstream("hang", answerWhenAborted(() => upstreamAborted()));
    await using p = await startPacer({
      config: {
        http: {
          routers: {
            r: { rule: "Host(`hang.test`)", service: "s", middlewares: [...middlewares] },
          },
          middlewares: { strip: { stripPrefix: { prefixes: ["/api"] } } },
          services: { s: lbService([up.url]) },
        },
      },
    });
    const client = new AbortController();
    const pending = p.request("hang.test", "/api/x", { ...init, signal: client.signal })
      .catch((e) => e.name);
    while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    client.abort();
    equal(await pending, "AbortError");
    equal(await within(aborted, 3_000, "not aborted"), undefined, "the upstream saw it cancelled");
  });
}

Deno.test("a WebSocket upgrades behind a rewriting middleware, for a client sending X-Forwarded-For", async () => {
  let upstreamClosed!: () => void;
  const upstreamDone = new Promise<void>((r) => upstreamClosed = r);
  await using up = await upstream("ws", (request) => {
    const { socket, response } = Deno.upgradeWebSocket(request);
    const path = new URL(request.url).pathname;
    socket.onopen = () => socket.send(`path ${path}`);
    socket.onclose = () => upstreamClosed();
    return response;
  });
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "PathPrefix(`/chat`)", service: "s", middlewares: ["strip"] } },
        middlewares: { strip: { stripPrefix: { prefixes: ["/chat"] } } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  // Deno's WebSocket client takes extra handshake headers (non-standard).
  const ws = new WebSocket(`${p.url().replace("http", "ws")}/chat/room`, {
    headers: { "x-forwarded-for": "6.6.6.6" },
  });
  const first = await new Promise<string>((resolve, reject) => {
    ws.onmessage = (e) => resolve(String(e.data));
    ws.onerror = () => reject(new Error("websocket failed"));
  });
  equal(first, "path /room");
  equal(up.seen[0]!.headers.get("x-forwarded-for"), "127.0.0.1", "the spoofed header was dropped");
  const closed = new Promise<void>((resolve) => ws.onclose = () => resolve());
  ws.close();
  await closed;
  await upstreamDone;
});
