/**
 * The generic label decoder (paerser rules) and the provider labels
 * (Traefik v2.11 `label_test.go` `TestGetConfiguration`).
 */
import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { z } from "zod";
import {
  decodeLabels,
  LabelDecodeError,
  labelsToNode,
} from "../../../src/provider/marathon/labels.ts";
import {
  labelHooks,
  providerLabelSchema,
  routingLabelSchema,
} from "../../../src/provider/marathon/label_schema.ts";
import { testRegistry } from "./_builders.ts";

const routing = routingLabelSchema(testRegistry());
const FILTERS = ["traefik.http", "traefik.tcp", "traefik.udp", "traefik.tls.stores.default"];

function decode(labels: Record<string, string>): unknown {
  return decodeLabels(labels, routing, { root: "traefik", filters: FILTERS, ...labelHooks });
}

function provider(labels: Record<string, string>): unknown {
  return decodeLabels(labels, providerLabelSchema, {
    root: "traefik",
    filters: ["traefik.marathon.", "traefik.enable"],
  });
}

// Traefik's TestGetConfiguration, as decoded provider labels.
const providerCases: Array<[string, Record<string, string>, unknown]> = [
  ["empty labels", {}, undefined],
  ["label enable", { "traefik.enable": "true" }, { enable: true }],
  ["use ip address index (case-insensitive option)", { "traefik.marathon.IPAddressIdx": "4" }, {
    marathon: { ipAddressIdx: 4 },
  }],
  ["enable label false", { "traefik.enable": "false" }, { enable: false }],
  ["negative index", { "traefik.marathon.ipaddressidx": "-1" }, { marathon: { ipAddressIdx: -1 } }],
  ["other labels are not read", { "traefik.http.routers.a.rule": "x", "foo": "bar" }, undefined],
];
for (const [desc, labels, expected] of providerCases) {
  Deno.test(`provider labels: ${desc}`, () => {
    deepEqual(provider(labels), expected);
  });
}

const goBools: Array<[string, boolean]> = [
  ["1", true],
  ["t", true],
  ["T", true],
  ["TRUE", true],
  ["true", true],
  ["True", true],
  ["0", false],
  ["f", false],
  ["F", false],
  ["FALSE", false],
  ["false", false],
  ["False", false],
];
for (const [text, value] of goBools) {
  Deno.test(`labels: Go boolean ${JSON.stringify(text)} is ${value}`, () => {
    deepEqual(provider({ "traefik.enable": text }), { enable: value });
  });
}

for (const text of ["yes", "tRUE", "", " true", "2"]) {
  Deno.test(`labels: ${JSON.stringify(text)} is not a Go boolean`, () => {
    throws(() => provider({ "traefik.enable": text }), LabelDecodeError);
  });
}

Deno.test("labels: traefik.enable with sub-options and unknown marathon keys are errors", () => {
  throws(() => provider({ "traefik.enable.x": "true" }), /takes a value/);
  throws(() => provider({ "traefik.marathon.foo": "1" }), /unknown option 'foo'/);
  throws(() => provider({ "traefik.marathon.ipaddressidx": "0x1" }), /not an integer/);
});

Deno.test("labels: option names are case-insensitive, object names keep their case", () => {
  deepEqual(
    decode({
      "traefik.HTTP.Routers.MyRouter.RULE": "Host(`a`)",
      "traefik.http.services.MySvc.LoadBalancer.PassHostHeader": "false",
    }),
    {
      http: {
        routers: { MyRouter: { rule: "Host(`a`)" } },
        services: { MySvc: { loadBalancer: { passHostHeader: false } } },
      },
    },
  );
});

Deno.test("labels: names differing only by case collapse into the first in sorted order, last value wins", () => {
  // Sorted: "...routers.R.priority" < "...routers.r.rule" (uppercase first).
  deepEqual(
    decode({
      "traefik.http.routers.r.rule": "Host(`b`)",
      "traefik.http.routers.R.priority": "1",
      "traefik.http.routers.R.RULE": "Host(`a`)",
    }),
    { http: { routers: { R: { priority: 1, rule: "Host(`b`)" } } } },
  );
});

Deno.test("labels: lists are split on commas and trimmed; an empty list value leaves it unset", () => {
  deepEqual(decode({ "traefik.http.routers.r.entrypoints": " web ,websecure, " }), {
    http: { routers: { r: { entryPoints: ["web", "websecure", ""] } } },
  });
  deepEqual(
    decode({ "traefik.http.routers.r.entrypoints": "", "traefik.http.routers.r.rule": "x" }),
    {
      http: { routers: { r: { rule: "x" } } },
    },
  );
});

Deno.test("labels: indexed value-list items are ignored as in Traefik", () => {
  deepEqual(
    decode({ "traefik.http.routers.r.entrypoints[0]": "web", "traefik.http.routers.r.rule": "x" }),
    {
      http: { routers: { r: { rule: "x" } } },
    },
  );
});

Deno.test("labels: [n] indexes build lists of objects in sorted key order", () => {
  deepEqual(
    decode({
      "traefik.http.routers.r.tls.domains[1].main": "b.com",
      "traefik.http.routers.r.tls.domains[0].main": "a.com",
      "traefik.http.routers.r.tls.domains[0].sans": "x.a.com, y.a.com",
    }),
    {
      http: {
        routers: {
          r: {
            tls: { domains: [{ main: "a.com", sans: ["x.a.com", "y.a.com"] }, { main: "b.com" }] },
          },
        },
      },
    },
  );
});

const emptyable: Array<[string, string, unknown]> = [
  ["true creates router tls", "true", { tls: {} }],
  ["TRUE creates router tls", "TRUE", { tls: {} }],
  ["an empty value creates router tls", "", { tls: {} }],
  ["false disables router tls", "false", {}],
  ["any other value disables router tls", "1", {}],
];
for (const [desc, value, expected] of emptyable) {
  Deno.test(`labels: empty-able structure: ${desc}`, () => {
    deepEqual(decode({ "traefik.http.routers.r.tls": value }), {
      http: { routers: { r: expected } },
    });
  });
}

Deno.test("labels: a disabled structure still rejects unknown sub-options", () => {
  throws(
    () => decode({ "traefik.http.routers.r.tls": "false", "traefik.http.routers.r.tls.nope": "x" }),
    /nope/,
  );
  deepEqual(
    decode({ "traefik.http.routers.r.tls": "false", "traefik.http.routers.r.tls.options": "o" }),
    {
      http: { routers: { r: {} } },
    },
  );
});

Deno.test("labels: a structure that may not be empty needs sub-options", () => {
  throws(
    () => decode({ "traefik.http.services.s.loadbalancer.healthcheck": "true" }),
    /needs sub-options/,
  );
  throws(() => decode({ "traefik.http.routers": "x" }), /needs sub-options/);
  throws(() => decode({ "traefik.http.middlewares.m.basicauth": "true" }), /needs sub-options/);
});

Deno.test("labels: sticky cookie, TCP tls, proxyProtocol and compress may be empty", () => {
  deepEqual(
    decode({
      "traefik.http.services.s.loadbalancer.sticky.cookie": "",
      "traefik.tcp.routers.t.tls": "true",
      "traefik.tcp.services.t.loadbalancer.proxyprotocol": "true",
      "traefik.http.middlewares.c.compress": "true",
    }),
    {
      http: {
        services: { s: { loadBalancer: { passHostHeader: true, sticky: { cookie: {} } } } },
        middlewares: { c: { compress: {} } },
      },
      tcp: {
        routers: { t: { tls: {} } },
        services: { t: { loadBalancer: { terminationDelay: 100, proxyProtocol: { version: 2 } } } },
      },
    },
  );
});

Deno.test("labels: defaults of created objects are overridden by labels", () => {
  deepEqual(
    decode({
      "traefik.http.services.s.loadbalancer.passhostheader": "false",
      "traefik.http.services.s.loadbalancer.healthcheck.followredirects": "false",
      "traefik.http.services.s.loadbalancer.server.port": "80",
      "traefik.tcp.services.t.loadbalancer.proxyprotocol.version": "1",
    }),
    {
      http: {
        services: {
          s: {
            loadBalancer: {
              passHostHeader: false,
              healthCheck: { followRedirects: false },
              server: { scheme: "http", port: "80" },
            },
          },
        },
      },
      tcp: {
        services: { t: { loadBalancer: { terminationDelay: 100, proxyProtocol: { version: 1 } } } },
      },
    },
  );
});

const errors: Array<[string, Record<string, string>, RegExp]> = [
  [
    "unknown option",
    { "traefik.http.routers.r.foo": "x" },
    /label traefik\.http\.routers\.r\.foo: unknown option 'foo'/,
  ],
  ["empty segment", { "traefik.http..routers": "x" }, /empty segment/],
  ["leading bracket", { "traefik.http.routers.[0]": "x" }, /starts with '\['/],
  ["unbalanced bracket", { "traefik.http.routers.r]": "x" }, /unbalanced bracket/],
  [
    "root in the wrong case",
    { "TRAEFIK.http.routers.r.rule": "x" },
    /invalid label root 'TRAEFIK'/,
  ],
  ["integer", { "traefik.http.routers.r.priority": "1.5" }, /not an integer/],
  ["sub-option under a value", { "traefik.http.routers.r.rule.x": "y" }, /takes a value/],
  [
    "list of values with sub-options",
    { "traefik.http.routers.r.entrypoints.a.b": "y" },
    /list of values/,
  ],
  ["sub-option under a value inside a list of objects", {
    "traefik.http.routers.r.tls.domains[0].main.x": "y",
  }, /takes a value/],
  [
    "a filter-matching key outside the schema",
    { "traefik.httpx.routers.r.rule": "x" },
    /unknown option 'httpx'/,
  ],
];
for (const [desc, labels, pattern] of errors) {
  Deno.test(`labels: error: ${desc}`, () => {
    throws(() => decode(labels), pattern);
  });
}

Deno.test("labels: labels outside the filters are ignored, whatever their shape", () => {
  equal(decode({ "traefik.wrong.label": "x", "Traefik": "y", "a..b": "z" }), undefined);
});

Deno.test("labels: server url label is accepted and kept in the template (ignored by the builder)", () => {
  deepEqual(decode({ "traefik.http.services.s.loadbalancer.server.url": "http://x" }), {
    http: {
      services: {
        s: { loadBalancer: { passHostHeader: true, server: { scheme: "http", url: "http://x" } } },
      },
    },
  });
  throws(
    () => decode({ "traefik.http.services.s.loadbalancer.servers[0].url": "http://x" }),
    /unknown option 'servers'/,
  );
});

Deno.test("labels: any zod schema drives the decoder (unions, records, floats, raw values, metadata)", () => {
  const schema = z.object({
    x: z.object({
      d: z.union([z.number(), z.string()]),
      f: z.number(),
      n: z.union([z.object({ a: z.string() }), z.object({ b: z.int() })]),
      r: z.record(z.string(), z.boolean()),
      raw: z.unknown(),
      e: z.object({ v: z.string().optional() }).meta({ allowEmpty: true }),
      lvl: z.enum(["a", "b"]),
    }),
  });
  deepEqual(
    decodeLabels(
      {
        "p.x.d": "1m",
        "p.x.f": "2.5e1",
        "p.x.n.b": "3",
        "p.x.r.Key": "t",
        "p.x.raw.list[0]": "a",
        "p.x.raw.list[1]": "b",
        "p.x.raw.k": "v",
        "p.x.e": "",
        "p.x.lvl": "c",
      },
      schema,
      { root: "p", filters: ["p.x"] },
    ),
    {
      x: {
        d: "1m",
        f: 25,
        n: { b: 3 },
        r: { Key: true },
        raw: { k: "v", list: ["a", "b"] },
        e: {},
        lvl: "c",
      },
    },
  );
});

Deno.test("labels: -0 decodes as 0 (Go has no negative zero integer; DeepEqual finds -0.0 == 0)", () => {
  const schema = z.object({ x: z.object({ i: z.int(), f: z.number() }) });
  const out = decodeLabels({ "p.x.i": "-0", "p.x.f": "-0.0" }, schema, {
    root: "p",
    filters: ["p.x"],
  }) as { x: { i: number; f: number } };
  ok(Object.is(out.x.i, 0));
  ok(Object.is(out.x.f, 0));
});

Deno.test("labelsToNode() keeps the first spelling and sorts keys like Go", () => {
  const node = labelsToNode({ "t.b.X": "1", "t.B.y": "2", "t.a": "3" }, "t", ["t."])!;
  deepEqual(node.children.map((c) => c.name), ["B", "a"]);
  deepEqual(node.children[0]!.children.map((c) => [c.name, c.value]), [["y", "2"], ["X", "1"]]);
});

Deno.test("labels: a router named __proto__ stays an own property", () => {
  const out = decode({ "traefik.http.routers.__proto__.rule": "Host(`x`)" }) as {
    http: { routers: Record<string, unknown> };
  };
  ok(Object.hasOwn(out.http.routers, "__proto__"));
  equal(Object.getPrototypeOf(out.http.routers), Object.prototype);
});
