import { equal, match, ok } from "node:assert/strict";
import { Hono } from "hono";
import { editableHeaders, regexp, z } from "../../src/plugin/mod.ts";

Deno.test("editableHeaders() edits a mutable response in place", async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    editableHeaders(c).set("x-stamp", "1");
  });
  app.get("/", (c) => c.text("body", 201, { "x-kept": "yes" }));
  const res = await app.request("/");
  equal(res.status, 201);
  equal(res.headers.get("x-stamp"), "1");
  equal(res.headers.get("x-kept"), "yes");
  equal(res.headers.has("x-pacer-editable"), false, "the probe header is gone");
  equal(await res.text(), "body");
});

Deno.test("editableHeaders() copies a response whose headers are immutable", async () => {
  const app = new Hono();
  app.use(async (c, next) => {
    await next();
    editableHeaders(c).set("x-stamp", "1");
  });
  // Response.redirect() has immutable headers, as fetch() responses do.
  app.get("/", () => Response.redirect("http://example.test/next", 307));
  const res = await app.request("/");
  equal(res.status, 307);
  equal(res.headers.get("location"), "http://example.test/next");
  equal(res.headers.get("x-stamp"), "1");
});

Deno.test("regexp() accepts valid patterns and reports invalid ones as issues, not exceptions", () => {
  const schema = z.object({ match: regexp() });
  ok(schema.safeParse({ match: "^/api/(v1|v2)$" }).success);
  const bad = schema.safeParse({ match: "([" });
  ok(!bad.success);
  match(bad.error.issues[0]!.message, /^is not a valid regular expression: /);
  equal(bad.error.issues[0]!.path.join("."), "match");
  ok(!z.object({ m: regexp("u") }).safeParse({ m: "\\p{Nope}" }).success, "checked with its flags");
  ok(z.object({ m: regexp() }).safeParse({ m: "\\p{Nope}" }).success, "without u, \\p is literal");
});
