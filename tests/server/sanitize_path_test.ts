import { equal } from "node:assert/strict";
import { sanitizedUrl, sanitizePath } from "../../src/server/sanitize_path.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { rawGet, rawUpstream } from "../_helpers/raw_http.ts";

// Expected values are Go's `URL.JoinPath()` after Traefik's escape normalization.
const PATHS: [string, string][] = [
  ["/", "/"],
  ["/admin/x", "/admin/x"],
  ["//admin/x", "/admin/x"],
  ["/a//b///c", "/a/b/c"],
  ["/a/./b", "/a/b"],
  ["/a/b/.", "/a/b"],
  ["/a/b/./", "/a/b/"],
  ["/public/../admin", "/admin"],
  ["/a/b/..", "/a"],
  ["/a/b/../", "/a/"],
  ["/../../etc/passwd", "/etc/passwd"],
  ["/..", "/"],
  ["/.", "/"],
  ["/a/.hidden/..b", "/a/.hidden/..b"],
  ["/%2e%2e/admin", "/admin"],
  ["/%2E/admin", "/admin"],
  ["/%61dmin", "/admin"],
  ["/a%7eb%2Dc", "/a~b-c"],
  ["/a%2fb", "/a%2Fb"],
  ["/a%2F..%2Fb", "/a%2F..%2Fb"],
  ["/caf%c3%a9", "/caf%C3%A9"],
  ["/a/", "/a/"],
];

Deno.test("sanitizePath() decodes unreserved escapes and cleans dot segments and duplicate slashes, as Traefik", () => {
  for (const [path, expected] of PATHS) equal(sanitizePath(path), expected, path);
});

Deno.test("sanitizedUrl() rewrites only the path, and only when it changes", () => {
  equal(sanitizedUrl("http://a.test/x/../y?q=/../z#f"), "http://a.test/y?q=/../z#f");
  equal(sanitizedUrl("http://a.test//y?a=1"), "http://a.test/y?a=1");
  equal(sanitizedUrl("http://a.test:8080/%61"), "http://a.test:8080/a");
  equal(sanitizedUrl("http://a.test/clean/path?x=//"), undefined);
  equal(sanitizedUrl("http://a.test/a/.well-known"), undefined);
  equal(sanitizedUrl("http://a.test"), undefined);
});

for (const sanitize of [true, false]) {
  Deno.test(`sanitizePath ${sanitize ? "on (default)" : "off"}: routing and the upstream see ${sanitize ? "the cleaned" : "the raw"} path`, async () => {
    await using admin = rawUpstream("admin");
    await using site = rawUpstream("site");
    await using p = await startPacer({
      ...(sanitize ? {} : { web: { sanitizePath: false } }),
      config: {
        http: {
          routers: {
            admin: { rule: "Host(`s.test`) && PathPrefix(`/admin`)", service: "admin" },
            site: { rule: "Host(`s.test`)", service: "site" },
          },
          services: {
            admin: lbService([`http://127.0.0.1:${admin.addr.port}`]),
            site: lbService([`http://127.0.0.1:${site.addr.port}`]),
          },
        },
      },
    });
    const port = p.pacer.entryPoint("web").addr.port;
    const cases: [string, string, string][] = sanitize
      ? [
        ["//admin/x", "admin /admin/x", "a duplicate slash cannot dodge the admin router"],
        ["/public/../admin?q=1", "admin /admin?q=1", "a dot segment is resolved for both"],
        ["/%61dmin/", "admin /admin/", "an escaped unreserved character is decoded"],
        ["/a%2Fb", "site /a%2Fb", "an escaped slash stays escaped"],
        ["/plain", "site /plain", "a clean path passes as is"],
        // fetch() resolves `\` and dot segments in what it sends; the router must agree.
        ["/public\\..\\admin", "admin /admin", "backslashes are separators for both"],
      ]
      : [
        ["//admin/x", "site //admin/x", "off: the raw path, as Traefik with sanitizePath false"],
        // fetch() resolves dot segments in what it sends, so the router must see them resolved too.
        ["/x/../admin", "admin /admin", "off: router and upstream still agree on dot segments"],
      ];
    for (const [target, expected, why] of cases) {
      const [status, body] = await rawGet(port, target, "s.test");
      equal(status, 200, why);
      equal(body, expected, why);
    }
  });
}
