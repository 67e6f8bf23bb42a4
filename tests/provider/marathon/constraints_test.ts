/**
 * The constraints expression: Traefik v2.11's `TestMatchLabels`
 * (`pkg/provider/constraints/constraints_labels_test.go`) ported as data,
 * plus Go literal syntax and error cases.
 */
import { equal, throws } from "node:assert/strict";
import {
  compileConstraints,
  MARATHON_CONSTRAINT_PREFIX,
} from "../../../src/provider/marathon/constraints.ts";

const LABELS = { hello: "world", foo: "bar" };

const cases: Array<
  { expr: string; labels?: Record<string, string>; expected?: boolean; error?: boolean }
> = [
  { expr: `Label("hello", "world")`, labels: LABELS, expected: true },
  { expr: `Label("hello", "worlds")`, labels: LABELS, expected: false },
  { expr: `Label("hi", "world")`, labels: LABELS, expected: false },
  { expr: `!Label("hello", "world")`, labels: LABELS, expected: false },
  { expr: `Label("hello", "world") && Label("foo", "bar")`, labels: LABELS, expected: true },
  { expr: `Label("hello", "worlds") && Label("foo", "bar")`, labels: LABELS, expected: false },
  { expr: `Label("hello", "world") && !Label("foo", "bar")`, labels: LABELS, expected: false },
  { expr: `Label("hello", "world") || Label("foo", "bar")`, labels: LABELS, expected: true },
  { expr: `Label("hello", "worlds") || Label("foo", "bar")`, labels: LABELS, expected: true },
  { expr: `Label("hello", "world") || !Label("foo", "bar")`, labels: LABELS, expected: true },
  { expr: `Label("hello")`, labels: LABELS, error: true },
  { expr: `Foo("hello")`, labels: LABELS, error: true },
  { expr: `Label("hello", "bar")`, expected: false },
  { expr: ``, expected: true },
  { expr: String.raw`LabelRegex("hello", "w\\w+")`, labels: LABELS, expected: true },
  { expr: String.raw`LabelRegex("hello", "w\\w+s")`, labels: LABELS, expected: false },
  { expr: String.raw`LabelRegex("hi", "w\\w+")`, labels: LABELS, expected: false },
  { expr: String.raw`!LabelRegex("hello", "w\\w+")`, labels: LABELS, expected: false },
  { expr: String.raw`LabelRegex("hello", "w(\\w+")`, labels: LABELS, expected: false },
  // Beyond Traefik's table. (Go source text: String.raw keeps its backslashes.)
  { expr: `Label("missing", "")`, labels: LABELS, expected: true },
  { expr: `LabelRegex("hello", "orl")`, labels: LABELS, expected: true },
  { expr: `LabelRegex("hello", "(?i)^WORLD$")`, labels: LABELS, expected: true },
  { expr: "Label(`hello`, `world`)", labels: LABELS, expected: true },
  { expr: "LabelRegex(`hello`, `^w\\w+$`)", labels: LABELS, expected: true },
  { expr: `Label("he\\x6clo", "w\\u006frld")`, labels: LABELS, expected: true },
  { expr: `Label("a", "\\"q\\"")`, labels: { a: `"q"` }, expected: true },
  { expr: `Label("hello", "world",)`, labels: LABELS, expected: true },
  {
    expr: `(Label("hello", "x") || Label("foo", "bar")) && !Label("foo", "baz")`,
    labels: LABELS,
    expected: true,
  },
  {
    expr: `Label("hello", "x") || Label("foo", "bar") && Label("foo", "x")`,
    labels: LABELS,
    expected: false,
  },
  { expr: `!!Label("hello", "world")`, labels: LABELS, expected: true },
  { expr: `/* prod only */ Label("hello", "world")`, labels: LABELS, expected: true },
  {
    expr: `MarathonConstraint("hostname:UNIQUE")`,
    labels: { [`${MARATHON_CONSTRAINT_PREFIX}-0`]: "hostname:UNIQUE" },
    expected: true,
  },
  {
    expr: `MarathonConstraint("hostname:UNIQUE")`,
    labels: { "hostname": "hostname:UNIQUE" },
    expected: false,
  },
  // Errors.
  { expr: `Label("a", "b") == Label("c", "d")`, error: true },
  { expr: `Label("a", 1)`, error: true },
  { expr: `Label('a', "b")`, error: true },
  { expr: `Label("a", "b") && "x"`, error: true },
  { expr: `"x"`, error: true },
  { expr: `Label`, error: true },
  { expr: `Label("a", "b"`, error: true },
  { expr: `Label("a", "\\q")`, error: true },
  { expr: `Label("a", "b") &&`, error: true },
  { expr: `Label(Label("a", "b"), "c")`, error: true },
  { expr: `x.Label("a", "b")`, error: true },
];

for (const c of cases) {
  Deno.test(`compileConstraints() ${c.expr || "(empty)"}`, () => {
    if (c.error) {
      throws(() => compileConstraints(c.expr), SyntaxError);
      return;
    }
    equal(compileConstraints(c.expr)(c.labels ?? {}), c.expected);
  });
}

Deno.test("compileConstraints() names the expression and the problem in its error", () => {
  throws(
    () => compileConstraints(`Label("a")`),
    /Invalid constraints expression "Label\(\\"a\\"\)": Label takes 2 arguments, got 1/,
  );
  throws(() => compileConstraints(`Foo("a")`), /unsupported function: Foo/);
});
