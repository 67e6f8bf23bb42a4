import { deepEqual, equal } from "node:assert/strict";
import { createHash } from "node:crypto";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { detectContentType } from "../../src/middleware/content_type/_sniff.ts";
import contentTypePlugin, { contentTypeConfig } from "../../src/middleware/content_type/mod.ts";
import { failureOf } from "../../src/service/forward.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";
import { createFromRaw, middlewaresFromLabels, testContext } from "./_ctx.ts";

/** The bytes of a binary string (each character one byte). */
function bin(text: string): Uint8Array {
  return Uint8Array.from(text, (ch) => ch.charCodeAt(0));
}

Deno.test("detectContentType follows the MIME sniffing table, in Go's order", () => {
  const html = "text/html; charset=utf-8";
  const text = "text/plain; charset=utf-8";
  const cases: [string, string, string][] = [
    ["nothing is text", "", text],
    ["binary bytes", "\x01\x02\x03", "application/octet-stream"],
    ["tags in any case", "<HtMl><bOdY>hello</body></html>", html],
    ["a doctype after whitespace", " \t\r\n\x0c<!DOCTYPE html><p>x", html],
    ["a tag ended by a space", "<p class=x>", html],
    ["a comment", "<!-- x -->", html],
    ["a tag ended by neither space nor >", "<pre>x</pre>", text],
    ["a tag cut short", "<html", text],
    ["XML after whitespace", "\n<?xml version='1.0'?>", "text/xml; charset=utf-8"],
    ["PDF", "%PDF-1.7\n", "application/pdf"],
    ["PostScript", "%!PS-Adobe-3.0", "application/postscript"],
    ["UTF-16BE mark", "\xfe\xff\0h", "text/plain; charset=utf-16be"],
    ["UTF-16LE mark", "\xff\xfeh\0", "text/plain; charset=utf-16le"],
    ["UTF-8 mark", "\xef\xbb\xbfhi", text],
    ["icon", "\0\0\x01\0\x01\0", "image/x-icon"],
    ["cursor", "\0\0\x02\0\x01\0", "image/x-icon"],
    ["BMP", "BM\x1e\0", "image/bmp"],
    ["GIF 87a", "GIF87a\x01\0", "image/gif"],
    ["GIF 89a", "GIF89a\x01\0", "image/gif"],
    ["WebP", "RIFF\x24\0\0\0WEBPVP8 ", "image/webp"],
    ["PNG", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image/png"],
    ["JPEG", "\xff\xd8\xff\xe0\0\x10JFIF", "image/jpeg"],
    ["AIFF", "FORM\0\x26\0\0AIFFCOMM", "audio/aiff"],
    ["MP3 with ID3", "ID3\x03\0\0\0\0\x0f", "audio/mpeg"],
    ["Ogg", "OggS\0\x02", "application/ogg"],
    ["MIDI", "MThd\0\0\0\x06\0\x01", "audio/midi"],
    ["AVI", "RIFF\0\0\0\0AVI LIST", "video/avi"],
    ["WAVE", "RIFF\x24\0\0\0WAVEfmt ", "audio/wave"],
    ["MP4", "\0\0\0\x18ftypmp42\0\0\0\0mp42isom", "video/mp4"],
    ["an ftyp box without an mp4 brand", "\0\0\0\x10ftypqt  \0\0\0\0", "application/octet-stream"],
    ["WebM", "\x1a\x45\xdf\xa3\x01", "video/webm"],
    ["EOT", "\x01".repeat(34) + "LP", "application/vnd.ms-fontobject"],
    ["TrueType", "\0\x01\0\0\0\x0f", "font/ttf"],
    ["OpenType", "OTTO\0\x0f", "font/otf"],
    ["font collection", "ttcf\0\x01", "font/collection"],
    ["WOFF", "wOFF\0\x01", "font/woff"],
    ["WOFF2", "wOF2\0\x01", "font/woff2"],
    ["gzip", "\x1f\x8b\x08\0", "application/x-gzip"],
    ["zip", "PK\x03\x04\x14", "application/zip"],
    ["RAR 4", "Rar!\x1a\x07\0\xcf", "application/x-rar-compressed"],
    ["RAR 5", "Rar!\x1a\x07\x01\0", "application/x-rar-compressed"],
    ["WebAssembly", "\0asm\x01\0\0\0", "application/wasm"],
    ["ESC is not binary", "a\x1bb", text],
    ["a binary byte past 512 bytes is not looked at", "a".repeat(512) + "\x01", text],
  ];
  for (const [name, data, expected] of cases) {
    equal(detectContentType(bin(data)), expected, name);
  }
});

/** A Hono app with the middleware built from `raw` in front of `answer`. */
async function detecting(raw: unknown, answer: () => Response): Promise<Hono> {
  const hono = new Hono();
  hono.use(await createFromRaw(contentTypePlugin, raw));
  hono.all("*", () => answer());
  return hono;
}

/** Status, Content-Type and body text of `answer` through the middleware. */
async function through(
  raw: unknown,
  answer: () => Response,
  method = "GET",
): Promise<[number, string | null, string]> {
  const hono = await detecting(raw, answer);
  const res = await hono.request("http://e.test/", { method }, pacerEnv("10.0.0.1"));
  return [res.status, res.headers.get("content-type"), await res.text()];
}

/** A response without Content-Type (a byte body gets none from the constructor). */
function untyped(body: string | null, init: ResponseInit = {}): Response {
  return new Response(body === null ? null : new TextEncoder().encode(body), init);
}

Deno.test("contentType sets the type detected from the body when the upstream sent none", async () => {
  deepEqual(await through({}, () => untyped("<html><body>hi")), [
    200,
    "text/html; charset=utf-8",
    "<html><body>hi",
  ]);
  deepEqual(await through({}, () => untyped("plain words", { status: 404 })), [
    404,
    "text/plain; charset=utf-8",
    "plain words",
  ]);
});

Deno.test("contentType leaves responses alone where Go's server would not sniff", async () => {
  const html = "<html>";
  deepEqual(
    await through({}, () => untyped(html, { headers: { "content-type": "application/x-custom" } })),
    [200, "application/x-custom", html],
    "a type set by the upstream",
  );
  deepEqual(
    await through({}, () => untyped(html, { headers: { "content-encoding": "br" } })),
    [200, null, html],
    "an encoded body",
  );
  deepEqual(await through({}, () => untyped("")), [200, null, ""], "an empty body");
  deepEqual(await through({}, () => untyped(null, { status: 204 })), [204, null, ""], "204");
  deepEqual(await through({}, () => untyped(null, { status: 304 })), [304, null, ""], "304");
  deepEqual(await through({}, () => untyped(null), "HEAD"), [200, null, ""], "no body");
});

Deno.test("contentType with the deprecated autoDetect: false does nothing, and warns", async () => {
  deepEqual(await through({ autoDetect: false }, () => untyped("<html>")), [200, null, "<html>"]);
  deepEqual(await through({ autoDetect: true }, () => untyped("<html>")), [
    200,
    "text/html; charset=utf-8",
    "<html>",
  ]);
  const warnings: string[] = [];
  const ctx = testContext({
    log: { ...testContext().log, warn: (message: string) => void warnings.push(message) },
  });
  await createFromRaw(contentTypePlugin, { autoDetect: false }, ctx);
  await createFromRaw(contentTypePlugin, {}, ctx);
  equal(warnings.length, 1);
  equal(warnings[0]?.includes("autoDetect option is deprecated"), true, warnings[0]);
});

Deno.test("contentType refuses options Traefik does not have", () => {
  equal(contentTypeConfig.safeParse({ autodetect: true }).success, false);
  equal(contentTypeConfig.safeParse({ autoDetect: "yes" }).success, false);
});

Deno.test("contentType sniffs the first burst and does not wait for 512 bytes of a slow stream", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const encoder = new TextEncoder();
  const hono = await detecting({}, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(encoder.encode("<html "));
          await released;
          controller.enqueue(encoder.encode("lang=en>"));
          controller.close();
        },
      }),
    ));
  const res = await hono.request("http://e.test/", {}, pacerEnv("10.0.0.1"));
  // The headers came while the second chunk was still held back.
  equal(res.headers.get("content-type"), "text/html; charset=utf-8");
  release();
  equal(await res.text(), "<html lang=en>");
});

Deno.test("contentType waits for a first chunk that is slow to come", async () => {
  const hono = await detecting({}, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        async start(controller) {
          await new Promise((resolve) => setTimeout(resolve, 30));
          controller.enqueue(new TextEncoder().encode("GIF89a..."));
          controller.close();
        },
      }),
    ));
  const res = await hono.request("http://e.test/", {}, pacerEnv("10.0.0.1"));
  equal(res.headers.get("content-type"), "image/gif");
  equal(await res.text(), "GIF89a...");
});

Deno.test("contentType answers 502 when the body breaks off before anything was read", async () => {
  const hono = await detecting({}, () =>
    new Response(
      new ReadableStream<Uint8Array>({
        pull(controller) {
          controller.error(new Error("connection reset"));
        },
      }),
    ));
  const res = await hono.request("http://e.test/", {}, pacerEnv("10.0.0.1"));
  equal(res.status, 502);
  // Marked as Pacer's answer to an upstream failure: retry and circuitBreaker see it as one.
  equal(failureOf(res)?.kind, "reset");
  equal(await res.text(), "Bad Gateway");
});

Deno.test("contentType through Pacer: a large streamed body arrives whole, typed, with its length", async () => {
  const size = 4 * 1024 * 1024;
  const body = new Uint8Array(size);
  for (let i = 0; i < size; i++) body[i] = (i * 7) & 0xff; // binary from the first bytes
  const digest = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");
  await using up = await upstream(
    "up",
    (request) =>
      new URL(request.url).pathname === "/big"
        ? new Response(body, { headers: { "content-length": String(size) } })
        : new Response(new TextEncoder().encode("%PDF-1.4 ...")),
  );
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Host(`a.test`)", service: "s", middlewares: ["detect"] } },
        services: { s: lbService([up.url]) },
        middlewares: { detect: { contentType: {} } },
      },
    },
  });
  const big = await p.request("a.test", "/big");
  equal(big.status, 200);
  equal(big.headers.get("content-type"), "application/octet-stream");
  equal(big.headers.get("content-length"), String(size));
  equal(digest(new Uint8Array(await big.arrayBuffer())), digest(body));
  const pdf = await p.request("a.test", "/doc");
  equal(pdf.headers.get("content-type"), "application/pdf");
  equal(await pdf.text(), "%PDF-1.4 ...");
});

Deno.test("contentType comes from Marathon labels as Traefik writes it (contenttype=true)", () => {
  const middlewares = middlewaresFromLabels({
    "traefik.http.middlewares.autodetect.contenttype": "true",
    "traefik.http.middlewares.legacy.contenttype.autodetect": "false",
  });
  deepEqual(middlewares.autodetect, { contentType: {} });
  deepEqual(middlewares.legacy, { contentType: { autoDetect: false } });
});
