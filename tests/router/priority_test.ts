// Router priority: explicit, else the rule's length, as Traefik; ties by name.
import assert from "node:assert/strict";
import { fromURL } from "./_helpers.ts";
import {
  compileRule,
  defaultPriority,
  type RouteEntry,
  RouterIndex,
} from "../../src/router/mod.ts";

Deno.test("defaultPriority is the rule's length in UTF-8 bytes (Traefik's TestGetRulePriority)", () => {
  assert.equal(defaultPriority("Host(`example.org`)"), 19);
  assert.equal(defaultPriority(""), 0);
  // Go's len() counts bytes: é is 2, 🦭 is 4 (a surrogate pair in JavaScript).
  assert.equal(defaultPriority("Path(`/é`)"), 11);
  assert.equal(defaultPriority("Path(`/🦭`)"), 13);
  assert.equal(defaultPriority("Path(`/€`)"), 12);
});

type Case = { from: string; rule: string; priority?: number };

function winner(path: string, cases: Case[]): string | undefined {
  const entries: RouteEntry<string>[] = cases.map((c) => {
    const base = { name: c.from, rule: compileRule(c.rule), value: c.from };
    return c.priority === undefined ? base : { ...base, priority: c.priority };
  });
  return new RouterIndex(entries).match(fromURL(`http://localhost${path}`))?.value;
}

Deno.test("higher priority wins, explicit or by length (Traefik's Test_addRoutePriority)", () => {
  const cases: [string, string, Case[], string][] = [
    ["higher priority on second rule", "/my", [
      { from: "header1", rule: "PathPrefix(`/my`)", priority: 10 },
      { from: "header2", rule: "PathPrefix(`/my`)", priority: 20 },
    ], "header2"],
    ["higher priority on first rule", "/my", [
      { from: "header1", rule: "PathPrefix(`/my`)", priority: 20 },
      { from: "header2", rule: "PathPrefix(`/my`)", priority: 10 },
    ], "header1"],
    ["higher priority on second rule with different rule", "/mypath", [
      { from: "header1", rule: "PathPrefix(`/mypath`)", priority: 10 },
      { from: "header2", rule: "PathPrefix(`/my`)", priority: 20 },
    ], "header2"],
    ["longest rule first", "/mypath", [
      { from: "header1", rule: "PathPrefix(`/mypath`)" },
      { from: "header2", rule: "PathPrefix(`/my`)" },
    ], "header1"],
    ["longest rule second", "/mypath", [
      { from: "header1", rule: "PathPrefix(`/my`)" },
      { from: "header2", rule: "PathPrefix(`/mypath`)" },
    ], "header2"],
    ["longest rule third", "/mypath", [
      { from: "header1", rule: "PathPrefix(`/my`)" },
      { from: "header2", rule: "PathPrefix(`/mypa`)" },
      { from: "header3", rule: "PathPrefix(`/mypath`)" },
    ], "header3"],
  ];
  assert.deepEqual(
    cases.map(([desc, path, routes]) => [desc, winner(path, routes)]),
    cases.map(([desc, , , want]) => [desc, want]),
  );
});

Deno.test("explicit priority 0 means the default, as Traefik", () => {
  assert.equal(
    winner("/mypath", [
      { from: "zero", rule: "PathPrefix(`/mypath`)", priority: 0 },
      { from: "five", rule: "PathPrefix(`/my`)", priority: 5 },
    ]),
    "zero",
  );
});

Deno.test("equal priorities are tried by name, then by input position", () => {
  // Traefik leaves this order to Go map iteration and an unstable sort; Pacer
  // makes it deterministic.
  const same = "PathPrefix(`/`)";
  assert.equal(
    winner("/", [{ from: "b@file", rule: same }, { from: "a@file", rule: same }, {
      from: "c@file",
      rule: same,
    }]),
    "a@file",
  );
  const entries = [
    { name: "dup", rule: compileRule(same), value: "first" },
    { name: "dup", rule: compileRule(same), value: "second" },
  ];
  assert.equal(new RouterIndex(entries).match(fromURL("http://x/"))?.value, "first");
  assert.equal(new RouterIndex(entries.toReversed()).match(fromURL("http://x/"))?.value, "second");
});

Deno.test("a lower-priority router only serves what higher ones do not match", () => {
  const index = new RouterIndex([
    { name: "api", rule: compileRule("Host(`a.example`) && PathPrefix(`/api`)"), value: "api" },
    { name: "site", rule: compileRule("Host(`a.example`)"), value: "site" },
    { name: "catchall", rule: compileRule("PathPrefix(`/`)"), priority: 1, value: "catchall" },
  ]);
  assert.deepEqual(
    ["http://a.example/api/x", "http://a.example/home", "http://b.example/api"].map((u) =>
      index.match(fromURL(u))?.value
    ),
    ["api", "site", "catchall"],
  );
});
