// Which matcher names each rule syntax knows, and how they may be spelled.
import assert from "node:assert/strict";
import { compileRule, RuleSyntaxError } from "../../src/router/mod.ts";
import type { RuleSyntax as ConfigRuleSyntax } from "../../src/config/dynamic.ts";
import type { RuleSyntax } from "../../src/router/mod.ts";

// A valid call of each matcher, per syntax.
const V3_ONLY: Record<string, string> = {
  Header: "Header(`X-A`, `1`)",
  HeaderRegexp: "HeaderRegexp(`X-A`, `1`)",
  PathRegexp: "PathRegexp(`^/a`)",
  QueryRegexp: "QueryRegexp(`q`, `1`)",
};
const V2_ONLY: Record<string, string> = {
  Headers: "Headers(`X-A`, `1`)",
  HeadersRegexp: "HeadersRegexp(`X-A`, `1`)",
  HostHeader: "HostHeader(`a.example`)",
};
const BOTH: Record<string, string> = {
  ClientIP: "ClientIP(`10.0.0.1`)",
  Method: "Method(`GET`)",
  Host: "Host(`a.example`)",
  HostRegexp: "HostRegexp(`a.example`)",
  Path: "Path(`/a`)",
  PathPrefix: "PathPrefix(`/a`)",
  Query: "Query(`q=1`)",
};

function compiles(rule: string, syntax: RuleSyntax): boolean | string {
  try {
    compileRule(rule, syntax);
    return true;
  } catch (error) {
    assert.ok(error instanceof RuleSyntaxError);
    return error.message;
  }
}

Deno.test("each syntax accepts its own matchers and rejects the other's", () => {
  const wrong: string[] = [];
  for (const [name, rule] of Object.entries({ ...V3_ONLY, ...BOTH })) {
    // v3 Query takes key and value as two arguments.
    const v3Rule = name === "Query" ? "Query(`q`, `1`)" : rule;
    if (compiles(v3Rule, "v3") !== true) wrong.push(`v3 rejects ${v3Rule}`);
  }
  for (const [name, rule] of Object.entries({ ...V2_ONLY, ...BOTH })) {
    if (compiles(rule, "v2") !== true) wrong.push(`v2 rejects ${name}: ${rule}`);
  }
  for (const rule of Object.values(V2_ONLY)) {
    const result = compiles(rule, "v3");
    if (typeof result !== "string" || !result.includes("it is a v2 matcher")) {
      wrong.push(`v3 ${rule}: ${result}`);
    }
  }
  for (const rule of Object.values(V3_ONLY)) {
    const result = compiles(rule, "v2");
    if (typeof result !== "string" || !result.includes("it is a v3 matcher")) {
      wrong.push(`v2 ${rule}: ${result}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("rejected matcher messages name the equivalent of the other syntax", () => {
  assert.match(String(compiles("Headers(`X`, `1`)", "v3")), /in v3 use Header$/);
  assert.match(String(compiles("HostHeader(`a`)", "v3")), /in v3 use Host$/);
  assert.match(String(compiles("PathRegexp(`^/a`)", "v2")), /in v2 use Path or PathPrefix/);
  assert.match(
    String(compiles("HostSNI(`a`)", "v3")),
    /unknown matcher 'HostSNI'.*expected one of ClientIP,/,
  );
});

Deno.test("names are accepted as written, lower case, UPPER case and Title case only", () => {
  const wrong: string[] = [];
  for (
    const [syntax, names] of [["v3", ["PathPrefix", "HeaderRegexp", "ClientIP"]], [
      "v2",
      ["PathPrefix", "HeadersRegexp", "HostHeader"],
    ]] as const
  ) {
    for (const name of names) {
      const lower = name.toLowerCase();
      const title = lower[0]!.toUpperCase() + lower.slice(1);
      const args = name.startsWith("Header")
        ? "(`X`, `1`)"
        : name === "ClientIP"
        ? "(`::1`)"
        : "(`/a`)";
      const hostArgs = name === "HostHeader" ? "(`a`)" : args;
      for (const spelling of [name, lower, name.toUpperCase(), title]) {
        if (compiles(spelling + hostArgs, syntax) !== true) {
          wrong.push(`${syntax} rejects ${spelling}`);
        }
      }
      // Any other mix of cases is unknown, with a hint.
      const mixed = name[0]!.toLowerCase() + name.slice(1).toUpperCase();
      const result = compiles(mixed + hostArgs, syntax);
      if (typeof result !== "string" || !result.includes("names are case-sensitive")) {
        wrong.push(`${syntax} ${mixed}: ${result}`);
      }
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("the default syntax is v3 and unknown syntaxes are a TypeError", () => {
  assert.equal(compileRule("Path(`/a`)").syntax, "v3");
  assert.equal(compileRule("Path(`/a`)", "v2").syntax, "v2");
  assert.throws(() => compileRule("Headers(`X`, `1`)"), RuleSyntaxError);
  assert.throws(
    () => compileRule("Path(`/a`)", "v1" as RuleSyntax),
    new TypeError('Cannot compile rule as \'syntax\' must be "v3" or "v2": current value is "v1"'),
  );
  assert.throws(() => compileRule("Path(`/a`)", "constructor" as RuleSyntax), TypeError);
});

Deno.test("the router's RuleSyntax is the configuration's RuleSyntax", () => {
  // Both assignments fail to type-check if the two types ever differ.
  const config: ConfigRuleSyntax[] = ["v3", "v2"];
  const router: RuleSyntax[] = config;
  const back: ConfigRuleSyntax[] = router;
  assert.deepEqual(back, ["v3", "v2"]);
  assert.equal(compileRule("Host(`a`)", router[1]).syntax, "v2");
});
