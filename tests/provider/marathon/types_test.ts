/**
 * The defensive reader of raw Marathon apps.
 */
import { deepEqual, equal, ok } from "node:assert/strict";
import { readApp } from "../../../src/provider/marathon/types.ts";

Deno.test("readApp() reads both networking shapes", () => {
  const legacy = readApp({
    id: "/a",
    ipAddress: { discovery: { ports: [{ number: 80, name: "http" }] } },
    container: {
      docker: { network: "USER", portMappings: [{ containerPort: 8080, hostPort: 0, name: "x" }] },
    },
  });
  ok(legacy.ok);
  deepEqual(legacy.app.ipAddress, { discoveryPorts: [{ number: 80, name: "http" }] });
  deepEqual(legacy.app.portMappings, [{ containerPort: 8080, hostPort: 0, name: "x" }]);
  equal(legacy.app.networkMode, undefined);

  const modern = readApp({
    id: "/b",
    networks: [{ mode: "container", name: "dcos" }, { mode: "container", name: "other" }],
    container: { portMappings: [{ containerPort: 53, protocol: "udp" }] },
  });
  ok(modern.ok);
  equal(modern.app.networkMode, "container");
  deepEqual(modern.app.portMappings, [{ containerPort: 53, hostPort: undefined, name: "" }]);
});

Deno.test("readApp() reads networks: [] and a null ipAddress as absent", () => {
  const r = readApp({ id: "/a", networks: [], ipAddress: null });
  ok(r.ok);
  equal(r.app.networkMode, undefined);
  equal(r.app.ipAddress, undefined);
});

Deno.test("readApp() tolerates what Marathon really sends (unreachableStrategy string, secret env, null fields)", () => {
  const r = readApp({
    id: "/a",
    unreachableStrategy: "disabled",
    env: { DB: { secret: "db" } },
    labels: null,
    constraints: null,
    tasks: [{
      id: "a.1",
      host: "h",
      ports: null,
      ipAddresses: null,
      healthCheckResults: [{ alive: false }],
    }],
  });
  ok(r.ok);
  deepEqual(r.app.labels, {});
  deepEqual(r.app.tasks, [{
    id: "a.1",
    state: undefined,
    host: "h",
    ports: [],
    ipAddresses: [],
    startedAt: undefined,
    version: undefined,
  }]);
});

const malformedApps: Array<[string, unknown, RegExp]> = [
  ["not an object", "x", /must be an object/],
  ["no id", { labels: {} }, /no 'id'/],
  ["labels not an object", { id: "/a", labels: [] }, /'labels' must be an object/],
  ["a non-string label", { id: "/a", labels: { x: true } }, /label 'x' must have a string value/],
  ["constraints of the wrong shape", { id: "/a", constraints: [["a", 1]] }, /constraints\[0\]/],
  ["tasks not an array", { id: "/a", tasks: {} }, /'tasks' must be an array/],
  [
    "a non-integer port definition",
    { id: "/a", portDefinitions: [{ port: "80" }] },
    /portDefinitions\[0\]\.'port'/,
  ],
];
for (const [desc, raw, pattern] of malformedApps) {
  Deno.test(`readApp() rejects an app with ${desc}`, () => {
    const r = readApp(raw);
    ok(!r.ok);
    ok(pattern.test(r.message), r.message);
  });
}

Deno.test("readApp() leaves out malformed tasks and reports them", () => {
  const r = readApp({
    id: "/a",
    tasks: [
      { id: "ok", state: "TASK_RUNNING", host: "h", ports: [1] },
      { state: "TASK_RUNNING" },
      { id: "bad", ports: [1.5] },
      7,
    ],
  });
  ok(r.ok);
  deepEqual(r.app.tasks.map((t) => t.id), ["ok"]);
  deepEqual(r.taskProblems.map((p) => p.taskId), [undefined, "bad", undefined]);
});

Deno.test("readApp() accepts fractional readiness timeouts and refuses negative or non-numeric ones", () => {
  const read = (timeoutSeconds: unknown) =>
    readApp({ id: "/a", readinessChecks: [{ timeoutSeconds }] });
  const half = read(0.5);
  ok(half.ok);
  equal(half.app.readinessChecks[0]!.timeoutSeconds, 0.5);
  for (const bad of [-1, "5", Infinity]) {
    const r = read(bad);
    ok(!r.ok, String(bad));
    ok(r.message.includes("'timeoutSeconds' must be a number of seconds"), r.message);
  }
});
