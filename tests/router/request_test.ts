// Request facts: host normalization and the routing path.
import assert from "node:assert/strict";
import { normalizeHost, requestFacts, routingPath } from "../../src/router/mod.ts";

Deno.test("requestFacts takes the host from the URL, lower-cased, without port or brackets", () => {
  const cases: [string, string][] = [
    ["https://Example.COM:8443/a", "example.com"],
    ["http://example.com./a", "example.com."],
    ["http://[::1]:8080/a", "::1"],
    ["http://[FD00::AB]/a", "fd00::ab"],
    ["http://127.0.0.1:80/a", "127.0.0.1"],
    ["http://xn--9t9h.com/", "xn--9t9h.com"],
  ];
  assert.deepEqual(
    cases.map(([url]) => requestFacts(new Request(url), "::1").host),
    cases.map(([, host]) => host),
  );
});

Deno.test("requestFacts keeps the path encoded and exposes method, headers, query, client IP", () => {
  const request = new Request("https://example.com/a%20b/%7Bx%7D?q=1&q=2", {
    method: "POST",
    headers: { "X-Test": "yes" },
  });
  const f = requestFacts(request, "192.0.2.7");
  assert.equal(f.path, "/a%20b/%7Bx%7D");
  assert.equal(f.method, "POST");
  assert.equal(f.headers.get("x-test"), "yes");
  assert.deepEqual(f.query.getAll("q"), ["1", "2"]);
  assert.equal(f.clientIP, "192.0.2.7");
});

Deno.test("normalizeHost repairs hosts the engine did not normalize", () => {
  const cases: [string, string][] = [
    ["example.com", "example.com"],
    ["EXAMPLE.com:8080", "example.com"],
    ["[::1]:443", "::1"],
    ["[::1]", "::1"],
    ["fe80::1", "fe80::1"],
    ["ÉXAMPLE.com", "éxample.com"],
    ["", ""],
  ];
  assert.deepEqual(cases.map(([h]) => normalizeHost(h)), cases.map(([, n]) => n));
});

Deno.test("routingPath decodes all but reserved escapes (Traefik's TestRoutingPath)", () => {
  const cases: [string, string][] = [
    ["/foo%20bar", "/foo bar"],
    ["/foo%2Fbar", "/foo%2Fbar"],
    ["/foo%20bar%2Fbaz%23qux", "/foo bar%2Fbaz%23qux"],
    ["/plain/path", "/plain/path"],
    ["/%7Bpath:css%7D", "/{path:css}"],
    ["/caf%C3%A9", "/café"],
    [
      "/%25%3A%3F%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%5B%5D",
      "/%25%3A%3F%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%5B%5D",
    ],
    // Traefik compares escapes to upper-case hex only, so lower-case ones
    // of reserved characters are decoded.
    ["/foo%2fbar", "/foo/bar"],
    ["/a%7e", "/a~"],
    // Traefik answers 400 to these; a rule keeps the `%` as text.
    ["/bad%zz", "/bad%zz"],
    ["/end%4", "/end%4"],
    ["/end%", "/end%"],
    // Invalid UTF-8 decodes to U+FFFD.
    ["/x%FFy", "/x\uFFFDy"],
  ];
  assert.deepEqual(cases.map(([p]) => routingPath(p)), cases.map(([, r]) => r));
});

Deno.test("routingPath returns its argument unchanged when there is nothing to decode", () => {
  const path = "/a/b/c";
  assert.equal(routingPath(path), path);
});
