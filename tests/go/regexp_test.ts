import { deepEqual, equal, ok, throws } from "node:assert/strict";
import { compileGoRegexp, goRegexpError, parseGoTemplate, quoteMeta } from "../../src/go/regexp.ts";

Deno.test("compileGoRegexp() matches Go syntax: named groups, inline flags, \\A and \\z", () => {
  const m = compileGoRegexp("^/api/(?P<rest>.*)$").exec("/api/v1/x")!;
  equal(m.text, "/api/v1/x");
  equal(m.group(1), "v1/x");
  equal(m.group("rest"), "v1/x");
  ok(compileGoRegexp("a(?i)b|c").test("aB"), "a mid-pattern flag group applies to the rest");
  ok(compileGoRegexp(`\\Afoo\\z`).test("foo"));
  equal(compileGoRegexp("(?U)a+").exec("aaa")?.text, "a", "(?U) makes quantifiers lazy");
  equal(compileGoRegexp("é(.)").exec("xxéa")?.index, 2, "offsets are string offsets");
});

Deno.test("compileGoRegexp() rejects what Go rejects, with Go's message", () => {
  throws(() => compileGoRegexp("(a"), { name: "SyntaxError", message: /missing closing \)/ });
  throws(() => compileGoRegexp("(a)\\1"), /invalid escape sequence/);
  throws(() => compileGoRegexp("a(?=b)"), /invalid or unsupported Perl syntax/);
  equal(goRegexpError("ok+"), undefined);
  ok(goRegexpError("[")?.startsWith('invalid regular expression "["'));
});

Deno.test("compileGoRegexp() matches in linear time where a backtracking engine explodes", () => {
  const evil = compileGoRegexp("^(a+)+$");
  const input = "a".repeat(5000) + "!";
  const started = performance.now();
  equal(evil.test(input), false);
  ok(performance.now() - started < 500, "no catastrophic backtracking");
});

Deno.test("replaceAll() expands Go templates: $1, ${name}, $$ and the longest-name rule", () => {
  const re = compileGoRegexp("a(n)?");
  equal(re.replaceAll("banana", parseGoTemplate("<$1>")), "b<n><n><>");
  const named = compileGoRegexp("(?P<v>\\d+)");
  equal(named.replaceAll("v1 v22", parseGoTemplate("[${v}]$$")), "v[1]$ v[22]$");
  deepEqual(parseGoTemplate("$1x"), [{ name: "1x" }]);
  equal(compileGoRegexp(quoteMeta("a.b*c")).test("a.b*c"), true);
  equal(compileGoRegexp(quoteMeta("a.b*c")).test("aXbbc"), false);
});
