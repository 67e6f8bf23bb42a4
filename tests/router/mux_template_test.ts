// mux route templates (v2 syntax) and Go regexps.
import assert from "node:assert/strict";
import { compileTemplate, type TemplateKind } from "../../src/router/mux_template.ts";
import { compileGoRegexp, quoteMeta } from "../../src/go/regexp.ts";
import { compileRule } from "../../src/router/mod.ts";
import { facts } from "./_helpers.ts";

Deno.test("templates match as mux builds them", () => {
  const cases: [string, TemplateKind, string, boolean][] = [
    ["/users/{id}", "path", "/users/42", true],
    ["/users/{id}", "path", "/users/42/", false],
    ["/users/{id:[0-9]+}", "path", "/users/abc", false],
    ["/files/{rest:.*}", "path", "/files/a/b/c", true],
    ["/a{x:[0-9]}/b", "path", "/a7/b", true],
    ["/api", "prefix", "/api/v1", true],
    ["/api", "prefix", "/apix", true],
    ["/api/{v:v[0-9]+}/", "prefix", "/api/v2/users", true],
    ["/api/{v:v[0-9]+}/", "prefix", "/api/x2/users", false],
    ["{sub}.example.com", "host", "www.example.com", true],
    ["{sub}.example.com", "host", "a.b.example.com", false],
    ["{sub:.+}.example.com", "host", "a.b.example.com", true],
    ["Example.COM", "host", "example.com", true],
    ["page={n:[0-9]+}", "query", "page=3", true],
    ["page={n:[0-9]+}", "query", "page=x", false],
    ["page=", "query", "page=anything", true],
    // Braces inside a variable pattern belong to the pattern (first level only).
    ["/{id:[0-9]{2}}", "path", "/42", true],
    ["/{id:[0-9]{2}}", "path", "/420", false],
  ];
  const wrong = cases.filter(([tpl, kind, input, want]) =>
    compileTemplate(tpl, kind).regexp.test(input) !== want
  );
  assert.deepEqual(wrong, []);
});

Deno.test("templates expose their literal part for the index", () => {
  assert.deepEqual(
    [compileTemplate("/css{p:(/.*)?}", "path"), compileTemplate("/plain", "path")].map((t) => [
      t.literal,
      t.leadingLiteral,
      t.variables,
    ]),
    [[undefined, "/css", ["p"]], ["/plain", "/plain", []]],
  );
});

Deno.test("template errors are mux's", () => {
  const cases: [string, TemplateKind, RegExp][] = [
    ["/{a", "path", /unbalanced braces in "\/\{a"/],
    ["/a}", "path", /unbalanced braces/],
    ["/{:x}", "path", /missing name or pattern in "\{:x\}"/],
    ["/{x:}", "path", /missing name or pattern/],
    ["a/b", "path", /path must start with a slash, got "a\/b"/],
    ["/{x:(}", "path", /missing closing \)/],
    // The pattern must be valid on its own, not only spliced into the whole.
    ["/{x:a)(b}", "path", /unexpected \)/],
  ];
  for (const [tpl, kind, message] of cases) {
    assert.throws(() => compileTemplate(tpl, kind), message, tpl);
  }
});

Deno.test("Go regexps: Go's syntax and error messages", () => {
  const valid = [
    "(?i)abc",
    "(?P<name>x)",
    "(?<name>x)",
    "\\Qa.b\\E",
    "[[:alpha:]]+",
    "\\pL",
    "\\p{Greek}",
    "a{,5}",
    "x*?",
  ];
  assert.deepEqual(
    valid.filter((p) => {
      try {
        compileGoRegexp(p);
        return false;
      } catch {
        return true;
      }
    }),
    [],
  );
  const invalid: [string, string][] = [
    ["(a", "missing closing ): `(a`"],
    ["a**", "invalid nested repetition operator: `**`"],
    ["(?=a)", "invalid or unsupported Perl syntax: `(?=`"],
    ["\\1", "invalid escape sequence: `\\1`"],
    ["x{1001}", "invalid repeat count: `{1001}`"],
    ["[z-a]", "invalid character class range: `z-a`"],
  ];
  for (const [pattern, message] of invalid) {
    assert.throws(() => compileGoRegexp(pattern), { name: "SyntaxError", message }, pattern);
  }
  // Go semantics where JavaScript differs: `\s` excludes \v, `$` is end of text.
  assert.equal(compileGoRegexp("^\\s$").test("\v"), false);
  assert.equal(compileGoRegexp("a$").test("a\n"), false);
  assert.equal(compileGoRegexp("{x}").test("{x}"), true);
  assert.equal(quoteMeta("a.b*c{d}"), "a\\.b\\*c\\{d\\}");
});

Deno.test("regexp matchers run in linear time (no catastrophic backtracking)", () => {
  // With a backtracking engine this takes longer than the universe's age.
  const rule = compileRule("HostRegexp(`^(a+)+$`)");
  const host = "a".repeat(20_000) + "!";
  const start = performance.now();
  assert.equal(rule.match(facts({ host })), false);
  assert.ok(performance.now() - start < 2_000, "matching must not backtrack exponentially");
});
