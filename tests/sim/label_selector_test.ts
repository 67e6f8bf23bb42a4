import assert from "node:assert/strict";
import { matchesLabels, parseLabelSelector } from "../../src/sim/label_selector.ts";

Deno.test("parseLabelSelector() reads every form of Marathon's selector grammar", () => {
  const cases: [string, unknown][] = [
    ["a", [{ key: "a", op: "exists" }]],
    ["a==b", [{ key: "a", op: "==", value: "b" }]],
    [" a != b ", [{ key: "a", op: "!=", value: "b" }]],
    ["a in (x, y),b", [{ key: "a", op: "in", values: ["x", "y"] }, { key: "b", op: "exists" }]],
    ["a notin (x)", [{ key: "a", op: "notin", values: ["x"] }]],
    ["traefik.enable==true", [{ key: "traefik.enable", op: "==", value: "true" }]],
    ["a\\ b==c\\,d", [{ key: "a b", op: "==", value: "c,d" }]],
    ["in==notin", [{ key: "in", op: "==", value: "notin" }]],
  ];
  for (const [input, expected] of cases) {
    assert.deepEqual(parseLabelSelector(input), expected, input);
  }
});

Deno.test("parseLabelSelector() rejects malformed selectors with a SyntaxError", () => {
  for (const input of ["", "a==", "a b", "a in x", "a in (x", "a,", "a==b c", "a\\"]) {
    assert.throws(() => parseLabelSelector(input), SyntaxError, input);
  }
});

Deno.test("matchesLabels() needs the label for every form, as Marathon does", () => {
  const labels = { env: "prod", tier: "web" };
  const m = (s: string) => matchesLabels(labels, parseLabelSelector(s));
  assert.equal(m("env"), true);
  assert.equal(m("team"), false);
  assert.equal(m("env==prod,tier==web"), true);
  assert.equal(m("env==prod,tier==db"), false);
  assert.equal(m("env!=dev"), true);
  assert.equal(m("team!=x"), false, "!= on a missing label does not match");
  assert.equal(m("env in (dev, prod)"), true);
  assert.equal(m("env notin (prod)"), false);
  assert.equal(m("team notin (x)"), false);
});
