import assert from "node:assert/strict";
import { setOwn } from "../../src/util/set_own.ts";

Deno.test("setOwn() makes __proto__ an own property, not a prototype", () => {
  const target: Record<string, unknown> = {};
  setOwn(target, "__proto__", { polluted: true });
  setOwn(target, "constructor", 1);
  setOwn(target, "web", 2);
  assert.equal(Object.getPrototypeOf(target), Object.prototype);
  assert.equal((target as { polluted?: boolean }).polluted, undefined);
  assert.ok(Object.hasOwn(target, "__proto__"));
  assert.deepEqual(Object.keys(target), ["__proto__", "constructor", "web"]);
  assert.deepEqual(Object.getOwnPropertyDescriptor(target, "__proto__"), {
    value: { polluted: true },
    enumerable: true,
    writable: true,
    configurable: true,
  });
  setOwn(target, "__proto__", 3);
  assert.equal(Object.getOwnPropertyDescriptor(target, "__proto__")?.value, 3);
});
