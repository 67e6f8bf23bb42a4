import { equal, ok } from "node:assert/strict";
import { ClientWatch } from "../../src/service/client_watch.ts";
import { within } from "../_helpers/within.ts";

/**
 * A Deno.serve server whose handler watches its request until `hold`
 * resolves, and a raw TCP client that can leave mid-request.
 */
async function watchedServer(watch: ClientWatch) {
  let gone!: () => void;
  const clientGone = new Promise<void>((r) => gone = r);
  let release!: () => void;
  const hold = new Promise<void>((r) => release = r);
  let watching!: () => void;
  const started = new Promise<void>((r) => watching = r);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (request) => {
    const unwatch = watch.watch(request, gone);
    watching();
    await hold;
    unwatch();
    return new Response("done");
  });
  const conn = await Deno.connect({ hostname: "127.0.0.1", port: server.addr.port });
  await conn.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: w.test\r\n\r\n"));
  await started;
  return { conn, clientGone, release, server };
}

Deno.test("ClientWatch calls onGone when a client leaves a request that waits", async () => {
  const watch = new ClientWatch(10);
  const { conn, clientGone, release, server } = await watchedServer(watch);
  conn.close(); // leaves before the watch subscribed to request.signal
  const outcome = await within(clientGone.then(() => "gone"), 2000, "not noticed");
  equal(outcome, "gone");
  release();
  await server.shutdown();
  equal(watch.waiting, 0);
});

Deno.test("ClientWatch stops its timer as soon as no request waits", () => {
  const watch = new ClientWatch(50);
  const unwatch = watch.watch(new Request("http://w.test/"), () => {});
  equal(watch.waiting, 1);
  ok(watch.ticking);
  unwatch();
  equal(watch.waiting, 0);
  ok(!watch.ticking, "no timer while nothing waits");
});

Deno.test("ClientWatch leaves a request that ends quickly alone", async () => {
  const watch = new ClientWatch(5);
  const controller = new AbortController();
  let called = false;
  const unwatch = watch.watch(
    new Request("http://w.test/", { signal: controller.signal }),
    () => called = true,
  );
  unwatch();
  await new Promise((r) => setTimeout(r, 30));
  controller.abort();
  ok(!called);
});

Deno.test("ClientWatch subscribes a long wait to its signal and unsubscribes at the end", async () => {
  const watch = new ClientWatch(5);
  const controller = new AbortController();
  const request = new Request("http://w.test/", { signal: controller.signal });
  let calls = 0;
  const unwatch = watch.watch(request, () => calls++);
  await new Promise((r) => setTimeout(r, 40));
  equal(watch.waiting, 0, "linked to the request's signal by now");
  ok(!watch.ticking, "nothing left to link: the timer stopped");
  unwatch();
  controller.abort();
  equal(calls, 0, "no call after the wait ended");

  // Kept referenced while it waits, as the watch requires (it holds requests weakly).
  const second = new AbortController();
  const secondRequest = new Request("http://w.test/", { signal: second.signal });
  const unwatchSecond = watch.watch(secondRequest, () => calls++);
  await new Promise((r) => setTimeout(r, 40));
  second.abort();
  equal(calls, 1, "a client leaving after the link is noticed");
  ok(secondRequest.signal.aborted);
  unwatchSecond();
});

Deno.test("the forwarder keeps a waiting request alive for the watch, through full collections", async () => {
  // ClientWatch holds requests weakly; a forwarder that let its request go
  // would stop noticing clients that leave. Needs --expose-gc: a subprocess.
  const fixture = new URL("../fixtures/gc/client_gone_under_gc.ts", import.meta.url);
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-net", "--v8-flags=--expose-gc", fixture.pathname],
    cwd: new URL("../..", import.meta.url).pathname,
    stdout: "piped",
    stderr: "piped",
  }).output();
  equal(code, 0, new TextDecoder().decode(stderr));
  const result = JSON.parse(new TextDecoder().decode(stdout).trim());
  equal(result.status, 499, "the forwarder answered for the client that left");
  equal(result.upstreamAborted, true, "the upstream request was aborted");
});
