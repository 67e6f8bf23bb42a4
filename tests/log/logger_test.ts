import assert from "node:assert/strict";
import { createLogger, type LogFields, type LogLevel } from "../../src/log/logger.ts";

const at = new Date("2026-11-24T10:00:00.000Z");

function capture(level: LogLevel, format: "text" | "json" = "json") {
  const lines: { line: string; level: LogLevel }[] = [];
  const log = createLogger({
    level,
    format,
    now: () => at,
    sink: (line, lvl) => lines.push({ line, level: lvl }),
  });
  return { log, lines, records: () => lines.map((l) => JSON.parse(l.line) as LogFields) };
}

Deno.test("logger writes levels at or above its own, and says which it would write", () => {
  const { log, lines } = capture("warn");
  log.debug("d");
  log.info("i");
  log.warn("w");
  log.error("e");
  assert.deepStrictEqual(lines.map((l) => l.level), ["warn", "error"]);
  assert.deepStrictEqual(
    (["debug", "info", "warn", "error"] as const).map((l) => log.enabled(l)),
    [false, false, true, true],
  );
  assert.deepStrictEqual(log.with({ a: 1 }).enabled("info"), false);
});

Deno.test("logger json lines carry time, level, message, then fields in order", () => {
  const { log, lines } = capture("debug");
  log.info("Configuration loaded", {
    routers: 3,
    error: new Error("outer", { cause: new Error("inner") }),
  });
  assert.deepStrictEqual(
    lines[0]!.line,
    '{"time":"2026-11-24T10:00:00.000Z","level":"info","msg":"Configuration loaded","routers":3,"error":"outer: inner"}',
  );
});

Deno.test("logger text lines quote values that need it and skip undefined ones", () => {
  const { log, lines } = capture("debug", "text");
  log.with({ router: "api@file" }).warn("Slow", { path: "/a b", ms: 12, gone: undefined });
  assert.deepStrictEqual(
    lines[0]!.line,
    '2026-11-24T10:00:00.000Z WARN  Slow router=api@file path="/a b" ms=12',
  );
});

Deno.test("logger children add fields to their parent's; the nearest wins", () => {
  const { log, records } = capture("debug");
  const provider = log.with({ provider: "file", scope: "provider" });
  const router = provider.with({ router: "api@file", scope: "router" });
  router.info("one", { scope: "call" });
  router.info("two");
  provider.info("three");
  log.info("four");
  const fields = records().map(({ time: _t, level: _l, ...rest }) => rest);
  assert.deepStrictEqual(fields, [
    { msg: "one", provider: "file", scope: "call", router: "api@file" },
    { msg: "two", provider: "file", scope: "router", router: "api@file" },
    { msg: "three", provider: "file", scope: "provider" },
    { msg: "four" },
  ]);
});

Deno.test("logger child keeps the fields it was given, not later changes to that object", () => {
  const { log, records } = capture("debug");
  const fields: LogFields = { router: "a@file" };
  const child = log.with(fields);
  fields.router = "b@file";
  child.info("x");
  assert.deepStrictEqual(records()[0]!.router, "a@file");
});
