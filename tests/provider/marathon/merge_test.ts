/**
 * Merging app fragments (§12).
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { type Fragment, mergeFragments } from "../../../src/provider/marathon/merge.ts";

interface Parts {
  http?: Partial<Fragment["http"]>;
  tcp?: Partial<Fragment["tcp"]>;
  udp?: Partial<Fragment["udp"]>;
  tls?: Partial<Fragment["tls"]>;
  defaultRuleRouters?: string[];
}

function fragment(appId: string, parts: Parts): Fragment {
  return {
    appId,
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {}, ...parts.http },
    tcp: { routers: {}, services: {}, middlewares: {}, ...parts.tcp },
    udp: { routers: {}, services: {}, ...parts.udp },
    tls: { stores: {}, ...parts.tls },
    defaultRuleRouters: new Set(parts.defaultRuleRouters ?? []),
  };
}

const lb = (urls: string[], extra = {}) => ({
  loadBalancer: { passHostHeader: true, ...extra, servers: urls.map((url) => ({ url })) },
});

Deno.test("mergeFragments() merges servers of equal services in app-id order, skipping URLs already present", () => {
  const result = mergeFragments([
    fragment("/c", { http: { services: { s: lb(["http://a:1", "http://c:1"]) } } }),
    fragment("/a", { http: { services: { s: lb(["http://a:1"]) } } }),
    fragment("/b", { http: { services: { s: lb(["http://b:1", "http://b:1"]) } } }),
  ]);
  deepEqual(result.config.http!.services, {
    s: lb(["http://a:1", "http://b:1", "http://b:1", "http://c:1"]),
  });
  deepEqual(result.diagnostics, []);
});

Deno.test("mergeFragments() does not modify the fragments it merges", () => {
  const first = fragment("/a", { http: { services: { s: lb(["http://a:1"]) } } });
  mergeFragments([first, fragment("/b", { http: { services: { s: lb(["http://b:1"]) } } })]);
  deepEqual(first.http.services, { s: lb(["http://a:1"]) });
});

Deno.test("mergeFragments() merges TCP and UDP servers by address", () => {
  const tcp = (addresses: string[]) => ({
    loadBalancer: { terminationDelay: 100, servers: addresses.map((address) => ({ address })) },
  });
  const result = mergeFragments([
    fragment("/a", { tcp: { services: { t: tcp(["a:1"]) } } }),
    fragment("/b", { tcp: { services: { t: tcp(["a:1", "b:1"]) } } }),
  ]);
  deepEqual(result.config.tcp!.services, { t: tcp(["a:1", "b:1"]) });
});

Deno.test("mergeFragments() removes a service whose options differ, keeps routers pointing at it", () => {
  const router = { rule: "Host(`x`)", service: "s" };
  const result = mergeFragments([
    fragment("/a", {
      http: {
        services: { s: lb(["http://a:1"], { passHostHeader: false }) },
        routers: { r: router },
      },
    }),
    fragment("/b", { http: { services: { s: lb(["http://b:1"]) }, routers: { r: router } } }),
  ]);
  deepEqual(result.config.http!.services, {});
  deepEqual(result.config.http!.routers, { r: router });
  equal(result.diagnostics.length, 1);
  equal(result.diagnostics[0]!.item, "s");
  ok(result.diagnostics[0]!.message.includes("apps /a, /b"));
});

Deno.test("mergeFragments() requires routers to be equal, default-rule flag included", () => {
  const router = { rule: "Host(`x`)", service: "s" };
  const result = mergeFragments([
    fragment("/a", { http: { routers: { r: router } }, defaultRuleRouters: ["r"] }),
    fragment("/b", { http: { routers: { r: { ...router } } } }),
  ]);
  deepEqual(result.config.http!.routers, {});
  deepEqual(result.defaultRuleRouters, []);
  const same = mergeFragments([
    fragment("/a", { http: { routers: { r: router } }, defaultRuleRouters: ["r"] }),
    fragment("/b", { http: { routers: { r: { ...router } } }, defaultRuleRouters: ["r"] }),
  ]);
  deepEqual(same.config.http!.routers, { r: router });
  deepEqual(same.defaultRuleRouters, ["r"]);
});

Deno.test("mergeFragments() removes a name once conflicting, even if a third app agrees with the first", () => {
  const m = (amount: number) => ({ inFlightReq: { amount } });
  const result = mergeFragments([
    fragment("/a", { http: { middlewares: { m: m(1) } } }),
    fragment("/b", { http: { middlewares: { m: m(2) } } }),
    fragment("/c", { http: { middlewares: { m: m(1) } } }),
  ]);
  deepEqual(result.config.http!.middlewares, {});
  ok(result.diagnostics[0]!.message.includes("apps /a, /b, /c"));
});

Deno.test("mergeFragments() always allocates every map", () => {
  deepEqual(mergeFragments([]).config, {
    http: { routers: {}, services: {}, middlewares: {}, serversTransports: {} },
    tcp: { routers: {}, services: {}, middlewares: {} },
    udp: { routers: {}, services: {} },
    tls: { stores: {} },
  });
});

Deno.test("mergeFragments() handles object names such as __proto__ and constructor", () => {
  const routers: Record<string, unknown> = {};
  Object.defineProperty(routers, "__proto__", {
    value: { rule: "a", service: "s" },
    enumerable: true,
  });
  routers["constructor"] = { rule: "b", service: "s" };
  const result = mergeFragments([fragment("/a", { http: { routers } })]);
  ok(Object.hasOwn(result.config.http!.routers!, "__proto__"));
  deepEqual(Object.keys(result.config.http!.routers!).sort(), ["__proto__", "constructor"]);
});

const equalityCases: Array<[unknown, unknown, boolean]> = [
  [{ a: [1, { b: "x" }] }, { a: [1, { b: "x" }] }, true],
  [{ a: 1, b: 2 }, { b: 2, a: 1 }, true],
  [{ a: 1 }, { a: 1, b: undefined }, false],
  [[1, 2], [2, 1], false],
  [{ a: [] }, { a: {} }, false],
  [null, {}, false],
];
// Same-named objects merge only when deep-equal (isDeepStrictEqual, as the
// watcher compares configurations); otherwise both are removed.
for (const [a, b, expected] of equalityCases) {
  Deno.test(`deepEqual(${JSON.stringify(a)}, ${JSON.stringify(b)}) is ${expected}`, () => {
    const result = mergeFragments([
      fragment("/a", { http: { routers: { r: a } } }),
      fragment("/b", { http: { routers: { r: b } } }),
    ]);
    equal(result.diagnostics.length === 0, expected);
    equal(Object.hasOwn(result.config.http!.routers!, "r"), expected);
  });
}
