// Traefik v3's tables for the v2 syntax (pkg/muxer/http/matcher_v2_test.go,
// including Test_addRoute, copied there from Traefik v2), restated as data.
import assert from "node:assert/strict";
import { facts, fromURL, type MatcherCase, runTable } from "./_helpers.ts";
import { compileRule } from "../../src/router/mod.ts";

const byURL = (url: string) => fromURL(url);

Deno.test("v2 ClientIP takes one or more IPs and CIDRs", () => {
  const cases: MatcherCase[] = [
    { desc: "invalid", rule: "ClientIP(`1`)", error: true },
    { desc: "no parameter", rule: "ClientIP()", error: true },
    { desc: "empty parameter", rule: "ClientIP(``)", error: true },
    { desc: "one invalid among valid", rule: "ClientIP(`10.0.0.1`, `invalid`)", error: true },
    {
      desc: "many parameters",
      rule: "ClientIP(`127.0.0.1`, `192.168.1.0/24`)",
      expected: { "127.0.0.1": true, "192.168.1.1": true, "10.0.0.1": false },
    },
    {
      desc: "valid",
      rule: "ClientIP(`127.0.0.1`)",
      expected: { "127.0.0.1": true, "192.168.1.1": false },
    },
    { desc: "invalid remote address", rule: "ClientIP(`127.0.0.1`)", expected: { "1": false } },
    {
      desc: "CIDR",
      rule: "ClientIP(`192.168.1.0/24`)",
      expected: { "192.168.1.1": true, "192.168.1.100": true, "192.168.2.1": false },
    },
    // Test_addRoute's ClientIP rows.
    { desc: "not matching", rule: "ClientIP(`10.10.1.1`)", expected: { "10.0.0.0": false } },
    { desc: "not matching IPv6", rule: "ClientIP(`10::10`)", expected: { "::1": false } },
    { desc: "peer with a port", rule: "ClientIP(`10.0.0.0`)", expected: { "10.0.0.0:8456": true } },
    { desc: "IPv6", rule: "ClientIP(`10::10`)", expected: { "10::10": true } },
    {
      desc: "among several IPs",
      rule: "ClientIP(`10.0.0.1`, `10.0.0.0`)",
      expected: { "10.0.0.0": true },
    },
    { desc: "outside CIDR", rule: "ClientIP(`11.0.0.0/24`)", expected: { "10.0.0.0": false } },
    { desc: "outside IPv6 CIDR", rule: "ClientIP(`11::/16`)", expected: { "10::": false } },
    { desc: "in CIDR", rule: "ClientIP(`10.0.0.0/16`)", expected: { "10.0.0.0": true } },
    { desc: "in IPv6 CIDR", rule: "ClientIP(`10::/16`)", expected: { "10::10": true } },
    {
      desc: "among several CIDRs",
      rule: "ClientIP(`11.0.0.0/16`, `10.0.0.0/16`)",
      expected: { "10.0.0.0": true },
    },
    {
      desc: "CIDR and IP",
      rule: "ClientIP(`11.0.0.0/16`, `10.0.0.0`)",
      expected: { "10.0.0.0": true },
    },
    {
      desc: "IP and CIDR",
      rule: "ClientIP(`11.0.0.0`, `10.0.0.0/16`)",
      expected: { "10.0.0.0": true },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", (ip) => facts({ clientIP: ip })), []);
});

Deno.test("v2 Method takes one or more methods", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Method()", error: true },
    { desc: "empty parameter", rule: "Method(``)", error: true },
    {
      desc: "many parameters",
      rule: "Method(`GET`, `POST`)",
      expected: { GET: true, POST: true, PUT: false },
    },
    { desc: "valid", rule: "Method(`GET`)", expected: { GET: true, POST: false, get: false } },
    { desc: "lower case", rule: "Method(`get`)", expected: { GET: true, POST: false, get: false } },
  ];
  assert.deepEqual(runTable(cases, "v2", (method) => facts({ method })), []);
});

Deno.test("v2 Host and HostHeader take one or more hosts", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Host()", error: true },
    { desc: "empty parameter", rule: "Host(``)", error: true },
    { desc: "non-ASCII", rule: "Host(`🦭.com`)", error: true },
    { desc: "non-ASCII second host", rule: "Host(`a.com`, `locàlhost`)", error: true },
    {
      desc: "many parameters",
      rule: "Host(`example.com`, `example.org`)",
      expected: {
        "https://example.com": true,
        "https://example.com:8080": true,
        "https://EXAMPLE.COM/path": true,
        "https://example.org": true,
        "https://example.net": false,
      },
    },
    {
      desc: "valid",
      rule: "Host(`example.com`)",
      expected: {
        "https://example.com": true,
        "https://example.com:8080": true,
        "https://EXAMPLE.COM/path": true,
        "https://example.org": false,
      },
    },
    {
      desc: "matcher ending with a dot",
      rule: "Host(`example.com.`)",
      expected: {
        "https://example.com": true,
        "https://example.com.": true,
        "https://example.org.": false,
      },
    },
    {
      desc: "URL ending with a dot",
      rule: "Host(`example.com`)",
      expected: { "https://example.com./path": true, "https://example.org./path": false },
    },
    {
      desc: "UPPER case",
      rule: "Host(`EXAMPLE.COM`)",
      expected: { "https://example.com": true, "https://example.org": false },
    },
    {
      desc: "puny-coded emoji",
      rule: "Host(`xn--9t9h.com`)",
      expected: { "https://xn--9t9h.com": true, "https://example.com": false },
    },
    {
      desc: "HostHeader equals Host",
      rule: "HostHeader(`localhost`)",
      expected: { "http://localhost/foo": true, "http://bar/foo": false },
    },
    { desc: "IPv6", rule: "Host(`10::10`)", expected: { "http://[10::10]/foo": true } },
    {
      desc: "two hosts and a path",
      rule: "Host(`nope`,`localhost`) && PathPrefix(`/foo`)",
      expected: { "http://localhost/foo": true, "http://nope/foo": true },
    },
    {
      desc: "a comma inside one host is part of the host",
      rule: "Host(`nope,localhost`) && PathPrefix(`/bar`)",
      expected: { "http://localhost/foo": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
  assert.equal(compileRule("Host(`xn--9t9h.com`)", "v2").match(facts({ host: "🦭.com" })), false);
});

Deno.test("v2 HostRegexp takes mux host templates", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "HostRegexp()", error: true },
    { desc: "empty parameter", rule: "HostRegexp(``)", error: true },
    { desc: "non-ASCII", rule: "HostRegexp(`🦭.com`)", error: true },
    { desc: "unbalanced braces", rule: 'HostRegexp("{test")', error: true },
    { desc: "empty variable pattern", rule: "HostRegexp(`{sub:}.example.com`)", error: true },
    { desc: "empty variable name", rule: "HostRegexp(`{:[a-z]+}.example.com`)", error: true },
    { desc: "invalid variable regexp", rule: "HostRegexp(`{sub:(a}.example.com`)", error: true },
    {
      // Outside braces everything is literal text, so this never matches.
      desc: "invalid regexp is literal text",
      rule: "HostRegexp(`(example.com`)",
      expected: {
        "https://example.com": false,
        "https://example.com:8080": false,
        "https://example.org/path": false,
      },
    },
    {
      desc: "many parameters",
      rule: "HostRegexp(`example.com`, `example.org`)",
      expected: {
        "https://example.com": true,
        "https://example.com:8080": true,
        "https://example.org/path": true,
        "https://example.net": false,
      },
    },
    {
      desc: "case sensitive regexp is literal text",
      rule: "HostRegexp(`^[A-Z]+\\.com$`)",
      expected: { "https://example.com": false, "https://EXAMPLE.com": false },
    },
    {
      desc: "Traefik v2 syntax",
      rule: "HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)",
      expected: {
        "https://example.com": true,
        "https://example.com/path": true,
        "https://example.org": false,
      },
    },
    {
      desc: "default variable pattern stops at a dot",
      rule: "HostRegexp(`{sub}.example.com`)",
      expected: {
        "http://a.example.com": true,
        "http://a.b.example.com": false,
        "http://example.com": false,
      },
    },
    // TestHostRegexp.
    {
      desc: "capturing group",
      rule: "HostRegexp(`{subdomain:(foo\\.)?bar\\.com}`)",
      expected: {
        "http://foo.bar.com": true,
        "http://bar.com": true,
        "http://fooubar.com": false,
        "http://barucom": false,
        "http://barcom": false,
      },
    },
    {
      desc: "non capturing group",
      rule: "HostRegexp(`{subdomain:(?:foo\\.)?bar\\.com}`)",
      expected: {
        "http://foo.bar.com": true,
        "http://bar.com": true,
        "http://fooubar.com": false,
        "http://barucom": false,
      },
    },
    {
      desc: "regex insensitive",
      rule: "HostRegexp(`{dummy:[A-Za-z-]+\\.bar\\.com}`)",
      expected: { "http://FOO.bar.com": true, "http://foo.bar.com": true, "http://barcom": false },
    },
    {
      desc: "insensitive host",
      rule: "HostRegexp(`{dummy:[a-z-]+\\.bar\\.com}`)",
      expected: { "http://FOO.bar.com": true, "http://foo.bar.com": true, "http://barcom": false },
    },
    {
      desc: "insensitive host simple",
      rule: "HostRegexp(`foo.bar.com`)",
      expected: {
        "http://FOO.bar.com": true,
        "http://foo.bar.com": true,
        "http://fooubar.com": false,
      },
    },
    { desc: "non-ASCII (Test_addRoute)", rule: "HostRegexp(`locàlhost`)", error: true },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
});

Deno.test("v2 Path takes mux path templates, anchored at both ends", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Path()", error: true },
    { desc: "empty parameter", rule: "Path(``)", error: true },
    { desc: "no leading /", rule: "Path(`css`)", error: true },
    { desc: "one empty among several", rule: 'Host("tchouk") && Path("", "/titi")', error: true },
    {
      desc: "many parameters",
      rule: "Path(`/css`, `/js`)",
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": true,
        "https://example.com/css": true,
        "https://example.com/css/": false,
        "https://example.com/css/main.css": false,
        "https://example.com/js": true,
        "https://example.com/js/main.js": false,
      },
    },
    {
      desc: "valid",
      rule: "Path(`/css`)",
      expected: {
        "https://example.com": false,
        "https://example.org/css": true,
        "https://example.com/css/": false,
      },
    },
    {
      desc: "with regexp",
      rule: "Path(`/css{path:(/.*)?}`)",
      expected: {
        "https://example.com": false,
        "https://example.com/css/main.css": true,
        "https://example.org/css/main.css": true,
        "https://example.com/css/components/component.css": true,
        "https://example.com/css.css": false,
        "https://example.com/js/main.js": false,
      },
    },
    {
      desc: "default variable pattern stops at a slash",
      rule: "Path(`/users/{id}`)",
      expected: {
        "https://example.com/users/42": true,
        "https://example.com/users/42/posts": false,
        "https://example.com/users/": false,
      },
    },
    {
      desc: "regexp characters outside braces are literal",
      rule: "Path(`/a.b`)",
      expected: { "https://example.com/a.b": true, "https://example.com/axb": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
});

Deno.test("v2 PathPrefix takes mux path templates, anchored at the start", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "PathPrefix()", error: true },
    { desc: "empty parameter", rule: "PathPrefix(``)", error: true },
    { desc: "no leading /", rule: "PathPrefix(`css`)", error: true },
    { desc: "unbalanced braces", rule: "PathPrefix(`/a{b`)", error: true },
    {
      desc: "many parameters",
      rule: "PathPrefix(`/css`, `/js`)",
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": true,
        "https://example.com/css": true,
        "https://example.com/css/": true,
        "https://example.com/css/main.css": true,
        "https://example.com/js/": true,
        "https://example.com/js/main.js": true,
      },
    },
    {
      desc: "valid",
      rule: 'PathPrefix("/css")',
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.com/css/main.css": true,
      },
    },
    {
      desc: "with regexp",
      rule: "PathPrefix(`/css-{name:[0-9]?}`)",
      expected: {
        "https://example.com": false,
        "https://example.com/css-1/main.css": true,
        "https://example.org/css-222/main.css": true,
        "https://example.com/css-333333/components/component.css": true,
        "https://example.com/css.css": false,
        "https://example.com/js/main.js": false,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
});

const headerRequests: Record<string, Record<string, string | string[]>> = {
  "https": { "X-Forwarded-Proto": "https" },
  "http,https": { "X-Forwarded-Proto": ["http", "https"] },
  "https,http": { "X-Forwarded-Proto": ["https", "http"] },
  "http": { "X-Forwarded-Proto": "http" },
  "HTTPS": { "X-Forwarded-Proto": "HTTPS" },
  "ws,https": { "X-Forwarded-Proto": ["ws", "https"] },
  "host only": { "X-Forwarded-Host": "example.com" },
  "http{secure:}": { "X-Forwarded-Proto": "http{secure:}" },
  "HTTP{secure:}": { "X-Forwarded-Proto": "HTTP{secure:}" },
  "http{secure:s}": { "X-Forwarded-Proto": "http{secure:s}" },
  "http{secure:S}": { "X-Forwarded-Proto": "http{secure:S}" },
  "ws,http{secure:s}": { "X-Forwarded-Proto": ["ws", "http{secure:s}"] },
  "json": { "Content-Type": "application/json" },
  "foo": { "Content-Type": "application/foo" },
  "text": { "Content-Type": "application/text" },
  "both": { "X-A": "1", "X-B": "2" },
  "a only": { "X-A": "1" },
};
const byHeaders = (key: string) => facts({ headers: headerRequests[key]! });

Deno.test("v2 Headers takes name/value pairs, all of which must match", () => {
  const expected = { "https": true, "http,https": true, "https,http": true, "host only": false };
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Headers()", error: true },
    { desc: "missing value", rule: "Headers(`X-Forwarded-Host`)", error: true },
    { desc: "empty value", rule: "Headers(`X-Forwarded-Host`, ``)", error: true },
    { desc: "empty key", rule: "Headers(``, `example.com`)", error: true },
    {
      desc: "odd number of parameters",
      rule: "Headers(`X-Forwarded-Host`, `example.com`, `example.org`)",
      error: true,
    },
    { desc: "one parameter (Test_addRoute)", rule: 'Headers("titi")', error: true },
    { desc: "valid", rule: "Headers(`X-Forwarded-Proto`, `https`)", expected },
    { desc: "non-canonical", rule: "Headers(`x-forwarded-proto`, `https`)", expected },
    {
      desc: "matching header",
      rule: "Headers(`Content-Type`,`application/json`)",
      expected: { json: true, foo: false },
    },
    {
      desc: "two pairs",
      rule: "Headers(`X-A`, `1`, `X-B`, `2`)",
      expected: { "both": true, "a only": false },
    },
    {
      // mux keeps pairs in a map keyed by the name as written: the last wins.
      desc: "repeated name keeps the last value",
      rule: "Headers(`X-A`, `0`, `X-A`, `1`)",
      expected: { "a only": true },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byHeaders), []);
});

Deno.test("v2 HeadersRegexp takes name/regexp pairs", () => {
  const expected = {
    "http": true,
    "https": true,
    "HTTPS": false,
    "ws,https": true,
    "host only": false,
  };
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "HeadersRegexp()", error: true },
    { desc: "missing value", rule: "HeadersRegexp(`X-Forwarded-Host`)", error: true },
    { desc: "empty value", rule: "HeadersRegexp(`X-Forwarded-Host`, ``)", error: true },
    { desc: "empty key", rule: "HeadersRegexp(``, `example.com`)", error: true },
    {
      desc: "invalid regexp",
      rule: "HeadersRegexp(`X-Forwarded-Host`,`(example.com`)",
      error: true,
    },
    {
      desc: "odd number of parameters",
      rule: "HeadersRegexp(`X-Forwarded-Host`, `example.com`, `example.org`)",
      error: true,
    },
    { desc: "valid", rule: "HeadersRegexp(`X-Forwarded-Proto`, `^https?$`)", expected },
    { desc: "non-canonical", rule: "HeadersRegexp(`x-forwarded-proto`, `^https?$`)", expected },
    {
      desc: "Traefik v2 syntax is regexp text",
      rule: "HeadersRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)",
      expected: {
        "http": false,
        "https": false,
        "http{secure:}": true,
        "HTTP{secure:}": false,
        "http{secure:s}": true,
        "http{secure:S}": false,
        "ws,http{secure:s}": true,
      },
    },
    {
      desc: "alternatives (Test_addRoute)",
      rule: "HeadersRegexp(`Content-Type`, `application/(text|json)`)",
      expected: { json: true, text: true, foo: false },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byHeaders), []);
});

Deno.test("v2 Query takes key=value templates and tests each key's first value", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Query()", error: true },
    { desc: "key without value", rule: 'Query("titi")', error: true },
    { desc: "bad template", rule: 'Query("titi={test")', error: true },
    { desc: "same variable twice", rule: "Query(`a={v}`, `b={v}`)", error: true },
    {
      desc: "multiple params",
      rule: "Query(`foo=bar`, `bar=baz`)",
      expected: {
        "http://localhost/foo?foo=bar&bar=baz": true,
        "http://localhost/foo?bar=baz": false,
      },
    },
    {
      desc: "multiple equals",
      rule: "Query(`foo=b=ar`)",
      expected: { "http://localhost/foo?foo=b=ar": true, "http://localhost/foo?foo=bar": false },
    },
    {
      desc: "empty value matches any value",
      rule: "Query(`foo=`)",
      expected: {
        "http://localhost/?foo": true,
        "http://localhost/?foo=x": true,
        "http://localhost/?bar=x": false,
      },
    },
    {
      desc: "variable",
      rule: "Query(`id={id:[0-9]+}`)",
      expected: {
        "http://localhost/?id=42": true,
        "http://localhost/?id=x42": false,
        "http://localhost/?id=42&id=x": true,
        // Only the first value of the key counts.
        "http://localhost/?id=x&id=42": false,
      },
    },
    {
      // Each argument is split at "=" and the pieces paired: `a`, `b` is `a=b`.
      desc: "pieces are paired across arguments",
      rule: "Query(`a`, `b`)",
      expected: { "http://localhost/?a=b": true, "http://localhost/?a=c": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
});

Deno.test("v2 operators combine matchers as Traefik's Test_addRoute pins down", () => {
  const cases: MatcherCase[] = [
    { desc: "no tree", rule: "", error: true },
    { desc: "no matcher", rule: "rulewithnotmatcher", error: true },
    { desc: "Host empty", rule: "Host(``)", error: true },
    { desc: "PathPrefix empty", rule: "PathPrefix(``)", error: true },
    { desc: "without quote", rule: "Host(tchouk)", error: true },
    { desc: "Path with error", rule: 'Path("titi")', error: true },
    { desc: "PathPrefix with error", rule: 'PathPrefix("titi")', error: true },
    { desc: "Path without args", rule: 'Host("tchouk") && Path()', error: true },
    { desc: "empty path", rule: 'Host("tchouk") && Path("")', error: true },
    { desc: "PathPrefix", rule: "PathPrefix(`/foo`)", expected: { "http://localhost/foo": true } },
    {
      desc: "wrong PathPrefix",
      rule: "PathPrefix(`/bar`)",
      expected: { "http://localhost/foo": false },
    },
    {
      desc: "Host with trailing period in rule",
      rule: "Host(`localhost.`)",
      expected: { "http://localhost/foo": true, "http://localhost./foo": true },
    },
    {
      desc: "Host and PathPrefix",
      rule: "Host(`localhost`) && PathPrefix(`/foo`)",
      expected: { "http://localhost/foo": true, "http://localhost/bar": false },
    },
    {
      desc: "Path AND Host",
      rule: 'Path("/a") && Host("plop")',
      expected: { "http://plop/a": true, "http://plopi/a": false },
    },
    {
      desc: "host OR (host AND path)",
      rule: 'Host("tchouk") || (Host("pouet") && Path("/powpow"))',
      expected: {
        "http://tchouk/toto": true,
        "http://tchouk/powpow": true,
        "http://pouet/powpow": true,
        "http://pouet/toto": false,
        "http://plopi/a": false,
      },
    },
    {
      desc: "host OR host AND path",
      rule: 'Host("tchouk") || Host("pouet") && Path("/powpow")',
      expected: {
        "http://tchouk/toto": true,
        "http://pouet/powpow": true,
        "http://pouet/toto": false,
      },
    },
    {
      desc: "(host OR host) AND path",
      rule: '(Host("tchouk") || Host("pouet")) && Path("/powpow")',
      expected: {
        "http://tchouk/toto": false,
        "http://tchouk/powpow": true,
        "http://pouet/powpow": true,
        "http://pouet/toto": false,
      },
    },
    {
      desc: "multiple host AND multiple path",
      rule: 'Host("tchouk","pouet") && Path("/powpow", "/titi")',
      expected: {
        "http://tchouk/toto": false,
        "http://tchouk/powpow": true,
        "http://pouet/powpow": true,
        "http://tchouk/titi": true,
        "http://pouet/titi": true,
        "http://plopi/a": false,
      },
    },
    {
      desc: "case UPPER",
      rule: '(HOST("tchouk") && PATHPREFIX("/titi"))',
      expected: { "http://tchouk/titi": true, "http://tchouk/powpow": false },
    },
    {
      desc: "case lower",
      rule: '(host("tchouk") && pathprefix("/titi"))',
      expected: { "http://tchouk/titi": true, "http://tchouk/powpow": false },
    },
    {
      desc: "case Title",
      rule: '(Host("tchouk") && Pathprefix("/titi"))',
      expected: { "http://tchouk/titi": true, "http://tchouk/powpow": false },
    },
    {
      desc: "not on multiple route with and another not",
      rule: '!(Host("tchouk") && !Path("/titi"))',
      expected: {
        "http://tchouk/titi": true,
        "http://toto/titi": true,
        "http://tchouk/toto": false,
      },
    },
    {
      desc: "double not",
      rule: '!(!(Host("tchouk") && Pathprefix("/titi")))',
      expected: {
        "http://tchouk/titi": true,
        "http://tchouk/powpow": false,
        "http://test/titi": false,
      },
    },
    {
      desc: "multiple host AND multiple path AND not",
      rule: '!(Host("tchouk","pouet") && Path("/powpow", "/titi"))',
      expected: {
        "http://tchouk/toto": true,
        "http://tchouk/powpow": false,
        "http://pouet/powpow": false,
        "http://tchouk/titi": false,
        "http://pouet/titi": false,
        "http://pouet/toto": true,
        "http://plopi/a": true,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v2", byURL), []);
});

Deno.test("v2 Method mismatch is a plain non-match (404), not 405", () => {
  // Traefik v2 answered 405 here through a mux quirk; v3's v2 syntax cannot.
  assert.equal(compileRule("Method(`POST`)", "v2").match(fromURL("http://localhost/foo")), false);
  assert.equal(
    compileRule("Method(`GET`,`POST`)", "v2").match(fromURL("http://localhost/foo")),
    true,
  );
});
