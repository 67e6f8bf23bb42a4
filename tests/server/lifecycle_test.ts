import { equal, ok, rejects } from "node:assert/strict";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";

Deno.test("stop() serves through the accept grace period with /ping at 503, finishes in-flight requests, then refuses connections", async () => {
  await using up = await upstream("slow", async (request) => {
    if (new URL(request.url).pathname === "/slow") await new Promise((r) => setTimeout(r, 400));
    return new Response("done");
  });
  await using p = await startPacer({
    web: { requestAcceptGraceTimeoutMs: 150, graceTimeOutMs: 2000 },
    entryPoints: [{ name: "traefik", requestAcceptGraceTimeoutMs: 150 }],
    ping: { entryPoint: "traefik", manualRouting: false, terminatingStatusCode: 503 },
    config: {
      http: {
        routers: { r: { rule: "PathPrefix(`/`)", service: "s", entryPoints: ["web"] } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const ping = `${p.url("traefik")}/ping`;
  const before = await fetch(ping);
  equal(before.status, 200);
  await before.body?.cancel();
  const web = p.url();
  const inFlight = fetch(`${web}/slow`, { client: p.client });
  while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
  const stopped = p.pacer.stop();

  // Grace period: still serving, ping says "take me out", connections are told to close.
  const pinged = await fetch(ping);
  equal(pinged.status, 503);
  await pinged.body?.cancel();
  const during = await fetch(`${web}/fast`);
  equal(await during.text(), "done");
  equal(during.headers.get("connection"), "close");

  const slow = await inFlight;
  equal(await slow.text(), "done", "the in-flight request finished");
  await stopped;
  await rejects(fetch(`${web}/fast`), "new connections are refused once stopped");
});

Deno.test("stop() cuts requests still running when graceTimeOut is reached", async () => {
  await using up = await upstream("hang", (request) =>
    new Promise<Response>((resolve) => {
      request.signal.addEventListener("abort", () => resolve(new Response("cut")));
    }));
  await using p = await startPacer({
    web: { graceTimeOutMs: 100 },
    config: {
      http: {
        routers: { r: { rule: "PathPrefix(`/`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const hanging = fetch(`${p.url()}/`, { client: p.client }).then((r) => r.text()).catch(() =>
    "cut"
  );
  while (up.seen.length === 0) await new Promise((r) => setTimeout(r, 5));
  const started = performance.now();
  await p.pacer.stop();
  ok(performance.now() - started < 1500, "stop() did not wait for the hanging request");
  equal(typeof await hanging, "string");
});
