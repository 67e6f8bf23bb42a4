import { equal, ok } from "node:assert/strict";
import { serversTransportSchema } from "../../src/config/dynamic.ts";
import { forward } from "../../src/service/forward.ts";
import { ServerPool } from "../../src/service/pool.ts";
import { createTransport } from "../../src/service/transport.ts";
import { upstream } from "../_helpers/upstream.ts";

const transport = createTransport("t", serversTransportSchema.parse({}));
const facts = { ip: "127.0.0.1", tls: false, trusted: false };
const options = { passHostHeader: true, serverName: "t" };

Deno.test("ServerPool reuses an entry across commits, so health state survives reloads", () => {
  const pool = new ServerPool();
  const a = pool.acquire("s@t", "http://a:1", transport);
  pool.commit([a]);
  a.health.active = "down";
  const again = pool.acquire("s@t", "http://a:1", transport);
  equal(again, a);
  equal(again.health.active, "down");
  const other = pool.acquire("other@t", "http://a:1", transport);
  ok(other !== a, "another service gets its own entry");
  pool.close();
});

Deno.test("ServerPool drains a removed server: no waiting when idle", async () => {
  const pool = new ServerPool();
  const a = pool.acquire("s@t", "http://a:1", transport);
  pool.commit([a]);
  const change = pool.commit([]);
  equal(change.removed[0], a);
  equal(a.draining, true);
  equal(pool.draining().length, 0, "idle: forgotten at once");
  await pool.idle();
  pool.close();
});

Deno.test("ServerPool keeps a draining server until its in-flight requests end", async () => {
  let finish!: () => void;
  const done = new Promise<void>((r) => finish = r);
  await using up = await upstream("slow", async () => {
    await done;
    return new Response("finished");
  });
  const pool = new ServerPool({ drainTimeoutMs: 10_000 });
  const a = pool.acquire("s@t", up.url, transport);
  pool.commit([a]);
  const release = a.begin();
  const response = forward(new Request("http://x.test/"), a, facts, options);
  await new Promise((r) => setTimeout(r, 20));
  pool.commit([]);
  equal(pool.draining().length, 1);
  equal(a.draining, true);
  finish();
  const res = await response;
  equal(await res.text(), "finished", "the in-flight request completed");
  release();
  equal(pool.draining().length, 0, "forgotten when its last request ended");
  await pool.idle();
  pool.close();
});

Deno.test("ServerPool cuts requests still running at the drain timeout", async () => {
  // Answers only when its request is aborted, i.e. when Pacer cuts it.
  await using up = await upstream("never", (request) =>
    new Promise<Response>((resolve) => {
      request.signal.addEventListener("abort", () => resolve(new Response("cut")));
    }));
  const pool = new ServerPool({ drainTimeoutMs: 50 });
  const a = pool.acquire("s@t", up.url, transport);
  pool.commit([a]);
  a.begin();
  const response = forward(new Request("http://x.test/"), a, facts, options);
  await new Promise((r) => setTimeout(r, 20));
  pool.commit([]);
  const res = await response;
  equal(res.status, 502);
  await res.body?.cancel();
  await pool.idle();
  equal(pool.draining().length, 0);
  pool.close();
});

Deno.test("ServerPool revives a draining server that comes back in the next commit", () => {
  const pool = new ServerPool({ drainTimeoutMs: 10_000 });
  const a = pool.acquire("s@t", "http://a:1", transport);
  pool.commit([a]);
  a.begin();
  pool.commit([]);
  equal(a.draining, true);
  const back = pool.acquire("s@t", "http://a:1", transport);
  equal(back, a);
  pool.commit([back]);
  equal(a.draining, false);
  equal(pool.draining().length, 0);
  equal(pool.live().length, 1);
  pool.close();
});

Deno.test("a forgotten server takes no new request and opens no new connection", async () => {
  await using up = await upstream("late");
  const pool = new ServerPool({ drainTimeoutMs: 10_000 });
  const a = pool.acquire("s@t", up.url, transport);
  pool.commit([a]);
  pool.close(); // Pacer stopping: every server is forgotten
  const res = await forward(new Request("http://x.test/"), a, facts, options);
  equal(res.status, 502);
  await res.body?.cancel();
  equal(up.seen.length, 0, "nothing reached the upstream");
});
