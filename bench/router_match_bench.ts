/**
 * Router matching cost against table size: with the index, a table of 10,000
 * routers should route about as fast as a table of 10.
 *
 * Run: `deno bench bench/router_match_bench.ts`.
 *
 * @module
 */
import { compileRule, requestFacts, type RouteEntry, RouterIndex } from "../src/router/mod.ts";

/** A Marathon-like table: one host per app, some with path prefixes, a few regexp rules. */
function table(size: number): RouteEntry<number>[] {
  const entries: RouteEntry<number>[] = [];
  for (let i = 0; i < size; i++) {
    const rule = i % 3 === 0
      ? compileRule(`Host(\`app${i}.example\`, \`www.app${i}.example\`)`, "v2")
      : i % 3 === 1
      ? compileRule(`Host(\`app${i}.example\`) && PathPrefix(\`/api\`)`)
      : compileRule(`Host(\`app${i}.example\`) && (Path(\`/\`) || PathPrefix(\`/static/\`))`);
    entries.push({ name: `app${i}@marathon`, rule, value: i });
  }
  // Rules the index cannot narrow down by host or path: every request tries them.
  for (let i = 0; i < 5; i++) {
    entries.push({
      name: `regexp${i}@file`,
      rule: compileRule(`HostRegexp(\`^tenant${i}-[a-z]+\\.example$\`)`),
      value: -1,
    });
  }
  entries.push({
    name: "fallback@file",
    rule: compileRule("PathPrefix(`/`)"),
    priority: 1,
    value: -2,
  });
  return entries;
}

const small = new RouterIndex(table(10));
const large = new RouterIndex(table(10_000));
const hit = requestFacts(new Request("https://app7.example/api/users/42"), "192.0.2.1");
const miss = requestFacts(new Request("https://unknown.example/x"), "192.0.2.1");
const encoded = requestFacts(new Request("https://app7.example/api/a%20b"), "192.0.2.1");

if (large.match(hit)?.value !== 7 || small.match(hit)?.value !== 7) throw new Error("bad table");

Deno.bench("hit among 10 routers", { group: "hit", baseline: true }, () => {
  small.match(hit);
});
Deno.bench("hit among 10,000 routers", { group: "hit" }, () => {
  large.match(hit);
});
Deno.bench("miss among 10 routers", { group: "miss", baseline: true }, () => {
  small.match(miss);
});
Deno.bench("miss among 10,000 routers", { group: "miss" }, () => {
  large.match(miss);
});
Deno.bench("hit with a percent-encoded path, 10,000 routers", () => {
  large.match(encoded);
});
Deno.bench("requestFacts", () => {
  requestFacts(new Request("https://app7.example/api/users/42?x=1"), "192.0.2.1");
});
Deno.bench("build an index of 10,000 routers", { n: 5, warmup: 1 }, () => {
  new RouterIndex(table(10_000));
});
