import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import { z } from "zod";
import {
  ConfigError,
  type ConfigProblem,
  parseConfigText,
  validateWith,
} from "../../src/config/source.ts";
import { duration } from "../../src/config/duration.ts";

function problemsOf(fn: () => unknown): readonly ConfigProblem[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error("expected a ConfigError");
}

const YAML_TEXT = `# comment
entryPoints:
  web:
    address: ":80"
  websecure:
    forwardedHeaders:
      trustedIPs:
        - 10.0.0.0/8
        - bad
log: {level: DEBUG}
`;

Deno.test("parseConfigText() reads YAML into plain data", () => {
  const source = parseConfigText(YAML_TEXT, "pacer.yaml");
  deepEqual(source.value, {
    entryPoints: {
      web: { address: ":80" },
      websecure: { forwardedHeaders: { trustedIPs: ["10.0.0.0/8", "bad"] } },
    },
    log: { level: "DEBUG" },
  });
});

Deno.test("parseConfigText() locates keys, list items and ancestors as file:line:col", () => {
  const source = parseConfigText(YAML_TEXT, "pacer.yaml");
  const cases: [readonly PropertyKey[], string][] = [
    [[], "pacer.yaml"],
    [["entryPoints"], "pacer.yaml:2:1"],
    [["entryPoints", "web", "address"], "pacer.yaml:4:5"],
    // Option names are canonicalized before validation: match case-insensitively.
    [["ENTRYPOINTS", "web", "Address"], "pacer.yaml:4:5"],
    [["entryPoints", "websecure", "forwardedHeaders", "trustedIPs", 1], "pacer.yaml:9:11"],
    [["log", "level"], "pacer.yaml:10:7"],
    // Missing keys fall back to the nearest ancestor that exists.
    [["entryPoints", "web", "transport", "lifeCycle"], "pacer.yaml:3:3"],
    [["entryPoints", "websecure", "forwardedHeaders", "trustedIPs", 7], "pacer.yaml:7:7"],
    [["nope"], "pacer.yaml"],
  ];
  for (const [path, expected] of cases) equal(source.locate(path), expected, String(path));
});

Deno.test("parseConfigText() prefers the exact key over a case-insensitive match", () => {
  const source = parseConfigText("a:\n  Web: 1\n  web: 2\n", "x.yaml");
  equal(source.locate(["a", "web"]), "x.yaml:3:3");
  equal(source.locate(["a", "Web"]), "x.yaml:2:3");
});

Deno.test("parseConfigText() reads and locates JSON", () => {
  const text = '{\n  "log": {\n    "level": "DEBUG"\n  },\n  "list": [1, 2]\n}\n';
  const source = parseConfigText(text, "pacer.json");
  deepEqual(source.value, { log: { level: "DEBUG" }, list: [1, 2] });
  equal(source.locate(["log", "level"]), "pacer.json:3:5");
  equal(source.locate(["list", 1]), "pacer.json:5:15");
});

Deno.test("parseConfigText() follows YAML aliases and merge keys", () => {
  const text = "base: &b\n  watch: false\nfile:\n  <<: *b\n  filename: a.yaml\n";
  const source = parseConfigText(text, "a.yaml");
  deepEqual(source.value, {
    base: { watch: false },
    file: { watch: false, filename: "a.yaml" },
  });
  equal(source.locate(["file", "filename"]), "a.yaml:5:3");
});

Deno.test("parseConfigText() returns {} for an empty or comment-only file", () => {
  for (const text of ["", "\n", "# nothing here\n", "---\n"]) {
    deepEqual(parseConfigText(text, "empty.yaml").value, {}, JSON.stringify(text));
  }
});

Deno.test("parseConfigText() reports every syntax error, located", () => {
  const cases: { name: string; file: string; text: string; expected: ConfigProblem[] }[] = [
    {
      name: "duplicate keys in YAML (each one)",
      file: "a.yaml",
      text: "log:\n  level: DEBUG\n  level: INFO\nlog: {}\n",
      expected: [
        { location: "a.yaml:3:3", message: "duplicate key 'level'" },
        { location: "a.yaml:4:1", message: "duplicate key 'log'" },
      ],
    },
    {
      name: "duplicate keys in JSON",
      file: "a.json",
      text: '{"a": 1,\n "a": 2}',
      expected: [{ location: "a.json:2:2", message: 'duplicate key "a"' }],
    },
    {
      name: "tab indentation",
      file: "b.yaml",
      text: "log:\n\tlevel: DEBUG\n",
      expected: [{ location: "b.yaml:2:1", message: "Tabs are not allowed as indentation" }],
    },
  ];
  for (const c of cases) {
    deepEqual(problemsOf(() => parseConfigText(c.text, c.file)), c.expected, c.name);
  }
});

Deno.test("parseConfigText() refuses several YAML documents in one file", () => {
  const problems = problemsOf(() => parseConfigText("a: 1\n---\nb: 2\n", "c.yaml"));
  equal(problems.length, 1);
  equal(problems[0]!.location, "c.yaml:2:1");
  match(problems[0]!.message, /multiple documents/);
});

Deno.test("parseConfigText() reports an unterminated flow collection at line:col", () => {
  const problems = problemsOf(() => parseConfigText('{\n  "a": [1, 2,\n  "b": 3\n', "broken.json"));
  ok(problems.length >= 1);
  for (const p of problems) match(p.location, /^broken\.json:\d+:\d+$/);
});

Deno.test("parseConfigText() refuses TOML with a clear message", () => {
  const problems = problemsOf(() => parseConfigText("[log]\nlevel = 'DEBUG'\n", "traefik.toml"));
  deepEqual(problems, [{
    location: "traefik.toml",
    message: "TOML configuration files are not supported; use YAML (.yaml, .yml) or JSON (.json)",
  }]);
});

Deno.test("ConfigError lists every problem, one per line", () => {
  const error = new ConfigError([
    { location: "pacer.yaml:12:5", message: "'entryPoints.web.address': must be host:port" },
    { location: "--log.level", message: 'must be one of DEBUG, INFO, WARN, ERROR, got "x"' },
  ]);
  equal(
    error.message,
    "pacer.yaml:12:5: 'entryPoints.web.address': must be host:port\n" +
      '--log.level: must be one of DEBUG, INFO, WARN, ERROR, got "x"',
  );
  equal(error.name, "ConfigError");
  ok(error instanceof Error);
});

const itemSchema = z.strictObject({
  name: z.string(),
  port: z.number().int().max(65535),
  timeout: duration().default(1000),
  tags: z.array(z.string()).default([]),
  nested: z.strictObject({ enabled: z.boolean().default(false) }).optional(),
});

Deno.test("validateWith() canonicalizes option names and applies defaults", () => {
  const source = parseConfigText(
    "NAME: a\nPort: 80\nTimeout: 2s\nNESTED: {ENABLED: true}\n",
    "i.yaml",
  );
  const result = validateWith(itemSchema, source);
  ok(result.ok);
  deepEqual(result.value, {
    name: "a",
    port: 80,
    timeout: 2000,
    tags: [],
    nested: { enabled: true },
  });
});

Deno.test("validateWith() locates every issue, not only the first", () => {
  const text = "name: 3\nport: 70000\ntimeout: soon\ntags: [a, 2]\nnested:\n  enabld: true\n";
  const result = validateWith(itemSchema, parseConfigText(text, "i.yaml"));
  ok(!result.ok);
  deepEqual(result.problems, [
    { location: "i.yaml:1:1", message: "'name': expected string, got number 3" },
    { location: "i.yaml:2:1", message: "'port': expected number to be <=65535, got 70000" },
    {
      location: "i.yaml:3:1",
      message:
        `'timeout': Invalid duration: "soon" (expected a number followed by one of ns, us, ms, s, m, h, as in "1m30s")`,
    },
    { location: "i.yaml:4:11", message: "'tags[1]': expected string, got number 2" },
    {
      location: "i.yaml:6:3",
      message: "'nested.enabld': unknown option (did you mean 'enabled'?)",
    },
  ]);
});

Deno.test("validateWith() explains a wrong type for a duration", () => {
  const result = validateWith(itemSchema, {
    value: { name: "a", port: 1, timeout: true },
    locate: () => "x",
  });
  ok(!result.ok);
  deepEqual(result.problems, [{
    location: "x",
    message:
      `'timeout': expected a duration such as "10s" or "1m30s", or a number of seconds, got true`,
  }]);
});

Deno.test("validateWith() reports missing options at their parent and names the options", () => {
  const result = validateWith(itemSchema, parseConfigText("port: 1\nwhat: 2\n", "i.yaml"));
  ok(!result.ok);
  deepEqual(result.problems, [
    { location: "i.yaml", message: "'name': required option is missing" },
    {
      location: "i.yaml:2:1",
      message: "'what': unknown option (options here: name, port, timeout, tags, nested)",
    },
  ]);
});

Deno.test("validateWith() refuses an option written twice in different case", () => {
  const result = validateWith(itemSchema, parseConfigText("name: a\nNAME: b\nport: 1\n", "i.yaml"));
  ok(!result.ok);
  deepEqual(result.problems, [
    {
      location: "i.yaml:2:1",
      message: "'NAME': option 'name' is written twice ('name' and 'NAME')",
    },
  ]);
});

Deno.test("validateWith() accepts any located value (labels, flags)", () => {
  const result = validateWith(itemSchema, {
    value: { name: "x", port: "80" },
    locate: (path) => `label traefik.${path.join(".")}`,
  });
  ok(!result.ok);
  deepEqual(result.problems, [
    { location: "label traefik.port", message: `'port': expected number, got string "80"` },
  ]);
});

Deno.test("validateWith() keeps object names' case while canonicalizing options", () => {
  const schema = z.strictObject({
    routers: z.record(z.string(), z.strictObject({ rule: z.string() })),
  });
  const result = validateWith(
    schema,
    parseConfigText("ROUTERS:\n  MyRouter: {RULE: x}\n", "d.yaml"),
  );
  ok(result.ok);
  deepEqual(result.value, { routers: { MyRouter: { rule: "x" } } });
  throws(() => parseConfigText("a: [", "d.yaml"), ConfigError);
});

Deno.test("validateWith() says what was found instead of an object", () => {
  const schema = z.strictObject({ a: z.strictObject({ b: z.string() }) });
  const cases: [string, string][] = [
    ["[1, 2]\n", "expected object, got a list"],
    ["a: [1]\n", "'a': expected object, got a list"],
    ["a: 3\n", "'a': expected object, got number 3"],
    ["a: {b: {c: 1}}\n", "'a.b': expected string, got a section"],
  ];
  for (const [text, message] of cases) {
    const result = validateWith(schema, parseConfigText(text, "t.yaml"));
    ok(!result.ok, text);
    deepEqual(result.problems.map((p) => p.message), [message], text);
  }
});
