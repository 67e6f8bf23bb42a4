import { equal, ok } from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { closedPort, upstream } from "../_helpers/upstream.ts";
import { within } from "../_helpers/within.ts";

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;
/**
 * Upload size. In Deno 2.9.6 a server request body piped into a fetch upload
 * sometimes slows down superlinearly and buffers inside Deno (192 MiB: 1.5 s
 * to 18 s from run to run, even through a five-line proxy), so uploads are
 * proven at a size far above every buffer of Pacer's own (retry's 1 MiB
 * replay limit) and memory is measured on the 1 GiB download.
 */
const UPLOAD = 64 * MiB;
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

/** Resident memory of a process in bytes, via `ps` (Deno needs --allow-all to read another process's /proc). */
async function rssOf(pid: number): Promise<number> {
  const out = await new Deno.Command("ps", {
    args: ["-o", "rss=", "-p", String(pid)],
    stdout: "piped",
  })
    .output();
  return Number(new TextDecoder().decode(out.stdout).trim()) * 1024;
}

Deno.test("a 64 MiB upload streams through, and a 1 GiB download with flat memory", async () => {
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
    const upload = await fetch(`http://127.0.0.1:${port}/up`, {
      method: "POST",
      body: zeros(UPLOAD),
      headers: { host: "big.test" },
      client,
    });
    equal(await upload.text(), String(UPLOAD));

    const base = await rssOf(server.pid);
    let peak = base;
    const sampler = setInterval(async () => peak = Math.max(peak, await rssOf(server.pid)), 100);
    try {
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
    // 1 GiB went through Pacer; its memory grew by a small fraction of that.
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

Deno.test("upstream failures map to 502 and 504 with short text bodies", async () => {
  await using slow = await upstream("slow", async () => {
    await new Promise((r) => setTimeout(r, 500));
    return new Response("late");
  });
  await using p = await startPacer({
    config: {
      http: {
        routers: {
          refused: { rule: "Host(`refused.test`)", service: "refused" },
          slow: { rule: "Host(`slow.test`)", service: "slow" },
        },
        services: {
          refused: lbService([`http://127.0.0.1:${closedPort()}`]),
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
    await using up = await upstream("hang", (request) =>
      new Promise<Response>((resolve) => {
        const giveUp = setTimeout(() => resolve(new Response("never aborted")), 3_000);
        request.signal.addEventListener("abort", () => {
          clearTimeout(giveUp);
          upstreamAborted();
          resolve(new Response("gone"));
        });
      }));
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
