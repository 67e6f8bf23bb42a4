import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import { pacerOptions } from "../../../src/cli/run.ts";
import { loadStaticConfig } from "../../../src/config/static.ts";
import { memoryLogger } from "../../../src/log/logger.ts";
import { builtinRegistry } from "../../../src/middleware/builtins.ts";
import type { MarathonOptionsInput } from "../../../src/provider/marathon/options.ts";
import type { DynamicConfig } from "../../../src/config/dynamic.ts";
import {
  emptiedService,
  marathonProvider,
  type MarathonProviderTiming,
  markTaskState,
  resolveMarathonOptions,
} from "../../../src/provider/marathon/provider.ts";
import { RELEVANT_EVENTS } from "../../../src/provider/marathon/events.ts";
import type { ConfigMessage } from "../../../src/provider/provider.ts";
import { app, task } from "./_builders.ts";
import { FakeMarathon, gate, routersOf, serversOf } from "./_fake_marathon.ts";

const registry = builtinRegistry();

function web(states: string[] = ["TASK_RUNNING", "TASK_RUNNING"]): Record<string, unknown> {
  return app({
    id: "/web",
    tasks: states.map((state, i) =>
      task({ id: `web.${i}`, state, host: "10.0.0.1", ports: [31000 + i] })
    ),
  });
}

const WEB0 = "http://10.0.0.1:31000";
const WEB1 = "http://10.0.0.1:31001";

/** Runs a provider against a fake Marathon under fake timers. */
function harness(
  options: MarathonOptionsInput = {},
  timing: MarathonProviderTiming = {},
) {
  const clock = FakeTimers.install({
    toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval", "Date"],
  });
  const marathon = new FakeMarathon();
  const { log, records } = memoryLogger("debug");
  const messages: ConfigMessage[] = [];
  const abort = new AbortController();
  let running: Promise<void> | undefined;
  const start = () => {
    const provider = marathonProvider(
      { endpoint: "http://marathon:8080", resyncInterval: "1h", ...options },
      { log, registry, fetch: marathon.fetch, timing: { random: () => 0, ...timing } },
    );
    running = provider.run((m) => messages.push(m), abort.signal);
  };
  const stop = async () => {
    abort.abort();
    await running;
    clock.uninstall();
  };
  const logged = (re: RegExp, level?: string) =>
    records().filter((r) => re.test(String(r.msg)) && (level === undefined || r.level === level));
  return {
    clock,
    marathon,
    messages,
    start,
    stop,
    logged,
    records,
    tick: (ms = 0) => clock.tickAsync(ms),
  };
}

Deno.test("start-up: one whole configuration with every diagnostic and the default-rule routers", async () => {
  const h = harness();
  try {
    h.marathon.apps = [
      web(),
      app({
        id: "/bad",
        labels: { "traefik.enable": "maybe" },
        tasks: [task({ host: "h", ports: [1] })],
      }),
    ];
    h.start();
    await h.tick();
    const first = h.messages[0]!;
    assert.equal(first.provider, "marathon");
    assert.equal(first.urgent, undefined);
    assert.deepEqual(routersOf(first), ["web"]);
    assert.deepEqual(serversOf(first, "web"), [WEB0, WEB1]);
    assert.deepEqual(first.recursionGuard, ["web"]);
    const bad = first.diagnostics!.filter((d) => d.appId === "/bad");
    assert.equal(bad.length, 1);
    assert.equal(bad[0]!.severity, "error");
    // More lists (the stream's connect, then events): the diagnostic is logged once.
    h.marathon.stream.event("api_post_event");
    await h.tick();
    h.marathon.stream.event("api_post_event");
    await h.tick();
    assert.ok(h.marathon.lists >= 3);
    assert.ok(h.messages.length >= 3);
    assert.ok(h.messages.every((m) => m.diagnostics!.some((d) => d.appId === "/bad")));
    const logged = h.records().filter((r) => r.app === "/bad");
    assert.equal(logged.length, 1, "logged once, not per rebuild");
    assert.equal(logged[0]!.level, "error");
  } finally {
    await h.stop();
  }
});

Deno.test("coalescing: one list in flight; any number of events during it cause exactly one more", async () => {
  const h = harness();
  try {
    const gates: ReturnType<typeof gate<void>>[] = [];
    h.marathon.apps = [web()];
    h.marathon.onList = async () => {
      const g = gate<void>();
      gates.push(g);
      await g.promise;
      return h.marathon.answer();
    };
    h.start();
    await h.tick();
    assert.equal(h.marathon.lists, 1, "the start-up list is in flight");
    assert.equal(h.marathon.connects, 1);
    // 50 relevant events in one burst while the list runs.
    h.marathon.stream.push(
      Array.from(
        { length: 50 },
        (_, i) =>
          `event: status_update_event\r\ndata: {"taskId":"web.${i}","taskStatus":"TASK_RUNNING"}\r\n\r\n`,
      ).join(""),
    );
    await h.tick();
    assert.equal(h.marathon.lists, 1);
    gates[0]!.resolve();
    await h.tick();
    assert.equal(h.marathon.lists, 2, "exactly one more for the connect and the 50 events");
    gates[1]!.resolve();
    await h.tick(1_000);
    assert.equal(h.marathon.lists, 2, "nothing else to do");

    // A burst while idle: the first event lists, the other 29 make one more.
    for (let i = 0; i < 30; i++) {
      h.marathon.stream.event("deployment_info", { plan: { id: `${i}` } });
    }
    await h.tick();
    assert.equal(h.marathon.lists, 3);
    gates[2]!.resolve();
    await h.tick();
    assert.equal(h.marathon.lists, 4);
    gates[3]!.resolve();
    await h.tick(1_000);
    assert.equal(h.marathon.lists, 4);
    // Irrelevant events list nothing.
    h.marathon.stream.event("event_stream_attached");
    h.marathon.stream.event("framework_message_event");
    await h.tick();
    assert.equal(h.marathon.lists, 4);
  } finally {
    await h.stop();
  }
});

Deno.test("fast path: a task leaving TASK_RUNNING is removed at once, urgent, before any list completes", async () => {
  const h = harness();
  try {
    h.marathon.apps = [web()];
    const held: ReturnType<typeof gate<Response>>[] = [];
    h.start();
    await h.tick();
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB0, WEB1]);
    // From now on lists hang until the test answers them.
    h.marathon.onList = () => {
      const g = gate<Response>();
      held.push(g);
      return g.promise;
    };
    h.marathon.stream.event("api_post_event");
    await h.tick();
    const listsBefore = h.marathon.lists;
    const emitted = h.messages.length;

    h.marathon.stream.event("status_update_event", {
      taskId: "web.0",
      appId: "/web",
      taskStatus: "TASK_KILLING",
    });
    await h.tick();
    assert.equal(h.messages.length, emitted + 1);
    const urgent = h.messages.at(-1)!;
    assert.equal(urgent.urgent, true);
    assert.deepEqual(serversOf(urgent, "web"), [WEB1]);
    assert.equal(h.marathon.lists, listsBefore, "no list completed or started meanwhile");

    // The list in flight started before the event: its answer still shows web.0 running.
    held[0]!.resolve(Response.json({ apps: [web()] }));
    await h.tick();
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB1], "the stale answer is corrected");
    assert.equal(h.messages.at(-1)!.urgent, undefined);
    // The event asked for one more list, which Marathon answers with the new state.
    assert.equal(h.marathon.lists, listsBefore + 1);
    held[1]!.resolve(Response.json({ apps: [web(["TASK_KILLING", "TASK_RUNNING"])] }));
    await h.tick();
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB1]);

    // Later a fresh list is the truth again: a new task web.0 (same id reused here) is routed.
    h.marathon.onList = undefined;
    h.marathon.stream.event("api_post_event");
    await h.tick();
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB0, WEB1]);

    // An update for a task that is not routed changes nothing: no urgent message.
    const count = h.messages.length;
    h.marathon.onList = () => gate<Response>().promise;
    h.marathon.stream.event("status_update_event", {
      taskId: "other.1",
      taskStatus: "TASK_KILLED",
    });
    await h.tick();
    assert.equal(h.messages.length, count);
  } finally {
    h.marathon.onList = undefined;
    await h.stop();
  }
});

Deno.test("fast path: a removal that would empty a service waits for a fresh list, which goes out urgent", async () => {
  const h = harness();
  try {
    // One task; Marathon already started its replacement, but this snapshot does not know it.
    h.marathon.apps = [web(["TASK_RUNNING"])];
    h.start();
    await h.tick();
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB0]);
    const held: ReturnType<typeof gate<Response>>[] = [];
    h.marathon.onList = () => {
      const g = gate<Response>();
      held.push(g);
      return g.promise;
    };
    // A list is in flight (its answer will predate the kill).
    h.marathon.stream.event("api_post_event");
    await h.tick();
    assert.equal(held.length, 1);
    const emitted = h.messages.length;
    h.marathon.stream.event("status_update_event", {
      taskId: "web.0",
      appId: "/web",
      taskStatus: "TASK_KILLING",
    });
    await h.tick();
    assert.equal(h.messages.length, emitted, "no configuration without any server");
    // The old answer, with the kill applied, would leave /web empty: it is not emitted either.
    held[0]!.resolve(Response.json({ apps: [web(["TASK_RUNNING"])] }));
    await h.tick();
    assert.equal(h.messages.length, emitted, "a stale list does not empty a service");
    assert.equal(held.length, 2, "the list the event asked for");
    held[1]!.resolve(Response.json({ apps: [web(["TASK_KILLING", "TASK_RUNNING"])] }));
    await h.tick();
    const next = h.messages.at(-1)!;
    assert.equal(next.urgent, true, "the fresh list carries the removal, past the throttle");
    assert.deepEqual(serversOf(next, "web"), [WEB1]);
    // Only that list: the following ones are ordinary again.
    h.marathon.onList = undefined;
    h.marathon.apps = [web(["TASK_KILLING", "TASK_RUNNING"])];
    h.marathon.stream.event("api_post_event");
    await h.tick();
    assert.equal(h.messages.at(-1)!.urgent, undefined);
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB1]);
    // A fresh list may empty a service (the app really has no task left): it is emitted.
    h.marathon.apps = [web(["TASK_KILLED"])];
    h.marathon.stream.event("status_update_event", { taskId: "web.1", taskStatus: "TASK_KILLED" });
    await h.tick();
    assert.deepEqual(routersOf(h.messages.at(-1)), []);
    assert.equal(h.messages.at(-1)!.urgent, true);
  } finally {
    await h.stop();
  }
});

Deno.test("emptiedService(): a service that had servers and has none (or is gone)", () => {
  const lb = (n: number) => ({
    loadBalancer: { servers: Array.from({ length: n }, () => ({ url: "x" })) },
  });
  const cfg = (services: Record<string, unknown>) => ({ http: { services } }) as DynamicConfig;
  assert.equal(emptiedService(cfg({ a: lb(2) }), cfg({ a: lb(1) })), undefined);
  assert.equal(emptiedService(cfg({ a: lb(1) }), cfg({ a: lb(0) })), "http.services.a");
  assert.equal(emptiedService(cfg({ a: lb(1) }), cfg({})), "http.services.a");
  assert.equal(emptiedService(cfg({ a: lb(0) }), cfg({})), undefined);
  assert.equal(emptiedService(cfg({ w: { weighted: {} } }), cfg({})), undefined);
});

Deno.test("failures: nothing emitted, one log per failure state, retries back off; a failed first list is retried", async () => {
  const h = harness({ watch: false }, { retryInitialMs: 100, retryMaxMs: 800 });
  try {
    h.marathon.apps = [web()];
    let mode: "503" | "malformed" | "ok" = "503";
    h.marathon.onList = () => {
      if (mode === "503") {
        return new Response("<pre>Injected fault</pre>", { status: 503 });
      }
      if (mode === "malformed") return new Response('{"apps":[{"id":', { status: 200 });
      return h.marathon.answer();
    };
    h.start();
    await h.tick();
    assert.equal(h.marathon.lists, 1);
    // random() = 0: no jitter taken off; 100, 200, 400, 800, 800 ms.
    const at: number[] = [];
    for (const step of [100, 200, 400, 800, 800]) {
      await h.tick(step - 1);
      at.push(h.marathon.lists);
      await h.tick(1);
    }
    assert.deepEqual(at, [1, 2, 3, 4, 5]);
    assert.equal(h.marathon.lists, 6);
    const errors = () => h.logged(/Cannot list Marathon apps/, "error");
    assert.equal(errors().length, 1, "one error for six failed lists");
    assert.match(String(errors()[0]!.error), /HTTP 503: Injected fault/);
    assert.match(String(errors()[0]!.msg), /no Marathon routes until it answers/);
    assert.equal(h.messages.length, 0, "nothing emitted");

    mode = "malformed";
    await h.tick(800);
    assert.equal(errors().length, 2, "a new kind of failure is a new state");
    assert.match(String(errors()[1]!.error), /not valid JSON/);

    mode = "ok";
    await h.tick(800);
    assert.equal(h.messages.length, 1);
    assert.deepEqual(serversOf(h.messages[0], "web"), [WEB0, WEB1]);
    assert.equal(h.logged(/Marathon apps listed again/, "info").length, 1);
    // watch: false lists once and never again: no stream, no resync.
    const lists = h.marathon.lists;
    await h.tick(3 * 3_600_000);
    assert.equal(h.marathon.lists, lists);
    assert.equal(h.marathon.connects, 0);
  } finally {
    await h.stop();
  }
});

Deno.test("failures after a good list keep its configuration; events wait for the retry", async () => {
  const h = harness({}, { retryInitialMs: 1_000, retryMaxMs: 1_000 });
  try {
    h.marathon.apps = [web()];
    h.start();
    await h.tick();
    const good = h.messages.length;
    assert.ok(good >= 1);
    h.marathon.onList = () =>
      new Response("<pre>Could not determine the current leader</pre>", { status: 502 });
    h.marathon.stream.event("deployment_info");
    await h.tick();
    const lists = h.marathon.lists;
    const errors = () => h.logged(/Cannot list Marathon apps/, "error");
    assert.equal(errors().length, 1);
    assert.match(String(errors()[0]!.msg), /keeping the last configuration/);
    assert.match(String(errors()[0]!.error), /HTTP 502: Could not determine the current leader/);
    for (let i = 0; i < 20; i++) h.marathon.stream.event("status_update_event", { taskId: "x" });
    await h.tick(999);
    assert.equal(h.marathon.lists, lists, "events do not hammer a failing Marathon");
    await h.tick(1);
    assert.equal(h.marathon.lists, lists + 1, "the retry lists");
    await h.tick(3_000);
    assert.equal(errors().length, 1);
    assert.equal(h.messages.length, good, "the last good configuration stays");

    h.marathon.onList = undefined;
    h.marathon.apps = [web(["TASK_RUNNING", "TASK_KILLED"])];
    await h.tick(1_000);
    assert.deepEqual(serversOf(h.messages.at(-1), "web"), [WEB0]);
    assert.equal(h.logged(/listed again/).length, 1);
  } finally {
    await h.stop();
  }
});

Deno.test("a list that lacks an app removes its routes; an empty cluster removes them all", async () => {
  const h = harness();
  try {
    h.marathon.apps = [
      web(),
      app({ id: "/api", tasks: [task({ id: "api.1", host: "h", ports: [2] })] }),
    ];
    h.start();
    await h.tick();
    assert.deepEqual(routersOf(h.messages.at(-1)), ["api", "web"]);
    h.marathon.apps = [web()];
    h.marathon.stream.event("app_terminated_event", { appId: "/api" });
    await h.tick();
    assert.deepEqual(routersOf(h.messages.at(-1)), ["web"]);
    h.marathon.apps = [];
    h.marathon.stream.event("app_terminated_event", { appId: "/web" });
    await h.tick();
    const last = h.messages.at(-1)!;
    assert.deepEqual(routersOf(last), []);
    assert.ok(last.config.http, "an allocated, empty configuration, not a skipped one");
  } finally {
    await h.stop();
  }
});

Deno.test("resyncInterval lists without events; every list restarts the wait", async () => {
  const h = harness({ resyncInterval: "10s" });
  try {
    h.start();
    await h.tick();
    const base = h.marathon.lists;
    await h.tick(9_999);
    assert.equal(h.marathon.lists, base);
    await h.tick(1);
    assert.equal(h.marathon.lists, base + 1);
    await h.tick(5_000);
    h.marathon.stream.event("api_post_event");
    await h.tick();
    assert.equal(h.marathon.lists, base + 2);
    await h.tick(9_999);
    assert.equal(h.marathon.lists, base + 2, "the event's list restarted the wait");
    await h.tick(1);
    assert.equal(h.marathon.lists, base + 3);
  } finally {
    await h.stop();
  }
});

Deno.test("event stream: silence, EOF and errors reconnect with jittered exponential backoff; a stable stream resets it", async () => {
  const h = harness(
    { eventsIdleTimeout: "30s" },
    { reconnectInitialMs: 1_000, reconnectMaxMs: 8_000, stableMs: 60_000, random: () => 0.5 },
  );
  try {
    h.start();
    await h.tick();
    const t0 = h.marathon.requests.find((r) => r.path === "/v2/events")!.at;
    const connects = () =>
      h.marathon.requests.filter((r) => r.path === "/v2/events").map((r) => r.at - t0);
    // 1. Stable: keep-alives every 10 s for 70 s keep it open; then Marathon closes it (EOF).
    for (let i = 0; i < 7; i++) {
      await h.tick(10_000);
      h.marathon.stream.push("\r\n");
    }
    assert.deepEqual(connects(), [0], "keep-alives keep it open");
    h.marathon.stream.end();
    // random() = 0.5 takes a quarter off each delay: 750 ms after a stable stream (reset),
    await h.tick(10_000);
    // 2. then an EOF 9.25 s after connecting (not stable): 1.5 s,
    h.marathon.stream.end();
    await h.tick(1_500);
    // 3. then silence: dead after 30 s, reconnected 3 s later,
    await h.tick(30_000 + 3_000);
    const idle = h.logged(/event stream ended; reconnecting/).at(-1)!;
    assert.match(String(idle.reason), /nothing received for 30000 ms/);
    assert.equal(idle.retryInMs, 3_000);
    // 4. then refused connections (503): 6 s each (8 s capped, jittered), logged once,
    h.marathon.onEvents = () => new Response("<pre>no leader</pre>", { status: 503 });
    h.marathon.stream.end();
    await h.tick(3 * 6_000);
    assert.equal(h.logged(/Cannot open the Marathon event stream/).length, 1);
    // 5. until Marathon accepts again.
    h.marathon.onEvents = undefined;
    await h.tick(6_000);
    assert.deepEqual(connects(), [
      0,
      70_000 + 750,
      80_000 + 1_500,
      81_500 + 30_000 + 3_000,
      114_500 + 6_000,
      120_500 + 6_000,
      126_500 + 6_000,
      132_500 + 6_000,
    ]);
    assert.equal(h.logged(/event stream reconnected/).length, 4);
    // Every successful connection listed the apps once its 200 arrived.
    const lists = h.marathon.requests.filter((r) => r.path === "/v2/apps").map((r) => r.at - t0);
    for (const at of [0, 70_750, 81_500, 114_500, 138_500]) {
      assert.ok(lists.includes(at), `a list at ${at}: ${lists.join(", ")}`);
    }
  } finally {
    await h.stop();
  }
});

Deno.test("the event stream request: Accept exactly text/event-stream, event_type filters, light plans", async () => {
  const h = harness({ dcosToken: "T", endpoint: "http://marathon:8080/custom" });
  try {
    h.start();
    await h.tick();
    const events = h.marathon.requests.find((r) => r.path === "/custom/v2/events");
    assert.ok(events, JSON.stringify(h.marathon.requests.map((r) => r.path)));
    assert.equal(events.headers.get("accept"), "text/event-stream");
    assert.equal(events.headers.get("authorization"), "token=T");
    const query = new URLSearchParams(events.search);
    assert.deepEqual(query.getAll("event_type"), [...RELEVANT_EVENTS]);
    assert.equal(query.get("plan-format"), "light");
    const list = h.marathon.requests.find((r) => r.path === "/custom/v2/apps")!;
    assert.equal(list.search, "?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness");
  } finally {
    await h.stop();
  }
});

Deno.test("start-up validation: invalid options fail with the option's name; unsupported ones warn", () => {
  const { log, records } = memoryLogger();
  const deps = { log, registry };
  assert.throws(
    () => marathonProvider({ defaultRule: "Host(`{{ .Name `)" }, deps),
    (e: Error) => e instanceof SyntaxError && /providers\.marathon\.defaultRule/.test(e.message),
  );
  assert.throws(
    () => marathonProvider({ constraints: 'Label("a", "b") &&' }, deps),
    (e: Error) =>
      e instanceof SyntaxError && /^Cannot use providers\.marathon\.constraints/.test(e.message),
  );
  assert.throws(
    () => marathonProvider({ endpoint: "marathon.mesos:8080" }, deps),
    (e: Error) => e instanceof TypeError && /providers\.marathon\.endpoint/.test(e.message),
  );
  assert.throws(
    () => marathonProvider({ endpoint: "http://m", nope: true } as MarathonOptionsInput, deps),
    /Invalid providers\.marathon options: .*unknown option 'nope'/,
  );
  assert.throws(
    () => marathonProvider({ tls: { ca: "/nonexistent.pem" } }, deps),
    /providers\.marathon\.tls\.ca: cannot read/,
  );
  assert.equal(records().length, 0);
  const provider = marathonProvider({
    tls: { insecureSkipVerify: true },
    dcosToken: "t",
    basic: { httpBasicAuthUser: "u", httpBasicPassword: "p" },
    eventsIdleTimeout: "5s",
  }, deps);
  assert.equal(provider.name, "marathon");
  const warnings = records().filter((r) => r.level === "warn").map((r) => String(r.msg));
  assert.equal(warnings.length, 3, warnings.join("\n"));
  assert.match(warnings[0]!, /insecureSkipVerify is not supported/);
  assert.match(warnings[1]!, /sends the DC\/OS token only/);
  assert.match(warnings[2]!, /eventsIdleTimeout .* not longer than Marathon's 10 s keep-alive/);
});

Deno.test("resolveMarathonOptions(): raw input is parsed (numbers are seconds); parsed options pass as is", () => {
  const raw = resolveMarathonOptions({ resyncInterval: 5, eventsIdleTimeout: "45s" });
  assert.equal(raw.resyncInterval, 5_000);
  assert.equal(raw.eventsIdleTimeout, 45_000);
  assert.equal(raw.endpoint, "http://127.0.0.1:8080");
  const parsed = resolveMarathonOptions(raw);
  assert.equal(parsed, raw, "the schema's output is used as is (durations already in ms)");
  assert.equal(parsed.resyncInterval, 5_000);
});

Deno.test("markTaskState(): copy-on-write, only running tasks, app id first then any app", () => {
  const apps = [web(), app({ id: "/other", tasks: [task({ id: "o.1" })] })];
  const snapshot = JSON.stringify(apps);
  const out = markTaskState(apps, "web.1", "TASK_KILLING", "/web")!;
  assert.equal(JSON.stringify(apps), snapshot, "the input is untouched");
  // deno-lint-ignore no-explicit-any
  assert.equal((out[0] as any).tasks[1].state, "TASK_KILLING");
  assert.equal(out[1], apps[1], "other apps are shared");
  assert.ok(markTaskState(apps, "o.1", "TASK_LOST", "/mismatch"), "falls back to every app");
  assert.equal(markTaskState(out, "web.1", "TASK_KILLED"), undefined, "already out of rotation");
  assert.equal(markTaskState(apps, "missing", "TASK_KILLED"), undefined);
  assert.equal(markTaskState([null, 3, { id: "/x", tasks: "no" }], "a", "TASK_KILLED"), undefined);
});

Deno.test("pacer run builds the provider from providers.marathon; a bad defaultRule stops start-up", async () => {
  const notFound = (path: string) => Promise.reject(new Deno.errors.NotFound(path));
  const load = (args: string[]) =>
    loadStaticConfig({ args, env: {}, cwd: "/nonexistent", readFile: notFound });
  const { log } = memoryLogger();
  const { config } = await load([
    "--providers.marathon.endpoint=http://127.0.0.1:1",
    "--providers.marathon.resyncInterval=5s",
  ]);
  const options = await pacerOptions(config, log);
  assert.deepEqual(options.providers.map((p) => p.name), ["marathon"]);

  const bad = await load(["--providers.marathon.defaultRule=Host(`{{ .Name `)"]);
  await assert.rejects(() => pacerOptions(bad.config, log), /providers\.marathon\.defaultRule/);
  const { config: none } = await load([]);
  assert.deepEqual((await pacerOptions(none, log)).providers, []);
});
