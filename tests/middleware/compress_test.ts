import assert from "node:assert/strict";
import zlib from "node:zlib";
import { Hono } from "hono";
import type { Handler, MiddlewareHandler } from "hono";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin, { negotiateEncoding } from "../../src/middleware/compress/mod.ts";
import type { Encoding } from "../../src/middleware/compress/_encoders.ts";
import { createFromRaw } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ compress: raw });
}

function app(mw: MiddlewareHandler, handler: Handler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", handler);
  return app;
}

async function build(raw: unknown, handler: Handler): Promise<Hono> {
  return app(await createFromRaw(plugin, raw), handler);
}

const BIG = "Lorem ipsum dolor sit amet, consectetur adipiscing elit. ".repeat(60); // 3420 bytes

/** A final handler answering `body` with a Content-Length and `headers`. */
function fixed(body: string, headers: Record<string, string> = {}, status = 200): Handler {
  return () => {
    const bytes = new TextEncoder().encode(body);
    return new Response(bytes, {
      status,
      headers: {
        "content-type": "text/plain; charset=utf-8",
        "content-length": String(bytes.length),
        ...headers,
      },
    });
  };
}

/** A final handler streaming `parts` with no Content-Length. */
function streamed(parts: string[], type = "text/plain"): Handler {
  return () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (const part of parts) controller.enqueue(new TextEncoder().encode(part));
          controller.close();
        },
      }),
      { headers: { "content-type": type } },
    );
}

function decode(bytes: Uint8Array, encoding: string | null): string {
  const buf = Buffer.from(bytes);
  const out = encoding === "gzip"
    ? zlib.gunzipSync(buf)
    : encoding === "deflate"
    ? zlib.inflateSync(buf)
    : encoding === "br"
    ? zlib.brotliDecompressSync(buf)
    : encoding === "zstd"
    ? (zlib as unknown as { zstdDecompressSync(b: Buffer): Buffer }).zstdDecompressSync(buf)
    : buf;
  return new TextDecoder().decode(out);
}

async function body(res: Response): Promise<string> {
  return decode(new Uint8Array(await res.arrayBuffer()), res.headers.get("content-encoding"));
}

// Traefik's Test_getCompressionEncoding (with its encodings order gzip, br, zstd).
Deno.test("negotiateEncoding() follows weights, then the order of encodings", () => {
  const defaults: Encoding[] = ["gzip", "br", "zstd"];
  const cases: {
    desc: string;
    accept: string;
    encodings?: Encoding[];
    defaultEncoding?: Encoding;
    expected: string | undefined;
  }[] = [
    { desc: "Empty Accept-Encoding", accept: "", expected: undefined },
    { desc: "gzip > br (no weight)", accept: "gzip, br", expected: "gzip" },
    { desc: "gzip > br > zstd (no weight)", accept: "gzip, br, zstd", expected: "gzip" },
    { desc: "known compression encoding (no weight)", accept: "compress, gzip", expected: "gzip" },
    {
      desc: "unknown compression encoding (no weight), no encoding",
      accept: "compress, rar",
      expected: undefined,
    },
    { desc: "wildcard returns the default compression encoding", accept: "*", expected: "gzip" },
    {
      desc: "wildcard returns the custom default compression encoding",
      accept: "*",
      defaultEncoding: "br",
      expected: "br",
    },
    { desc: "follows weight", accept: "br;q=0.8, gzip;q=1.0, *;q=0.1", expected: "gzip" },
    {
      desc: "identity with higher weight is preferred",
      accept: "br;q=0.8, identity;q=1.0",
      expected: undefined,
    },
    {
      desc: "identity with equal weight is not preferred",
      accept: "br;q=0.8, identity;q=0.8",
      expected: "br",
    },
    {
      desc: "ignore unknown compression encoding",
      accept: "compress;q=1.0, gzip;q=0.5",
      expected: "gzip",
    },
    {
      desc: "fallback on non-zero compression encoding",
      accept: "compress;q=1.0, gzip, identity;q=0",
      expected: "gzip",
    },
    {
      desc: "not acceptable (identity)",
      accept: "compress;q=1.0, identity;q=0",
      expected: undefined,
    },
    { desc: "not acceptable (wildcard)", accept: "compress;q=1.0, *;q=0", expected: undefined },
    { desc: "non-zero is higher than 0", accept: "gzip, *;q=0", expected: "gzip" },
    {
      desc: "zstd forbidden, brotli first",
      accept: "zstd, gzip, br",
      encodings: ["br", "gzip"],
      expected: "br",
    },
    {
      desc: "follows weight, ignores forbidden encoding",
      accept: "br;q=0.8, gzip;q=1.0, *;q=0.1",
      encodings: ["zstd", "br"],
      expected: "br",
    },
    { desc: "mixed weight", accept: "gzip, br;q=0.9", encodings: ["gzip", "br"], expected: "gzip" },
    {
      desc: "Zero weights, no compression",
      accept: "br;q=0, gzip;q=0, zstd;q=0",
      expected: undefined,
    },
    {
      desc: "Zero weights, default encoding, no compression",
      accept: "br;q=0, gzip;q=0, zstd;q=0",
      defaultEncoding: "br",
      expected: undefined,
    },
    {
      desc: "Same weight, first supported encoding",
      accept: "br;q=1.0, gzip;q=1.0, zstd;q=1.0",
      expected: "gzip",
    },
    {
      desc: "Same weight, order has no effect",
      accept: "br;q=1.0, zstd;q=1.0, gzip;q=1.0",
      expected: "gzip",
    },
    {
      desc: "Same weight, defaultEncoding has no effect",
      accept: "br;q=1.0, zstd;q=1.0, gzip;q=1.0",
      defaultEncoding: "br",
      expected: "gzip",
    },
    {
      desc: "deflate (Pacer extension)",
      accept: "deflate",
      encodings: ["zstd", "deflate"],
      expected: "deflate",
    },
  ];
  for (const test of cases) {
    assert.equal(
      negotiateEncoding(test.accept, test.encodings ?? defaults, test.defaultEncoding ?? ""),
      test.expected,
      test.desc,
    );
  }
});

Deno.test("compress() compresses with every encoding, dropping Content-Length", async () => {
  for (const encoding of ["gzip", "br", "zstd", "deflate"] as const) {
    const a = await build({ encodings: [encoding] }, fixed(BIG, { "accept-ranges": "bytes" }));
    const res = await a.request("http://localhost/", { headers: { "Accept-Encoding": encoding } });
    assert.equal(res.status, 200, encoding);
    assert.equal(res.headers.get("content-encoding"), encoding);
    assert.equal(res.headers.get("content-length"), null, encoding);
    assert.equal(res.headers.get("accept-ranges"), null, encoding);
    assert.equal(res.headers.get("vary"), "Accept-Encoding", encoding);
    const bytes = new Uint8Array(await res.arrayBuffer());
    assert.ok(bytes.length < BIG.length / 4, `${encoding}: ${bytes.length} bytes`);
    assert.equal(decode(bytes, encoding), BIG, encoding);
  }
});

Deno.test("compress() prefers zstd, then br, then gzip by default", async () => {
  const a = await build({}, fixed(BIG));
  const res = await a.request("http://localhost/", {
    headers: { "Accept-Encoding": "gzip, br, zstd" },
  });
  assert.equal(res.headers.get("content-encoding"), "zstd");
  assert.equal(await body(res), BIG);
});

Deno.test("compress() leaves small responses alone", async () => {
  const small = "x".repeat(1023);
  const known = await build({}, fixed(small));
  const res = await known.request("http://localhost/", { headers: { "Accept-Encoding": "gzip" } });
  assert.equal(res.headers.get("content-encoding"), null);
  assert.equal(res.headers.get("content-length"), "1023");
  assert.equal(res.headers.get("vary"), "Accept-Encoding");
  assert.equal(await res.text(), small);

  // Without Content-Length: read to the end, sent as is with its length.
  const unknown = await build({}, streamed(["x".repeat(500), "y".repeat(500)]));
  const res2 = await unknown.request("http://localhost/", {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(res2.headers.get("content-encoding"), null);
  assert.equal(res2.headers.get("content-length"), "1000");
  assert.equal(await res2.text(), "x".repeat(500) + "y".repeat(500));

  const lowered = await build({ minResponseBodyBytes: 10 }, fixed("0123456789abcdef"));
  const res3 = await lowered.request("http://localhost/", {
    headers: { "Accept-Encoding": "gzip" },
  });
  assert.equal(res3.headers.get("content-encoding"), "gzip");
  assert.equal(await body(res3), "0123456789abcdef");
});

Deno.test("compress() compresses a large streamed response without Content-Length", async () => {
  const parts = Array.from({ length: 20 }, (_, i) => `part ${i} `.repeat(30));
  const a = await build({}, streamed(parts, "application/json"));
  const res = await a.request("http://localhost/", { headers: { "Accept-Encoding": "br" } });
  assert.equal(res.headers.get("content-encoding"), "br");
  assert.equal(await body(res), parts.join(""));
});

Deno.test("compress() streams: each chunk reaches the client before the body ends", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const handler: Handler = () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("first chunk;"));
          await released;
          controller.enqueue(new TextEncoder().encode("second chunk"));
          controller.close();
        },
      }),
      { headers: { "content-type": "application/x-ndjson" } },
    );
  const a = await build({}, handler);
  const res = await a.request("http://localhost/", { headers: { "Accept-Encoding": "gzip" } });
  assert.equal(res.headers.get("content-encoding"), "gzip");
  const reader = res.body!.pipeThrough(new DecompressionStream("gzip")).getReader();
  const first = await reader.read();
  assert.equal(new TextDecoder().decode(first.value), "first chunk;");
  release();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest += new TextDecoder().decode(r.value);
  }
  assert.equal(rest, "second chunk");
});

Deno.test("compress() never compresses what must not be", async () => {
  const cases: {
    desc: string;
    config?: Record<string, unknown>;
    handler: Handler;
    init?: RequestInit;
  }[] = [
    { desc: "already encoded", handler: fixed(BIG, { "content-encoding": "x-custom" }) },
    { desc: "Server-Sent Events", handler: streamed([BIG], "text/event-stream") },
    {
      desc: "Server-Sent Events even when included",
      config: { includedContentTypes: ["text/event-stream"] },
      handler: streamed([BIG], "text/event-stream"),
    },
    {
      desc: "excluded type (parameters ignored)",
      config: { excludedContentTypes: ["text/plain"] },
      handler: fixed(BIG),
    },
    {
      desc: "not an included type",
      config: { includedContentTypes: ["application/json"] },
      handler: fixed(BIG),
    },
    {
      desc: "included type with other parameters",
      config: { includedContentTypes: ["text/plain; charset=ascii"] },
      handler: fixed(BIG),
    },
    {
      desc: "gRPC request",
      handler: fixed(BIG),
      init: {
        method: "POST",
        body: "x",
        headers: { "content-type": "application/grpc", "accept-encoding": "gzip" },
      },
    },
    {
      desc: "HEAD request",
      handler: fixed(BIG),
      init: { method: "HEAD", headers: { "accept-encoding": "gzip" } },
    },
    { desc: "no Accept-Encoding", handler: fixed(BIG), init: { headers: {} } },
    {
      desc: "identity only",
      handler: fixed(BIG),
      init: { headers: { "accept-encoding": "identity" } },
    },
    { desc: "partial content", handler: fixed(BIG, { "content-range": "bytes 0-3419/9999" }, 206) },
    { desc: "unparsable content type", handler: fixed(BIG, { "content-type": "text/" }) },
  ];
  for (const test of cases) {
    const a = await build(test.config ?? {}, test.handler);
    const res = await a.request(
      "http://localhost/",
      test.init ?? { headers: { "accept-encoding": "gzip, br" } },
    );
    const expected = test.desc === "already encoded" ? "x-custom" : null;
    assert.equal(res.headers.get("content-encoding"), expected, test.desc);
    const text = await res.text();
    assert.equal(text, test.init?.method === "HEAD" ? "" : BIG, test.desc);
  }
});

Deno.test("compress() includes matching types, parameters compared when listed", async () => {
  const a = await build(
    { includedContentTypes: ["text/plain; charset=utf-8", "application/json"] },
    fixed(BIG),
  );
  const res = await a.request("http://localhost/", { headers: { "accept-encoding": "gzip" } });
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(await body(res), BIG);
});

Deno.test("compress() uses defaultEncoding without Accept-Encoding and for *", async () => {
  const a = await build({ defaultEncoding: "gzip" }, fixed(BIG));
  const none = await a.request("http://localhost/");
  assert.equal(none.headers.get("content-encoding"), "gzip");
  assert.equal(await body(none), BIG);
  const star = await a.request("http://localhost/", { headers: { "accept-encoding": "*" } });
  assert.equal(star.headers.get("content-encoding"), "gzip");
  await star.body?.cancel();
});

Deno.test("compress() adds Accept-Encoding to an existing Vary once", async () => {
  const a = await build({}, fixed(BIG, { vary: "Origin" }));
  const res = await a.request("http://localhost/", { headers: { "accept-encoding": "gzip" } });
  assert.equal(res.headers.get("vary"), "Origin, Accept-Encoding");
  await res.body?.cancel();
  const b = await build({}, fixed(BIG, { vary: "accept-encoding" }));
  const res2 = await b.request("http://localhost/", { headers: { "accept-encoding": "gzip" } });
  assert.equal(res2.headers.get("vary"), "accept-encoding");
  await res2.body?.cancel();
});

Deno.test("compress() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [
      { excludedContentTypes: ["text/html"], includedContentTypes: ["text/plain"] },
      /'compress\.includedContentTypes': excludedContentTypes and includedContentTypes options are mutually exclusive/,
    ],
    [
      { excludedContentTypes: ["not a type"] },
      /'compress\.excludedContentTypes\[0\]': 'not a type' is not a media type/,
    ],
    [
      { includedContentTypes: ["text/html; charset"] },
      /'compress\.includedContentTypes\[0\]': .*invalid parameter/,
    ],
    [{ encodings: ["lz4"] }, /'compress\.encodings\[0\]': must be one of zstd, br, gzip, deflate/],
    [{ encodings: [] }, /'compress\.encodings': at least one encoding must be specified/],
    [
      { encodings: ["gzip"], defaultEncoding: "br" },
      /'compress\.defaultEncoding': 'br' is not listed in encodings \(gzip\)/,
    ],
    [{ minResponseBodyBytes: -1 }, /'compress\.minResponseBodyBytes'/],
    [{ minResponseBodyBytes: "big" }, /'compress\.minResponseBodyBytes'/],
    [{ level: 9 }, /unknown option 'level'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
  assert.ok(resolve({}).ok, "compress needs no options");
});

Deno.test("compress() streams through a real server to fetch()", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const a = await build({}, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(new TextEncoder().encode("tick 1\n"));
          await released;
          controller.enqueue(new TextEncoder().encode("tick 2\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/plain" } },
    ));
  await using server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, a.fetch);
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/`, {
    headers: { "accept-encoding": "gzip" },
  });
  assert.equal(res.headers.get("content-encoding"), "gzip");
  assert.equal(res.headers.get("vary"), "Accept-Encoding");
  const reader = res.body!.getReader();
  const first = await reader.read(); // fetch() decodes gzip itself
  assert.equal(new TextDecoder().decode(first.value), "tick 1\n");
  release();
  let rest = "";
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest += new TextDecoder().decode(r.value);
  }
  assert.equal(rest, "tick 2\n");
});
