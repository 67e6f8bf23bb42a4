// Traefik v3's matcher tables (pkg/muxer/http/matcher_test.go and mux_test.go
// TestMuxer), restated as data: which v3 rules are rejected, and which
// requests each accepted rule matches.
import assert from "node:assert/strict";
import { facts, fromURL, type MatcherCase, runTable } from "./_helpers.ts";
import { compileRule } from "../../src/router/mod.ts";

const byURL = (url: string) => fromURL(url);

Deno.test("v3 ClientIP matches IPs and CIDRs and rejects what Traefik rejects", () => {
  const cases: MatcherCase[] = [
    { desc: "invalid", rule: "ClientIP(`1`)", error: true },
    { desc: "no parameter", rule: "ClientIP()", error: true },
    { desc: "empty parameter", rule: "ClientIP(``)", error: true },
    { desc: "too many parameters", rule: "ClientIP(`127.0.0.1`, `192.168.1.0/24`)", error: true },
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
    {
      desc: "IPv6 CIDR and a peer with a port",
      rule: "ClientIP(`fd00::/8`)",
      expected: { "fd12::1": true, "[fd12::1]:4431": true, "fe80::1": false, "10.0.0.1": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", (ip) => facts({ clientIP: ip })), []);
});

Deno.test("v3 Method takes one method, upper-cases it and compares exactly", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Method()", error: true },
    { desc: "empty parameter", rule: "Method(``)", error: true },
    { desc: "too many parameters", rule: "Method(`GET`, `POST`)", error: true },
    { desc: "valid", rule: "Method(`GET`)", expected: { GET: true, POST: false, get: false } },
    { desc: "lower case", rule: "Method(`get`)", expected: { GET: true, POST: false, get: false } },
  ];
  assert.deepEqual(runTable(cases, "v3", (method) => facts({ method })), []);
});

Deno.test("v3 Host is case-insensitive, ignores the port and one trailing dot", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Host()", error: true },
    { desc: "empty parameter", rule: "Host(``)", error: true },
    { desc: "non-ASCII", rule: "Host(`🦭.com`)", error: true },
    { desc: "too many parameters", rule: "Host(`example.com`, `example.org`)", error: true },
    {
      desc: "valid",
      rule: "Host(`example.com`)",
      expected: {
        "https://example.com": true,
        "https://example.com:8080": true,
        "https://example.com/path": true,
        "https://EXAMPLE.COM/path": true,
        "https://example.org": false,
        "https://example.org/path": false,
      },
    },
    {
      desc: "matcher ending with a dot",
      rule: "Host(`example.com.`)",
      expected: {
        "https://example.com": true,
        "https://example.com/path": true,
        "https://example.org": false,
        "https://example.com.": true,
        "https://example.com./path": true,
        "https://example.org.": false,
        "https://example.org./path": false,
      },
    },
    {
      desc: "URL ending with a dot",
      rule: "Host(`example.com`)",
      expected: {
        "https://example.com.": true,
        "https://example.com./path": true,
        "https://example.org.": false,
      },
    },
    {
      desc: "matcher with UPPER case",
      rule: "Host(`EXAMPLE.COM`)",
      expected: { "https://example.com": true, "https://example.org": false },
    },
    {
      desc: "puny-coded emoji",
      rule: "Host(`xn--9t9h.com`)",
      expected: { "https://xn--9t9h.com/path": true, "https://example.com": false },
    },
    { desc: "IPv4", rule: "Host(`127.0.0.1`)", expected: { "http://127.0.0.1/foo": true } },
    { desc: "IPv6", rule: "Host(`10::10`)", expected: { "http://[10::10]/foo": true } },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
  // Traefik does not punycode the request host: a sender must. The URL parser
  // would, so the raw host is given directly here.
  assert.equal(compileRule("Host(`xn--9t9h.com`)").match(facts({ host: "🦭.com" })), false);
});

Deno.test("v3 HostRegexp is a Go regexp on the lower-cased host", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "HostRegexp()", error: true },
    { desc: "empty parameter", rule: "HostRegexp(``)", error: true },
    { desc: "non-ASCII", rule: "HostRegexp(`🦭.com`)", error: true },
    { desc: "invalid regexp", rule: "HostRegexp(`(example.com`)", error: true },
    { desc: "too many parameters", rule: "HostRegexp(`example.com`, `example.org`)", error: true },
    {
      desc: "valid",
      rule: "HostRegexp(`^[a-zA-Z-]+\\.com$`)",
      expected: {
        "https://example.com": true,
        "https://example.com:8080": true,
        "https://example.com/path": true,
        "https://example.org": false,
      },
    },
    {
      desc: "case sensitive regexp",
      rule: "HostRegexp(`^[A-Z]+\\.com$`)",
      expected: { "https://example.com": false, "https://EXAMPLE.com": false },
    },
    {
      // In v3 the braces are regexp text: a literal "{" never in a host.
      desc: "Traefik v2 syntax",
      rule: "HostRegexp(`{domain:[a-zA-Z-]+\\.com}`)",
      expected: { "https://example.com": false, "https://example.org/path": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

Deno.test("v3 Path compares the whole routing path", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Path()", error: true },
    { desc: "empty parameter", rule: "Path(``)", error: true },
    { desc: "no leading /", rule: "Path(`css`)", error: true },
    { desc: "too many parameters", rule: "Path(`/css`, `/js`)", error: true },
    {
      desc: "valid",
      rule: "Path(`/css`)",
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": true,
        "https://example.com/css": true,
        "https://example.com/css/": false,
        "https://example.com/css/main.css": false,
      },
    },
    {
      desc: "decoded unreserved characters",
      rule: "Path(`/foo bar`)",
      expected: { "https://example.com/foo%20bar": true, "https://example.com/foo%2520bar": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

Deno.test("v3 PathRegexp searches the routing path", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "PathRegexp()", error: true },
    { desc: "empty parameter", rule: "PathRegexp(``)", error: true },
    { desc: "invalid regexp", rule: "PathRegexp(`/(css`)", error: true },
    { desc: "too many parameters", rule: "PathRegexp(`/css`, `/js`)", error: true },
    {
      desc: "valid",
      rule: "PathRegexp(`^/(css|js)`)",
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": true,
        "https://example.com/CSS": false,
        "https://example.com/css": true,
        "https://example.com/css/": true,
        "https://example.com/css/main.css": true,
        "https://example.com/js": true,
        "https://example.com/js/main.js": true,
      },
    },
    {
      desc: "Traefik v2 syntax",
      rule: 'PathRegexp("/{path:(css|js)}")',
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": false,
        "https://example.com/{path:css}": true,
        "https://example.com/{path:css}/": true,
        "https://example.com/%7Bpath:css%7D": true,
        "https://example.com/%7Bpath:css%7D/": true,
        "https://example.com/{path:js}": true,
        "https://example.com/%7Bpath:js%7D/": true,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

Deno.test("v3 PathPrefix tests the start of the routing path", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "PathPrefix()", error: true },
    { desc: "empty parameter", rule: "PathPrefix(``)", error: true },
    { desc: "no leading /", rule: "PathPrefix(`css`)", error: true },
    { desc: "too many parameters", rule: "PathPrefix(`/css`, `/js`)", error: true },
    {
      desc: "valid",
      rule: 'PathPrefix("/css")',
      expected: {
        "https://example.com": false,
        "https://example.com/html": false,
        "https://example.org/css": true,
        "https://example.com/css": true,
        "https://example.com/css/": true,
        "https://example.com/css/main.css": true,
      },
    },
    {
      // Reserved characters stay encoded in the routing path.
      desc: "encoded slash is not a slash",
      rule: "PathPrefix(`/foo/`)",
      expected: { "https://example.com/foo%2Fbar": false, "https://example.com/foo/bar": true },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

// Go's tests also put non-canonical keys (`x-forwarded-proto`) straight into
// the header map, which never happens on the wire; fetch `Headers` are
// case-insensitive, so those rows are left out.
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
};
const byHeaders = (key: string) => facts({ headers: headerRequests[key]! });

Deno.test("v3 Header takes a name and a value and matches any value of the header", () => {
  const expected = {
    "https": true,
    "http,https": true,
    "https,http": true,
    "host only": false,
  };
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Header()", error: true },
    { desc: "missing value", rule: "Header(`X-Forwarded-Host`)", error: true },
    { desc: "empty value", rule: "Header(`X-Forwarded-Host`, ``)", error: true },
    { desc: "empty key", rule: "Header(``, `example.com`)", error: true },
    {
      desc: "too many parameters",
      rule: "Header(`X-Forwarded-Host`, `example.com`, `example.org`)",
      error: true,
    },
    { desc: "valid", rule: "Header(`X-Forwarded-Proto`, `https`)", expected },
    { desc: "non-canonical name", rule: "Header(`x-forwarded-proto`, `https`)", expected },
    // A name that is not an HTTP token is accepted and never matches.
    { desc: "invalid name", rule: "Header(`X Proto`, `https`)", expected: { https: false } },
  ];
  assert.deepEqual(runTable(cases, "v3", byHeaders), []);
});

Deno.test("v3 HeaderRegexp takes a name and a Go regexp", () => {
  const expected = {
    "http": true,
    "https": true,
    "HTTPS": false,
    "ws,https": true,
    "host only": false,
  };
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "HeaderRegexp()", error: true },
    { desc: "missing value", rule: "HeaderRegexp(`X-Forwarded-Host`)", error: true },
    { desc: "empty value", rule: "HeaderRegexp(`X-Forwarded-Host`, ``)", error: true },
    { desc: "empty key", rule: "HeaderRegexp(``, `example.com`)", error: true },
    {
      desc: "invalid regexp",
      rule: "HeaderRegexp(`X-Forwarded-Host`,`(example.com`)",
      error: true,
    },
    {
      desc: "too many parameters",
      rule: "HeaderRegexp(`X-Forwarded-Host`, `example.com`, `example.org`)",
      error: true,
    },
    { desc: "valid", rule: "HeaderRegexp(`X-Forwarded-Proto`, `^https?$`)", expected },
    { desc: "non-canonical", rule: "HeaderRegexp(`x-forwarded-proto`, `^https?$`)", expected },
    {
      desc: "Traefik v2 syntax",
      rule: "HeaderRegexp(`X-Forwarded-Proto`, `http{secure:s?}`)",
      expected: {
        "http": false,
        "https": false,
        "http{secure:}": true,
        "HTTP{secure:}": false,
        "http{secure:s}": true,
        "http{secure:S}": false,
        "HTTPS": false,
        "ws,http{secure:s}": true,
        "host only": false,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byHeaders), []);
});

Deno.test("v3 Query takes a key and an optional value and matches any value", () => {
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "Query()", error: true },
    { desc: "empty key, one parameter", rule: "Query(``)", error: true },
    { desc: "empty key", rule: "Query(``, `traefik`)", error: true },
    { desc: "empty value", rule: "Query(`q`, ``)", error: true },
    { desc: "too many parameters", rule: "Query(`q`, `traefik`, `proxy`)", error: true },
    {
      desc: "valid",
      rule: "Query(`q`, `traefik`)",
      expected: {
        "https://example.com": false,
        "https://example.com?q=traefik": true,
        "https://example.com?rel=ddg&q=traefik": true,
        "https://example.com?q=traefik&q=proxy": true,
        "https://example.com?q=awesome&q=traefik": true,
        "https://example.com?q=nginx": false,
        "https://example.com?rel=ddg": false,
        "https://example.com?q=TRAEFIK": false,
        "https://example.com?Q=traefik": false,
        "https://example.com?rel=traefik": false,
      },
    },
    {
      desc: "empty value",
      rule: "Query(`mobile`)",
      expected: {
        "https://example.com": false,
        "https://example.com?mobile": true,
        "https://example.com?mobile=true": false,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

Deno.test("v3 QueryRegexp takes a key and an optional Go regexp", () => {
  const traefikOrNginx = {
    "https://example.com": false,
    "https://example.com?q=traefik": true,
    "https://example.com?rel=ddg&q=traefik": true,
    "https://example.com?q=traefik&q=proxy": true,
    "https://example.com?q=awesome&q=traefik": true,
    "https://example.com?q=TRAEFIK": false,
    "https://example.com?Q=traefik": false,
    "https://example.com?rel=traefik": false,
    "https://example.com?q=nginx": true,
    "https://example.com?q=awesome&q=nginx": true,
    "https://example.com?q=NGINX": false,
    "https://example.com?q=haproxy": false,
    "https://example.com?rel=ddg": false,
  };
  const cases: MatcherCase[] = [
    { desc: "no parameter", rule: "QueryRegexp()", error: true },
    { desc: "empty parameter", rule: "QueryRegexp(``)", error: true },
    { desc: "invalid regexp", rule: "QueryRegexp(`q`, `(traefik`)", error: true },
    { desc: "too many parameters", rule: "QueryRegexp(`q`, `traefik`, `proxy`)", error: true },
    { desc: "valid", rule: "QueryRegexp(`q`, `^(traefik|nginx)$`)", expected: traefikOrNginx },
    {
      desc: "anything",
      rule: "QueryRegexp(`q`, `^.*$`)",
      expected: {
        "https://example.com": false,
        "https://example.com?q=TRAEFIK": true,
        "https://example.com?Q=traefik": false,
        "https://example.com?q=haproxy": true,
        "https://example.com?rel=ddg": false,
      },
    },
    {
      desc: "Traefik v2 syntax",
      rule: "QueryRegexp(`q`, `{value:(traefik|nginx)}`)",
      expected: {
        "https://example.com?q=traefik": false,
        "https://example.com?q={value:traefik}": true,
      },
    },
    {
      desc: "key only",
      rule: "QueryRegexp(`mobile`)",
      expected: { "https://example.com?mobile": true, "https://example.com?mobile=1": false },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});

Deno.test("v3 operators combine matchers as Traefik's TestMuxer pins down", () => {
  const cases: MatcherCase[] = [
    { desc: "no tree", rule: "", error: true },
    { desc: "no matcher", rule: "rulewithnotmatcher", error: true },
    { desc: "without quote", rule: "Host(example.com)", error: true },
    {
      desc: "Host and PathPrefix",
      rule: "Host(`localhost`) && PathPrefix(`/css`)",
      expected: { "https://localhost/css": true, "https://localhost/js": false },
    },
    {
      desc: "Host OR Host",
      rule: "Host(`example.com`) || Host(`example.org`)",
      expected: {
        "https://example.com/css": true,
        "https://example.org/js": true,
        "https://example.eu/html": false,
      },
    },
    {
      desc: "host OR (host AND path)",
      rule: 'Host("example.com") || (Host("example.org") && Path("/css"))',
      expected: {
        "https://example.com/css": true,
        "https://example.com/js": true,
        "https://example.org/css": true,
        "https://example.org/js": false,
        "https://example.eu/css": false,
      },
    },
    {
      desc: "host OR host AND path (&& binds tighter)",
      rule: 'Host("example.com") || Host("example.org") && Path("/css")',
      expected: {
        "https://example.com/css": true,
        "https://example.com/js": true,
        "https://example.org/css": true,
        "https://example.org/js": false,
        "https://example.eu/css": false,
      },
    },
    {
      desc: "(host OR host) AND path",
      rule: '(Host("example.com") || Host("example.org")) && Path("/css")',
      expected: {
        "https://example.com/css": true,
        "https://example.com/js": false,
        "https://example.org/css": true,
        "https://example.org/js": false,
        "https://example.eu/css": false,
      },
    },
    {
      desc: "(host AND path) OR (host AND path)",
      rule: '(Host("example.com") && Path("/js")) || ((Host("example.org")) && Path("/css"))',
      expected: {
        "https://example.com/css": false,
        "https://example.com/js": true,
        "https://example.org/css": true,
        "https://example.org/js": false,
        "https://example.eu/css": false,
      },
    },
    {
      desc: "case UPPER",
      rule: 'PATHPREFIX("/css")',
      expected: { "https://example.com/css": true, "https://example.com/js": false },
    },
    {
      desc: "case lower",
      rule: 'pathprefix("/css")',
      expected: { "https://example.com/css": true, "https://example.com/js": false },
    },
    {
      desc: "case Title",
      rule: 'Pathprefix("/css")',
      expected: { "https://example.com/css": true, "https://example.com/js": false },
    },
    {
      desc: "not",
      rule: '!Host("example.com")',
      expected: { "https://example.org": true, "https://example.com": false },
    },
    {
      desc: "not on or",
      rule: '!(Host("example.com") || Host("example.org"))',
      expected: {
        "https://example.eu/js": true,
        "https://example.com/css": false,
        "https://example.org/js": false,
      },
    },
    {
      desc: "not on and",
      rule: '!(Host("example.com") && Path("/css"))',
      expected: {
        "https://example.com/js": true,
        "https://example.eu/css": true,
        "https://example.com/css": false,
      },
    },
    {
      desc: "not on and with another not",
      rule: '!(Host("example.com") && !Path("/css"))',
      expected: {
        "https://example.com/css": true,
        "https://example.org/css": true,
        "https://example.com/js": false,
      },
    },
    {
      desc: "not on two rules",
      rule: '!Host("example.com") || !Path("/css")',
      expected: {
        "https://example.com/js": true,
        "https://example.org/css": true,
        "https://example.com/css": false,
      },
    },
    {
      desc: "double not",
      rule: '!(!(Host("example.com") && Pathprefix("/css")))',
      expected: {
        "https://example.com/css": true,
        "https://example.com/js": false,
        "https://example.org/css": false,
      },
    },
    {
      desc: "not domain",
      rule: '!Host("example.com") && Pathprefix("/css")',
      expected: {
        "https://example.org/css": true,
        "https://example.org/js": false,
        "https://example.com/css": false,
        "https://example.com/js": false,
      },
    },
  ];
  assert.deepEqual(runTable(cases, "v3", byURL), []);
});
