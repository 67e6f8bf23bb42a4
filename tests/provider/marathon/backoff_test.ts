import assert from "node:assert/strict";
import { Backoff } from "../../../src/provider/marathon/backoff.ts";

Deno.test("Backoff grows exponentially up to its cap; jitter takes up to half of each delay", () => {
  const noJitter = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0 });
  assert.deepEqual(
    Array.from({ length: 7 }, () => noJitter.next()),
    [100, 200, 400, 800, 1_000, 1_000, 1_000],
  );
  const fullJitter = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => 0.999999 });
  assert.deepEqual(
    Array.from({ length: 6 }, () => fullJitter.next()),
    [50, 100, 200, 400, 500, 500],
  );
  const random = [0.2, 0.9, 0.5];
  const mixed = new Backoff({ initialMs: 100, maxMs: 1_000, random: () => random.shift()! });
  assert.deepEqual([mixed.next(), mixed.next(), mixed.next()], [90, 110, 300]);
});

Deno.test("Backoff with Math.random stays within [d/2, d] and differs between clients", () => {
  const a = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  const b = new Backoff({ initialMs: 1_000, maxMs: 60_000 });
  const delaysA = Array.from({ length: 20 }, () => a.next());
  const delaysB = Array.from({ length: 20 }, () => b.next());
  delaysA.forEach((d, i) => {
    const base = Math.min(60_000, 1_000 * 2 ** i);
    assert.ok(d >= base / 2 && d <= base, `attempt ${i}: ${d} within [${base / 2}, ${base}]`);
  });
  assert.notDeepEqual(delaysA, delaysB, "jitter spreads clients apart");
});

Deno.test("Backoff.reset() starts over; a long run never overflows", () => {
  const b = new Backoff({ initialMs: 10, maxMs: 80, random: () => 0 });
  for (let i = 0; i < 10_000; i++) b.next();
  assert.equal(b.next(), 80);
  assert.equal(b.attempts, 10_001);
  b.reset();
  assert.equal(b.attempts, 0);
  assert.equal(b.next(), 10);
  const zero = new Backoff({ initialMs: 0, maxMs: 0 });
  for (let i = 0; i < 100; i++) assert.equal(zero.next(), 0);
});

Deno.test("Backoff rejects settings out of range", () => {
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: -1, maxMs: 5 }), RangeError);
  assert.throws(() => new Backoff({ initialMs: 1, maxMs: 5, factor: 0.5 }), RangeError);
  assert.throws(
    () => new Backoff({ initialMs: 1, maxMs: 5, jitter: 2 }),
    /'jitter' must be between 0 and 1/,
  );
});
