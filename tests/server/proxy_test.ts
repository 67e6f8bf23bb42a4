import { equal, ok } from "node:assert/strict";
import { EventSourceParserStream } from "eventsource-parser/stream";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { closedPort, upstream } from "../_helpers/upstream.ts";

const GiB = 1024 ** 3;
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

/** Samples RSS while `work` runs; returns the peak growth in bytes. */
async function peakRssGrowth(work: () => Promise<void>): Promise<number> {
  const base = Deno.memoryUsage().rss;
  let peak = base;
  const timer = setInterval(() => {
    peak = Math.max(peak, Deno.memoryUsage().rss);
  }, 20);
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  return Math.max(peak, Deno.memoryUsage().rss) - base;
}

Deno.test("a 1 GiB upload and a 1 GiB download stream through with flat memory", async () => {
  await using up = await upstream("big", async (request) => {
    if (request.method === "POST") {
      let n = 0;
      for await (const chunk of request.body!) n += chunk.length;
      return new Response(String(n));
    }
    return new Response(zeros(GiB), { headers: { "content-length": String(GiB) } });
  });
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Host(`big.test`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const growth = await peakRssGrowth(async () => {
    const upload = await p.request("big.test", "/up", { method: "POST", body: zeros(GiB) });
    equal(await upload.text(), String(GiB));
    const download = await p.request("big.test", "/down");
    equal(download.headers.get("content-length"), String(GiB));
    let n = 0;
    for await (const chunk of download.body!) n += chunk.length;
    equal(n, GiB);
  });
  // Client, Pacer and upstream share this process: 2 GiB moved, memory stays flat.
  ok(growth < 160 * 1024 * 1024, `RSS grew by ${Math.round(growth / 1024 / 1024)} MiB`);
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

Deno.test("the upstream request is aborted when the client goes away", async () => {
  let upstreamAborted!: () => void;
  const aborted = new Promise<void>((r) => upstreamAborted = r);
  await using up = await upstream("hang", (request) =>
    new Promise<Response>((resolve) => {
      request.signal.addEventListener("abort", () => {
        upstreamAborted();
        resolve(new Response("gone"));
      });
    }));
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Host(`hang.test`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const client = new AbortController();
  const pending = p.request("hang.test", "/", { signal: client.signal }).catch((e) => e.name);
  while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
  client.abort();
  equal(await pending, "AbortError");
  await aborted; // the upstream saw its request cancelled
});
