/**
 * The Go-template subset used for `defaultRule`.
 */
import { equal, throws } from "node:assert/strict";
import {
  compileTemplate,
  GoMap,
  GoStruct,
  normalize,
  TemplateExecError,
} from "../../../src/provider/marathon/template.ts";
import { compileDefaultRule } from "../../../src/provider/marathon/build.ts";

function model(name: string, labels: Record<string, string> = {}): GoStruct {
  return new GoStruct("struct { Name string; Labels map[string]string }", {
    Name: name,
    Labels: new GoMap(labels, ""),
  });
}

const render = (tpl: string, name = "/a/b/app", labels: Record<string, string> = {}) =>
  compileTemplate(tpl).execute(model(name, labels));

const normalizeCases: Array<[string, string]> = [
  ["/foo-v000", "foo-v000"],
  ["/my_group/my.app", "my-group-my-app"],
  ["/a/b/app", "a-b-app"],
  ["Ünïcode/ÄPP 2", "Ünïcode-ÄPP-2"],
  ["--x--", "x"],
  ["", ""],
];
for (const [input, expected] of normalizeCases) {
  Deno.test(`normalize(${JSON.stringify(input)}) is ${JSON.stringify(expected)}`, () => {
    equal(normalize(input), expected);
  });
}

const cases: Array<
  { desc: string; tpl: string; labels?: Record<string, string>; name?: string; out: string }
> = [
  { desc: "Traefik's default rule", tpl: "Host(`{{ normalize .Name }}`)", out: "Host(`a-b-app`)" },
  {
    desc: "groups as subdomains (pipeline, sprig, strsToItfs)",
    tpl:
      `Host("{{ .Name | trimPrefix "/" | splitList "/" | strsToItfs | reverse | join "." }}.marathon.localhost")`,
    out: `Host("app.b.a.marathon.localhost")`,
  },
  {
    desc: "reverse works without strsToItfs too",
    tpl: `{{ .Name | trimPrefix "/" | splitList "/" | reverse | join "." }}`,
    out: "app.b.a",
  },
  {
    desc: "index .Labels",
    tpl: 'Host(`{{ index .Labels "customLabel" }}.example.com`)',
    labels: { customLabel: "shop" },
    out: "Host(`shop.example.com`)",
  },
  {
    desc: "field on the labels map",
    tpl: "{{ .Labels.env }}",
    labels: { env: "prod" },
    out: "prod",
  },
  { desc: "a missing map key prints <no value>", tpl: "{{ .Labels.env }}", out: "<no value>" },
  { desc: "index of a missing key is empty", tpl: `[{{ index .Labels "env" }}]`, out: "[]" },
  {
    desc: "default for a missing label",
    tpl: `{{ index .Labels "env" | default "dev" }}`,
    out: "dev",
  },
  {
    desc: "default keeps a present label",
    tpl: `{{ default "dev" .Labels.env }}`,
    labels: { env: "qa" },
    out: "qa",
  },
  { desc: "trim markers", tpl: "Host(`  {{- normalize .Name -}}  `)", out: "Host(`a-b-app`)" },
  { desc: "comments", tpl: "a{{/* note */}}b{{- /* trimmed */ -}} c", out: "abc" },
  { desc: "parenthesized call", tpl: `{{ upper (trimPrefix "/" .Name) }}`, out: "A/B/APP" },
  {
    desc: "lower, replace, trimSuffix, title",
    tpl: `{{ .Name | lower | replace "/" "." | trimSuffix ".app" | title }}`,
    name: "/X/Y/app",
    out: ".X.Y",
  },
  {
    desc: "contains / hasPrefix / hasSuffix",
    tpl: `{{ contains "b" .Name }} {{ hasPrefix "/a" .Name }} {{ hasSuffix "x" .Name }}`,
    out: "true true false",
  },
  {
    desc: "first and last",
    tpl: `{{ .Name | splitList "/" | last }}-{{ .Name | trimPrefix "/" | splitList "/" | first }}`,
    out: "app-a",
  },
  { desc: "split map", tpl: `{{ (split "/" .Name)._2 }}`, out: "b" },
  { desc: "raw strings and escapes", tpl: '{{ `a\\n` }}{{ "\\tb" }}', out: "a\\n\tb" },
  {
    desc: "if / else if / else",
    tpl: `{{ if eq .Labels.env "prod" }}P{{ else if .Labels.env }}O{{ else }}N{{ end }}`,
    labels: { env: "qa" },
    out: "O",
  },
  {
    desc: "if on a missing key is false",
    tpl: `{{ if .Labels.env }}y{{ else }}n{{ end }}`,
    out: "n",
  },
  {
    desc: "with rebinds dot",
    tpl: `{{ with .Labels.env }}[{{ . }}]{{ end }}`,
    labels: { env: "qa" },
    out: "[qa]",
  },
  {
    desc: "range with variables and else",
    tpl:
      `{{ range $i, $p := splitList "/" .Name }}{{ if $i }}{{ $i }}={{ $p }};{{ end }}{{ end }}{{ range list }}x{{ else }}empty{{ end }}`,
    out: "1=a;2=b;3=app;empty",
  },
  {
    desc: "variables",
    tpl: `{{ $n := normalize .Name }}{{ $n = upper $n }}{{ $n }}`,
    out: "A-B-APP",
  },
  {
    desc: "and/or return operands",
    tpl: `{{ or .Labels.x "fallback" }} {{ and "a" "b" }}`,
    out: "fallback b",
  },
  {
    desc: "printf and print",
    tpl: `{{ printf "%s-%d" "x" 3 }} {{ print 1 2 "a" }}`,
    out: "x-3 1 2a",
  },
  { desc: "len and not", tpl: `{{ len .Name }} {{ not true }}`, out: "8 false" },
  { desc: "printing a list", tpl: `{{ splitList "/" .Name }}`, out: "[ a b app]" },
  {
    desc: "quote, cat, repeat, trunc, substr",
    tpl:
      `{{ quote "a" }} {{ cat "a" "b" }} {{ repeat 2 "x" }} {{ trunc 2 "abc" }} {{ substr 1 2 "abc" }}`,
    out: `"a" a b xx ab b`,
  },
  { desc: "$ is the model", tpl: `{{ range list 1 }}{{ $.Name }}{{ end }}`, out: "/a/b/app" },
];
for (const c of cases) {
  Deno.test(`compileTemplate(): ${c.desc}`, () => {
    equal(render(c.tpl, c.name, c.labels), c.out);
  });
}

const parseErrors: Array<[string, RegExp]> = [
  ["{{ nosuch .Name }}", /function "nosuch" not defined/],
  ["{{ .Name ", /unclosed action/],
  ["{{ if .Name }}x", /no \{\{end\}\}/],
  ["{{ end }}", /unexpected \{\{end\}\}/],
  ["{{ }}", /missing value/],
  ["{{ $x }}", /undefined variable "\$x"/],
  ['{{ .Name | "x" }}', /non executable command/],
  ['{{ "unterminated }}', /unterminated string/],
  ['{{ define "x" }}{{ end }}', /not supported/],
  ["{{ lower(.Name) }}", /missing space/],
];
for (const [tpl, pattern] of parseErrors) {
  Deno.test(`compileTemplate() rejects ${JSON.stringify(tpl)}`, () => {
    throws(
      () => compileTemplate(tpl),
      (e: unknown) => e instanceof SyntaxError && pattern.test((e as Error).message),
    );
  });
}

const execErrors: Array<[string, RegExp]> = [
  ["{{ .Labels.missing | lower }}", /invalid value; expected string/],
  ["{{ .Nope }}", /can't evaluate field Nope/],
  ["{{ .Name.x }}", /can't evaluate field x in type string/],
  ['{{ .Name | splitList "/" | lower }}', /wrong type for value/],
  ["{{ lower }}", /wrong number of args for lower: want 1 got 0/],
  ["{{ first .Name }}", /Cannot find first/],
  ["{{ .Name 1 }}", /can't give argument to non-function/],
];
for (const [tpl, pattern] of execErrors) {
  Deno.test(`compileTemplate() execution fails for ${JSON.stringify(tpl)}`, () => {
    throws(
      () => render(tpl),
      (e: unknown) => e instanceof TemplateExecError && pattern.test((e as Error).message),
    );
  });
}

Deno.test("compileDefaultRule() wraps parse errors in a SyntaxError naming the option", () => {
  throws(() => compileDefaultRule("{{ bogus }}"), /providers\.marathon\.defaultRule/);
  equal(compileDefaultRule("Host(`{{ normalize .Name }}`)").execute(model("/x")), "Host(`x`)");
});
