// The router index must return exactly what a scan of every router in
// priority order returns, while trying only a few routers per request.
import assert from "node:assert/strict";
import { facts, fromURL } from "./_helpers.ts";
import {
  type CompiledRule,
  compileRule,
  defaultPriority,
  type RequestFacts,
  type RouteEntry,
  RouterIndex,
  type RuleSyntax,
} from "../../src/router/mod.ts";

/** mulberry32: a small seeded PRNG, so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The reference: every router, in Traefik's order with Pacer's tie-break. */
function bruteForce<T>(entries: RouteEntry<T>[], req: RequestFacts): RouteEntry<T> | undefined {
  const ranked = entries.map((e, i) => ({
    e,
    i,
    p: e.priority === undefined || e.priority === 0 ? defaultPriority(e.rule.rule) : e.priority,
  }));
  ranked.sort((x, y) =>
    y.p - x.p || (x.e.name < y.e.name ? -1 : x.e.name > y.e.name ? 1 : x.i - y.i)
  );
  return ranked.find(({ e }) => e.rule.match(req))?.e;
}

const HOSTS = Array.from({ length: 40 }, (_, i) => `h${i}.example`).concat([
  "dot.example.",
  "a.b.example",
]);
const SEGMENTS = ["api", "v1", "v2", "users", "static", "css", "a b", "x%2Fy", "42", "admin"];
const METHODS = ["GET", "POST", "PUT"];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function randomPath(rand: () => number, max = 3): string {
  const n = 1 + Math.floor(rand() * max);
  return "/" + Array.from({ length: n }, () => pick(rand, SEGMENTS)).join("/");
}

/**
 * A random rule over the whole language, in either syntax. With `catchAll`,
 * some rules (negations, ORs with a path) match nearly every request.
 */
function randomRule(rand: () => number, catchAll: boolean): [string, RuleSyntax] {
  const h = () => pick(rand, HOSTS);
  const p = () => randomPath(rand, 2);
  const v3: (() => string)[] = [
    () => `Host(\`${h()}\`)`,
    () => `Host(\`${h()}\`) && PathPrefix(\`${p()}\`)`,
    () => `Host(\`${h()}\`) && Path(\`${p()}\`)`,
    () => `Host(\`${h()}\`) || Host(\`${h()}\`)`,
    () => `(Host(\`${h()}\`) || Host(\`${h().toUpperCase()}\`)) && PathPrefix(\`${p()}\`)`,
    () => `PathPrefix(\`${p()}\`)`,
    () => `Path(\`${p()}\`)`,
    () => `!Host(\`${h()}\`) && PathPrefix(\`${p()}\`)`,
    () => `Host(\`${h()}\`) || PathPrefix(\`${p()}\`)`,
    () => `!(Host(\`${h()}\`) || Path(\`${p()}\`))`,
    () => `!!Host(\`${h()}\`)`,
    // De Morgan: these are `Host || Host` and `Host || PathPrefix`.
    () => `!(!Host(\`${h()}\`) && !Host(\`${h()}\`))`,
    () => `!(!Host(\`${h()}\`) && !PathPrefix(\`${p()}\`))`,
    () => `!(!Host(\`${h()}\`) || !PathPrefix(\`${p()}\`))`,
    () => `Host(\`${h()}\`) && !Host(\`${h()}\`)`,
    () => `Host(\`${h()}\`) && Host(\`${h()}\`)`,
    () => `HostRegexp(\`^h[0-9]\\.example$\`) && PathPrefix(\`${p()}\`)`,
    () => `Method(\`${pick(rand, METHODS)}\`) && PathPrefix(\`${p()}\`)`,
    () => `Header(\`X-T\`, \`${pick(rand, ["1", "2"])}\`) && Host(\`${h()}\`)`,
    () => `Query(\`k\`, \`${pick(rand, ["1", "2"])}\`) || Path(\`${p()}\`)`,
    () => `PathRegexp(\`^/(api|css)/\`) && Host(\`${h()}\`)`,
    () => `ClientIP(\`10.0.${pick(rand, ["0", "1"])}.0/24\`) && PathPrefix(\`${p()}\`)`,
    () => `PathPrefix(\`${p()}\`) && !PathPrefix(\`${p()}\`)`,
    () => `(PathPrefix(\`${p()}\`) || Path(\`${p()}\`)) && (Host(\`${h()}\`) || Host(\`${h()}\`))`,
  ];
  const v2: (() => string)[] = [
    () => `Host(\`${h()}\`, \`${h()}\`) && PathPrefix(\`${p()}\`, \`${p()}\`)`,
    () => `HostHeader(\`${h()}\`) && Path(\`${p()}\`)`,
    () => `Path(\`/api/{id:[0-9]+}\`) && Host(\`${h()}\`)`,
    () => `PathPrefix(\`/{seg:(v1|v2)}/\`)`,
    () => `HostRegexp(\`{sub:h[0-9]+}.example\`) && Method(\`GET\`, \`PUT\`)`,
    () => `HostRegexp(\`${h()}\`)`,
    () => `Headers(\`X-T\`, \`1\`) || Path(\`${p()}\`)`,
    () => `Query(\`k=${pick(rand, ["1", "2"])}\`) && PathPrefix(\`${p()}\`)`,
    () => `ClientIP(\`10.0.0.1\`, \`fd00::/8\`) || Host(\`${h()}\`)`,
  ];
  const broad = /^!|\|\| PathPrefix|\|\| Path\(|\|\| Host|ClientIP/;
  for (;;) {
    const [rule, syntax]: [string, RuleSyntax] = rand() < 0.75
      ? [pick(rand, v3)(), "v3"]
      : [pick(rand, v2)(), "v2"];
    if (catchAll || !broad.test(rule)) return [rule, syntax];
  }
}

function randomRequest(rand: () => number): RequestFacts {
  let host = rand() < 0.75 ? pick(rand, HOSTS) : `other${Math.floor(rand() * 3)}.example`;
  const variant = rand();
  if (variant < 0.1) host = host.toUpperCase();
  else if (variant < 0.2) host = host.endsWith(".") ? host.slice(0, -1) : host + ".";
  else if (variant < 0.25) host = host + ":8443";
  let path = randomPath(rand);
  if (rand() < 0.2) path += pick(rand, ["/", "x", "/deeper", "/7"]);
  if (rand() < 0.05) path = "/api/" + Math.floor(rand() * 100);
  if (rand() < 0.25) path = "/zzz" + path;
  return facts({
    host,
    path: encodeURI(path).replaceAll("%25", "%"),
    method: pick(rand, METHODS),
    headers: rand() < 0.3 ? { "X-T": pick(rand, ["1", "2"]) } : {},
    query: rand() < 0.3 ? `k=${pick(rand, ["1", "2"])}` : "",
    clientIP: pick(rand, ["10.0.0.1", "10.0.1.9", "192.0.2.1", "fd00::5"]),
  });
}

function randomTable(rand: () => number, size: number, catchAll: boolean): RouteEntry<number>[] {
  const names = Array.from({ length: size }, (_, i) => `r${i}`);
  // Shuffle so that name order and input order differ.
  for (let i = names.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [names[i], names[j]] = [names[j]!, names[i]!];
  }
  return names.map((name, value) => {
    const [rule, syntax] = randomRule(rand, catchAll);
    const entry = { name, rule: compileRule(rule, syntax), value };
    // Few distinct priorities: many ties, broken by name.
    const r = rand();
    return r < 0.5 ? entry : { ...entry, priority: r < 0.6 ? 0 : Math.floor(rand() * 4) + 1 };
  });
}

Deno.test("the index returns what a priority-ordered scan of all routers returns (randomized)", () => {
  let compared = 0;
  let unmatched = 0;
  const winners = new Set<string>();
  const mismatches: string[] = [];
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const rand = prng(seed);
    // Odd seeds include rules that match almost anything, even seeds do not.
    const entries = randomTable(rand, 600, seed % 2 === 1);
    const index = new RouterIndex(entries);
    assert.equal(index.size, entries.length);
    for (let i = 0; i < 1500; i++) {
      const req = randomRequest(rand);
      const want = bruteForce(entries, req);
      const got = index.match(req);
      compared++;
      if (want === undefined) unmatched++;
      else winners.add(`${seed}:${want.name}`);
      if (got !== want && mismatches.length < 10) {
        mismatches.push(
          `seed ${seed}: ${req.host}${req.path}: index ${got?.name} (${got?.rule.rule}), scan ${want?.name} (${want?.rule.rule})`,
        );
      }
    }
  }
  assert.deepEqual(mismatches, []);
  assert.equal(compared, 9000);
  // For the comparison to mean anything, requests must be won by many
  // different routers, and some must match none.
  assert.ok(winners.size > 300, `only ${winners.size} distinct winners`);
  assert.ok(unmatched > 200 && unmatched < compared / 2, `${unmatched} of ${compared} unmatched`);
});

Deno.test("a request is tried against a handful of 10,000 host routers, not all of them", () => {
  const entries: RouteEntry<number>[] = [];
  for (let i = 0; i < 10_000; i++) {
    const rule = i % 2 === 0
      ? `Host(\`app${i}.example\`)`
      : `Host(\`app${i}.example\`, \`www.app${i}.example\`) && PathPrefix(\`/api\`)`;
    entries.push({ name: `app${i}`, rule: compileRule(rule, "v2"), value: i });
  }
  entries.push({ name: "fallback", rule: compileRule("PathPrefix(`/`)"), priority: 1, value: -1 });
  const index = new RouterIndex(entries);
  const req = fromURL("https://www.app4241.example/api/users");
  assert.equal(index.match(req)?.value, 4241);
  assert.deepEqual(index.candidates(req).map((e) => e.name), ["app4241", "fallback"]);
  assert.equal(index.match(fromURL("https://nowhere.example/"))?.value, -1);
  assert.deepEqual(index.candidates(fromURL("https://nowhere.example/")).map((e) => e.name), [
    "fallback",
  ]);
});

Deno.test("path prefixes and exact paths are indexed without a host", () => {
  const entries: RouteEntry<string>[] = [];
  for (let i = 0; i < 10_000; i++) {
    entries.push({
      name: `svc${i}`,
      rule: compileRule(`PathPrefix(\`/svc${i}\`)`),
      value: `svc${i}`,
    });
    entries.push({
      name: `exact${i}`,
      rule: compileRule(`Path(\`/exact/${i}\`)`),
      value: `exact${i}`,
    });
  }
  const index = new RouterIndex(entries);
  // "/svc4" and "/svc42" are both prefixes of "/svc42/x": the longer rule wins.
  const req = fromURL("http://x/svc42/x");
  assert.deepEqual(index.candidates(req).map((e) => e.name), ["svc42", "svc4"]);
  assert.equal(index.match(req)?.value, "svc42");
  assert.deepEqual(index.candidates(fromURL("http://x/exact/77")).map((e) => e.name), ["exact77"]);
  // A rule filed under two prefixes of the same path is a candidate once.
  const both = new RouterIndex([
    {
      name: "both",
      rule: compileRule("PathPrefix(`/a`) || PathPrefix(`/a/b`) || Path(`/a/b/c`)"),
      value: 1,
    },
  ]);
  assert.deepEqual(both.candidates(fromURL("http://x/a/b/c")).map((e) => e.name), ["both"]);
  assert.equal(index.match(fromURL("http://x/exact/77/more")), undefined);
});

Deno.test("rules the index cannot narrow are still tried, in priority order", () => {
  const index = new RouterIndex([
    { name: "regexp", rule: compileRule("HostRegexp(`^api\\.`)"), priority: 50, value: "regexp" },
    { name: "negated", rule: compileRule("!Host(`a.example`)"), priority: 40, value: "negated" },
    { name: "host", rule: compileRule("Host(`a.example`)"), priority: 30, value: "host" },
  ]);
  assert.deepEqual(
    ["http://api.example/", "http://b.example/", "http://a.example/"].map((u) =>
      index.match(fromURL(u))?.value
    ),
    ["regexp", "negated", "host"],
  );
});

Deno.test("host keys follow Traefik's trailing-dot rule and the engine's normalization", () => {
  const index = new RouterIndex([
    { name: "dotted", rule: compileRule("Host(`dotted.example.`)"), value: "dotted" },
    { name: "plain", rule: compileRule("Host(`plain.example`)"), value: "plain" },
  ]);
  const hosts = [
    "dotted.example",
    "dotted.example.",
    "dotted.example..",
    "plain.example.",
    "PLAIN.example:80",
    "plain.example..",
  ];
  assert.deepEqual(
    hosts.map((host) => index.match(facts({ host }))?.value),
    ["dotted", "dotted", "dotted", "plain", "plain", undefined],
  );
});

Deno.test("a rule that requires two different hosts is filed nowhere and never matches", () => {
  const rule = compileRule("Host(`a.example`) && Host(`b.example`)");
  const index = new RouterIndex([{ name: "impossible", rule, value: 1 }]);
  assert.equal(rule.match(facts({ host: "a.example" })), false);
  assert.deepEqual(index.candidates(facts({ host: "a.example" })), []);
});

Deno.test("entries with rules compiled elsewhere are matched through their match()", () => {
  const calls: string[] = [];
  const foreign: CompiledRule = {
    rule: "custom",
    syntax: "v3",
    match(req) {
      calls.push(req.path);
      if (req.path === "/boom") throw new Error("a broken rule");
      return req.path === "/custom";
    },
  };
  const index = new RouterIndex([
    { name: "foreign", rule: foreign, priority: 100, value: "foreign" },
    { name: "api", rule: compileRule("PathPrefix(`/`)"), value: "api" },
  ]);
  assert.equal(index.match(fromURL("http://x/custom"))?.value, "foreign");
  assert.equal(index.match(fromURL("http://x/other"))?.value, "api");
  // A rule that throws counts as not matching: match() itself never throws.
  assert.equal(index.match(fromURL("http://x/boom"))?.value, "api");
  assert.deepEqual(calls, ["/custom", "/other", "/boom"]);
});

Deno.test("an empty index matches nothing", () => {
  const index = new RouterIndex<never>([]);
  assert.equal(index.size, 0);
  assert.equal(index.match(fromURL("http://x/")), undefined);
});
