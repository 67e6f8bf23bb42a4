/**
 * Readiness (§5.3): Traefik v2.11's `readiness_test.go` ported as data (its
 * configurable timeouts replaced by Traefik's fixed defaults: 10 s window
 * without a check timeout, timeout + 5 s otherwise), plus RFC 3339 parsing.
 */
import { equal } from "node:assert/strict";
import { parseRfc3339, taskReadiness } from "../../../src/provider/marathon/readiness.ts";
import { type MarathonApp, readApp } from "../../../src/provider/marathon/types.ts";
import { app, NOW, startedBefore, task, type TaskInput } from "./_builders.ts";

function judge(appInput: Parameters<typeof app>[0], taskInput: TaskInput): boolean {
  const r = readApp(app({ ...appInput, tasks: [task(taskInput)] }));
  if (!r.ok) throw new Error(r.message);
  const marathonApp: MarathonApp = r.app;
  return taskReadiness(marathonApp, marathonApp.tasks[0]!, NOW).ready;
}

const cases: Array<
  { desc: string; app: Parameters<typeof app>[0]; task?: TaskInput; ready: boolean }
> = [
  { desc: "no deployment running", app: { id: "/a" }, ready: true },
  {
    desc: "no deployment running even with a negative result",
    app: {
      id: "/a",
      readinessChecks: [{}],
      readinessCheckResults: [{ taskId: "taskID", ready: false }],
    },
    ready: true,
  },
  { desc: "no readiness checks defined", app: { id: "/a", deployments: ["d"] }, ready: true },
  {
    desc: "readiness check result negative",
    app: {
      id: "/a",
      deployments: ["d"],
      readinessChecks: [{ timeoutSeconds: 0 }],
      readinessCheckResults: [{ taskId: "otherTaskID", ready: true }, {
        taskId: "taskID",
        ready: false,
      }],
    },
    ready: false,
  },
  {
    desc: "readiness check result positive",
    app: {
      id: "/a",
      deployments: ["d"],
      readinessChecks: [{ timeoutSeconds: 0 }],
      readinessCheckResults: [{ taskId: "otherTaskID", ready: false }, {
        taskId: "taskID",
        ready: true,
      }],
    },
    ready: true,
  },
  {
    desc: "the first matching result wins, whatever the task's age",
    app: {
      id: "/a",
      deployments: ["d"],
      readinessChecks: [{}],
      readinessCheckResults: [{ taskId: "taskID", ready: false }, {
        taskId: "taskID",
        ready: true,
      }],
    },
    task: { startedAt: startedBefore(3_600_000) },
    ready: false,
  },
  {
    desc: "no result, default window (10 s, no margin): 9.9 s old is unready",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{ timeoutSeconds: 0 }] },
    task: { startedAt: startedBefore(9_900) },
    ready: false,
  },
  {
    desc: "no result, default window: exactly 10 s old is ready",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{}] },
    task: { startedAt: startedBefore(10_000) },
    ready: true,
  },
  {
    desc: "no result with readiness check timeout: 184 s old is within 180 s + 5 s",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{ timeoutSeconds: 180 }] },
    task: { startedAt: startedBefore(184_000) },
    ready: false,
  },
  {
    desc: "no result with readiness check timeout: 186 s old is outside 180 s + 5 s",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{ timeoutSeconds: 180 }] },
    task: { startedAt: startedBefore(186_000) },
    ready: true,
  },
  {
    desc: "only the first readiness check's timeout counts",
    app: {
      id: "/a",
      deployments: ["d"],
      readinessChecks: [{ timeoutSeconds: 1 }, { timeoutSeconds: 600 }],
    },
    task: { startedAt: startedBefore(7_000) },
    ready: true,
  },
  {
    desc: "invalid task start time",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{}] },
    task: { startedAt: "invalid" },
    ready: false,
  },
  {
    desc: "missing task start time",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{}] },
    ready: false,
  },
  {
    desc: "task not involved in deployment",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{}] },
    task: { startedAt: startedBefore(3_600_000) },
    ready: true,
  },
  {
    desc: "a start time in the future is unready",
    app: { id: "/a", deployments: ["d"], readinessChecks: [{}] },
    task: { startedAt: "2030-01-01T00:00:00Z" },
    ready: false,
  },
];
for (const c of cases) {
  Deno.test(`taskReadiness() ${c.desc}`, () => {
    equal(judge(c.app, c.task ?? {}), c.ready);
  });
}

const times: Array<[string, number | undefined]> = [
  ["2015-09-30T12:44:45.681Z", Date.UTC(2015, 8, 30, 12, 44, 45, 681)],
  ["2015-09-30T12:44:45Z", Date.UTC(2015, 8, 30, 12, 44, 45)],
  ["2015-09-30T14:44:45+02:00", Date.UTC(2015, 8, 30, 12, 44, 45)],
  ["2015-09-30T10:14:45.5-02:30", Date.UTC(2015, 8, 30, 12, 44, 45, 500)],
  ["2016-02-29T00:00:00Z", Date.UTC(2016, 1, 29)],
  ["2015-02-29T00:00:00Z", undefined],
  ["2015-09-30 12:44:45Z", undefined],
  ["2015-09-30t12:44:45Z", undefined],
  ["2015-09-30T12:44:45", undefined],
  ["2015-09-30T24:00:00Z", undefined],
  ["2015-13-01T00:00:00Z", undefined],
  ["2015-09-30T12:44:45+0200", undefined],
  ["", undefined],
];
for (const [text, expected] of times) {
  Deno.test(`parseRfc3339(${JSON.stringify(text)})`, () => {
    equal(parseRfc3339(text), expected);
  });
}

Deno.test("taskReadiness() (Pacer) keeps a young task of an earlier app version: it is an old task", () => {
  const young = new Date(NOW.getTime() - 1000).toISOString();
  const judgeVersions = (taskVersion: string | undefined) => {
    const r = readApp({
      id: "/a",
      version: "2026-11-24T10:00:05.000Z",
      deployments: [{ id: "d" }],
      readinessChecks: [{ timeoutSeconds: 1 }],
      readinessCheckResults: [],
      tasks: [{ id: "t", state: "TASK_RUNNING", startedAt: young, version: taskVersion }],
    });
    if (!r.ok) throw new Error(r.message);
    return taskReadiness(r.app, r.app.tasks[0]!, NOW);
  };
  const old = judgeVersions("2026-11-24T10:00:00.000Z");
  equal(old.ready, true);
  equal(old.reason, "it runs an earlier version of the app (an old task)");
  // A task of the current version with no result yet falls back to Traefik's age window.
  equal(judgeVersions("2026-11-24T10:00:05.000Z").ready, false);
  equal(judgeVersions(undefined).ready, false);
});
