import assert from "node:assert/strict";
import { Hono } from "hono";
import {
  copyHeaders,
  headerPairs,
  type MiddlewareHandler,
  rewriteRequest,
} from "../../src/plugin/mod.ts";

/** An app that runs `middleware`, then echoes what the handler received. */
function echoApp(middleware: MiddlewareHandler): Hono {
  return new Hono().use(middleware).all("*", async (c) =>
    c.json({
      method: c.req.method,
      url: c.req.url,
      path: c.req.path,
      headers: headerPairs(c.req.raw.headers),
      body: await c.req.text(),
    }));
}

Deno.test("rewriteRequest() changes the URL, path, method and headers, and carries the body over", async () => {
  const app = echoApp(async (c, next) => {
    const headers = copyHeaders(c.req.raw.headers);
    headers.set("x-user", "ada");
    headers.delete("x-drop");
    rewriteRequest(c, { url: new URL("http://b.test/new/path?q=1"), headers, method: "PUT" });
    await next();
  });
  const res = await app.request("http://a.test/old", {
    method: "POST",
    headers: { "x-drop": "1", "x-keep": "2" },
    body: "payload",
  });
  assert.deepEqual(await res.json(), {
    method: "PUT",
    url: "http://b.test/new/path?q=1",
    path: "/new/path",
    headers: [["content-type", "text/plain;charset=UTF-8"], ["x-keep", "2"], ["x-user", "ada"]],
    body: "payload",
  });
});

Deno.test("rewriteRequest() takes name/value pairs, with append semantics for repeats", async () => {
  const app = echoApp(async (c, next) => {
    rewriteRequest(c, {
      url: "http://a.test/stripped",
      headers: [...headerPairs(c.req.raw.headers), ["x-forwarded-prefix", "/api"]],
    });
    await next();
  });
  const res = await app.request("http://a.test/api/stripped", {
    headers: { "x-forwarded-prefix": "/outer" },
  });
  const seen = await res.json();
  assert.equal(seen.path, "/stripped");
  assert.deepEqual(seen.headers, [["x-forwarded-prefix", "/outer, /api"]]);
});

Deno.test("rewriteRequest() without headers keeps them, and the new request follows the old one's signal", async () => {
  const client = new AbortController();
  let abortedAfterRewrite: boolean | undefined;
  const app = echoApp(async (c, next) => {
    const rewritten = rewriteRequest(c, { url: "http://a.test/other" });
    client.abort();
    abortedAfterRewrite = rewritten.signal.aborted;
    await next();
  });
  const res = await app.request(
    new Request("http://a.test/", { headers: { "x-a": "1" }, signal: client.signal }),
  );
  assert.deepEqual((await res.json()).headers, [["x-a", "1"]]);
  assert.equal(abortedAfterRewrite, true, "the client going away reaches the rewritten request");
});
