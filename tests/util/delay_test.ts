import assert from "node:assert/strict";
import { install } from "@sinonjs/fake-timers";
import { delay } from "../../src/util/delay.ts";

/** A signal whose listener bookkeeping the test can see. */
function watchedSignal(): { controller: AbortController; listeners: () => number } {
  const controller = new AbortController();
  const signal = controller.signal;
  let count = 0;
  const add = signal.addEventListener.bind(signal);
  const remove = signal.removeEventListener.bind(signal);
  signal.addEventListener = (...args: Parameters<typeof add>) => {
    count++;
    add(...args);
  };
  signal.removeEventListener = (...args: Parameters<typeof remove>) => {
    count--;
    remove(...args);
  };
  return { controller, listeners: () => count };
}

Deno.test("delay() resolves true once the time has elapsed and drops its listener", async () => {
  const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const watched = watchedSignal();
    let result: boolean | undefined;
    const pending = delay(100, watched.controller.signal).then((r) => (result = r));
    assert.equal(watched.listeners(), 1);
    await clock.tickAsync(99);
    assert.equal(result, undefined, "still waiting");
    await clock.tickAsync(1);
    await pending;
    assert.equal(result, true);
    assert.equal(watched.listeners(), 0, "abort listener removed");
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("delay() resolves false (never rejects) when aborted, and clears its timer", async () => {
  const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const controller = new AbortController();
    const pending = delay(10_000, controller.signal);
    await clock.tickAsync(5);
    controller.abort(new Error("generation replaced"));
    assert.equal(await pending, false);
    assert.equal(clock.countTimers(), 0, "timer cleared");
  } finally {
    clock.uninstall();
  }
});

Deno.test("delay() with an aborted signal resolves false at once, without a timer", async () => {
  const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const { controller, listeners } = watchedSignal();
    controller.abort();
    assert.equal(await delay(1000, controller.signal), false);
    assert.equal(clock.countTimers(), 0);
    assert.equal(listeners(), 0);
  } finally {
    clock.uninstall();
  }
});

Deno.test("delay() without a signal just waits", async () => {
  const clock = install({ toFake: ["setTimeout", "clearTimeout"] });
  try {
    const pending = delay(50);
    await clock.tickAsync(50);
    assert.equal(await pending, true);
    assert.equal(clock.countTimers(), 0);
  } finally {
    clock.uninstall();
  }
});
