import assert from "node:assert/strict";
import { DerivedRequest, derivedRequest } from "../../src/util/derived_request.ts";

Deno.test("DerivedRequest takes URL, method, headers and body from its init, and its signal from the original", async () => {
  const client = new AbortController();
  const original = new Request("http://a.test/old", { signal: client.signal });
  const derived = new DerivedRequest("http://a.test/new", {
    method: "POST",
    headers: [["x-a", "1"]],
    body: "payload",
  }, original);
  assert.equal(derived.url, "http://a.test/new");
  assert.equal(derived.method, "POST");
  assert.equal(derived.headers.get("x-a"), "1");
  assert.equal(await derived.text(), "payload");
  assert.equal(derived.signal, original.signal);
  assert.equal(derived.signal.aborted, false);
  client.abort();
  assert.equal(derived.signal.aborted, true);
});

Deno.test("a DerivedRequest of a DerivedRequest still follows the first request's signal", () => {
  const client = new AbortController();
  const first = new Request("http://a.test/", { signal: client.signal });
  const second = new DerivedRequest("http://a.test/2", {}, first);
  const third = new DerivedRequest("http://a.test/3", {}, second);
  assert.ok(third instanceof Request);
  client.abort(new Error("client went away"));
  assert.equal(third.signal.aborted, true);
  assert.equal((third.signal.reason as Error).message, "client went away");
});

Deno.test("derivedRequest() applies the change, keeps the rest, and follows the original's signal", async () => {
  for (const body of [null, "payload"]) {
    const client = new AbortController();
    const from = new Request("http://a.test/", {
      method: body === null ? "GET" : "POST",
      body,
      headers: { "x-a": "1" },
      redirect: "manual",
      signal: client.signal,
    });
    const derived = derivedRequest(from, { url: "http://a.test/new" });
    assert.equal(derived.url, "http://a.test/new");
    assert.equal(derived.method, from.method);
    assert.equal(derived.headers.get("x-a"), "1");
    assert.equal(derived.redirect, "manual");
    assert.equal(derived instanceof DerivedRequest, body === null, "lazy link only without a body");
    client.abort();
    assert.equal(derived.signal.aborted, true, `body ${body}`);
    assert.equal(await derived.text(), body ?? "");
  }
});

Deno.test("derivedRequest() replaces the headers, the method and the body when told", async () => {
  const from = new Request("http://a.test/", {
    method: "POST",
    body: "old",
    headers: { "x-a": "1" },
  });
  await from.arrayBuffer(); // consumed, as after buffering
  const derived = derivedRequest(from, { method: "PUT", headers: [["x-b", "2"]], body: "new" });
  assert.equal(derived.method, "PUT");
  assert.deepEqual([...derived.headers], [["content-type", "text/plain;charset=UTF-8"], [
    "x-b",
    "2",
  ]]);
  assert.equal(await derived.text(), "new");
  assert.equal(derivedRequest(from, { method: "GET", body: null }).body, null);
});
