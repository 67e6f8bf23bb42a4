// Rule syntax: what Go's expression parser (through vulcand/predicate and
// Traefik's pkg/rules) accepts, and where a rejected rule is wrong.
import assert from "node:assert/strict";
import { facts, fromURL } from "./_helpers.ts";
import { compileRule, RuleSyntaxError } from "../../src/router/mod.ts";
import { parseRule, type RuleNode } from "../../src/router/parser.ts";

function errorOf(rule: string, syntax: "v3" | "v2" = "v3"): RuleSyntaxError {
  try {
    compileRule(rule, syntax);
  } catch (error) {
    assert.ok(error instanceof RuleSyntaxError, `${rule}: ${error}`);
    return error;
  }
  assert.fail(`${JSON.stringify(rule)} was accepted`);
}

Deno.test("syntax errors say what was expected and at which column", () => {
  // [rule, column, fragment of the message]
  const cases: [string, number, string][] = [
    ["", 1, "expected a matcher such as Host(`example.com`)"],
    ["   ", 4, "expected a matcher"],
    ["Host", 5, "expected '(' after matcher name 'Host', found end of rule"],
    ["Host(`a`) &&", 13, "expected a matcher such as Host(`example.com`) after '&&'"],
    ["Host(`a`) ||", 13, "after '||'"],
    ["Host(`a`) && || Path(`/`)", 14, "after '&&', found '||'"],
    ["Host(`a)", 6, "raw string not terminated: expected '`'"],
    ['Host("a)', 6, "string not terminated"],
    ["Host(`a`))", 10, "expected '&&', '||' or end of rule, found ')'"],
    ["(Host(`a`)", 11, "expected ')' to close '(' at column 1, found end of rule"],
    ["((Host(`a`) && Path(`/`)", 25, "expected ')' to close '(' at column 2"],
    [
      "Host(example.com)",
      6,
      "expected a string argument in backquotes or double quotes, found 'example'",
    ],
    ["Host('a')", 6, "found single-quoted 'a'"],
    ["Host(42)", 6, "found number 42"],
    ["Host(`a` `b`)", 10, "expected ',' or ')' after argument 1 of Host, found string `b`"],
    ["Host(,)", 6, "expected a string argument"],
    ["Host(`a`,,)", 10, "expected a string argument"],
    ["Host(`a`) & Path(`/`)", 11, "found '&' (write '&&')"],
    ["Host(`a`) | Path(`/`)", 11, "found '|' (write '||')"],
    ["Host(`a`) and Path(`/`)", 11, "found 'and' (write '&&')"],
    ["Host(`a`) == Host(`b`)", 11, "found '='"],
    ["Host(`a`) != Host(`b`)", 11, "found '!='"],
    ["-Host(`a`)", 1, "expected a matcher such as Host(`example.com`), found '-'"],
    ["Host(`a`)(`b`)", 10, "expected '&&', '||' or end of rule, found '('"],
    ["Host((`a`))", 6, "expected a string argument"],
    ['Host("a" + "b")', 10, "expected ',' or ')'"],
    ["Host(`a`) /* never closed", 11, "comment not terminated: expected '*/'"],
    ['Host("\\q")', 7, "unknown escape in string"],
    ['Host("\\x4")', 7, "expected \\x and two hex digits"],
    ['Host("\\400")', 7, "octal value above \\377"],
    ['Host("\\ud800")', 7, "not a valid Unicode code point"],
    ['Host("\\\'")', 7, "unknown escape in string"],
    // Go inserts a semicolon at a line break after `)`, an identifier or a string.
    ["Host(`a`)\n&& Path(`/`)", 10, "unexpected line break"],
    ["Host\n(`a`)", 5, "expected '(' after matcher name 'Host', found a line break"],
    ["Host(`a`\n)", 9, "expected ',' or ')' after argument 1 of Host, found a line break"],
    // Columns count characters, not bytes or UTF-16 units.
    ["Path(`/🦭`) && Host(`a`) )", 25, "expected '&&', '||' or end of rule, found ')'"],
  ];
  const wrong: string[] = [];
  for (const [rule, column, fragment] of cases) {
    const error = errorOf(rule);
    if (error.column !== column || !error.message.includes(fragment)) {
      wrong.push(`${JSON.stringify(rule)}: got "${error.message}" (column ${error.column})`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("RuleSyntaxError is a SyntaxError carrying the rule and the column", () => {
  const error = errorOf("Host(`a`) && Path(`/b`");
  assert.ok(error instanceof SyntaxError);
  assert.equal(error.name, "RuleSyntaxError");
  assert.equal(error.rule, "Host(`a`) && Path(`/b`");
  assert.equal(error.column, 23);
  assert.equal(
    error.message,
    "Cannot parse rule: expected ',' or ')' after argument 1 of Path, found end of rule at column 23",
  );
});

Deno.test("accepted Go syntax: quotes, escapes, comments, trailing commas, line breaks", () => {
  const cases: [string, string][] = [
    ['Host("example.com")', "https://example.com/"],
    ['Path("\\x2Fapi")', "https://example.com/api"],
    ['Path("\\057api")', "https://example.com/api"],
    ['Path("/caf\\u00e9")', "https://example.com/caf%C3%A9"],
    ['Path("/caf\\xc3\\xa9")', "https://example.com/caf%C3%A9"],
    ['Path("/tab\\tx")', "https://example.com/tab%09x"],
    ["Host(`example.com`,)", "https://example.com/"],
    ["Host ( `example.com` )", "https://example.com/"],
    ["\tHost(`example.com`)\n", "https://example.com/"],
    ["Host(`example.com`)\n\n", "https://example.com/"],
    ["Host(`example.com`) &&\n  PathPrefix(`/`)", "https://example.com/"],
    ["Host(`example.com`) // a comment", "https://example.com/"],
    ["Host(`example.com`) /* a */ && /* b */ Path(`/`)", "https://example.com/"],
    ["Host(`example.com`) /* spans\nlines */", "https://example.com/"],
    ["((Host(`example.com`)))", "https://example.com/"],
    ["!!Host(`example.com`)", "https://example.com/"],
    ["Host(`exa\r\nmple.com`) || Host(`example.com`)", "https://example.com/"],
  ];
  const wrong: string[] = [];
  for (const [rule, url] of cases) {
    try {
      if (!compileRule(rule).match(fromURL(url))) {
        wrong.push(`${JSON.stringify(rule)} did not match ${url}`);
      }
    } catch (error) {
      wrong.push(`${JSON.stringify(rule)}: ${(error as Error).message}`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("raw strings drop carriage returns, as Go does", () => {
  assert.equal(compileRule("Host(`exa\rmple.com`)").match(facts({ host: "example.com" })), true);
});

function show(node: RuleNode): string {
  switch (node.kind) {
    case "call":
      return `${node.name}(${node.args.map((a) => a.value).join(",")})`;
    case "not":
      return `!${show(node.operand)}`;
    default:
      return `(${show(node.left)} ${node.kind} ${show(node.right)})`;
  }
}

Deno.test("&& binds tighter than ||, both associate left, ! applies to one operand", () => {
  const cases: [string, string][] = [
    ["a(`1`) || b(`2`) && c(`3`)", "(a(1) or (b(2) and c(3)))"],
    ["a(`1`) && b(`2`) || c(`3`)", "((a(1) and b(2)) or c(3))"],
    ["a(`1`) && b(`2`) && c(`3`)", "((a(1) and b(2)) and c(3))"],
    ["!a(`1`) && b(`2`)", "(!a(1) and b(2))"],
    ["!(a(`1`) && b(`2`))", "!(a(1) and b(2))"],
    ["a(`1`, `2`)", "a(1,2)"],
    ["m()", "m()"],
  ];
  assert.deepEqual(cases.map(([rule]) => show(parseRule(rule))), cases.map(([, tree]) => tree));
});

Deno.test("arguments keep the column of their literal", () => {
  const node = parseRule('Headers(`X`,  "v")');
  assert.equal(node.kind, "call");
  assert.deepEqual(node.kind === "call" ? node.args : [], [
    { value: "X", column: 9 },
    { value: "v", column: 15 },
  ]);
});

Deno.test("nesting is bounded instead of overflowing the stack", () => {
  const deep = "(".repeat(5000) + "Host(`a`)" + ")".repeat(5000);
  assert.match(errorOf(deep).message, /nests deeper than 1000 levels/);
  const ok = "(".repeat(500) + "Host(`a`)" + ")".repeat(500);
  assert.equal(compileRule(ok).match(facts({ host: "a" })), true);
});

Deno.test("long chains of && and || compile and evaluate without deep recursion", () => {
  const hosts = Array.from({ length: 5000 }, (_, i) => `Host(\`h${i}.example\`)`);
  const rule = compileRule(hosts.join(" || "));
  assert.equal(rule.match(facts({ host: "h4999.example" })), true);
  assert.equal(rule.match(facts({ host: "h5000.example" })), false);
});

Deno.test("argument errors follow Traefik's CheckRule and matcher arity, located", () => {
  const cases: [string, "v3" | "v2", number, string][] = [
    ["Host()", "v3", 1, "Host needs exactly 1 argument (a host name), got none"],
    ["Host()", "v2", 1, "Host needs at least 1 argument, got none"],
    ["Host(`a`, ``)", "v2", 11, "empty argument to Host"],
    ["Host(`a`) && Path(``)", "v3", 19, "empty argument to Path"],
    ["Header(`X`)", "v3", 1, "Header takes exactly 2 arguments (a header name and a value), got 1"],
    ["Query(`a`, `b`, `c`)", "v3", 1, "Query takes 1 or 2 arguments"],
    ["Headers(`a`, `b`, `c`)", "v2", 1, "Headers takes name/value pairs"],
    ["Path(`a`)", "v3", 6, "Path needs a path starting with '/'"],
    ["PathRegexp(`(`)", "v3", 12, "invalid regular expression for PathRegexp"],
    ["HostRegexp(`a**`)", "v3", 12, "invalid nested repetition operator: `**`"],
    ["HeaderRegexp(`X`, `(?=a)`)", "v3", 19, "invalid or unsupported Perl syntax"],
    ["Host(`é.com`)", "v3", 6, "Host needs an ASCII host"],
    ["ClientIP(`300.0.0.1`)", "v3", 10, "invalid IP address or CIDR for ClientIP"],
    ["PathPrefix(`/{id:[}`)", "v2", 12, "invalid template for PathPrefix"],
    ["Query(`a`)", "v2", 1, "Query needs key=value arguments"],
  ];
  const wrong: string[] = [];
  for (const [rule, syntax, column, fragment] of cases) {
    const error = errorOf(rule, syntax);
    if (error.column !== column || !error.message.includes(fragment)) {
      wrong.push(`${rule} (${syntax}): got "${error.message}"`);
    }
  }
  assert.deepEqual(wrong, []);
});

Deno.test("an unknown matcher is reported before argument errors elsewhere", () => {
  const error = errorOf("Host(``) && Nope(`x`)");
  assert.equal(error.column, 13);
  assert.match(error.message, /unknown matcher 'Nope'/);
});
