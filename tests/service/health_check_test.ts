import { equal, ok } from "node:assert/strict";
import { healthCheckSchema, serversTransportSchema } from "../../src/config/dynamic.ts";
import { checkOnce, healthCheckUrl, startHealthChecks } from "../../src/service/health_check.ts";
import { UpstreamServer } from "../../src/service/server.ts";
import { createTransport } from "../../src/service/transport.ts";
import { memoryLogger, silentLogger } from "../../src/log/logger.ts";
import { upstream } from "../_helpers/upstream.ts";

const transport = createTransport("t", serversTransportSchema.parse({}));

Deno.test("healthCheckUrl() applies scheme, port and path with query", () => {
  const server = new UpstreamServer("s@t", "http://10.0.0.1:8080/base", transport);
  const config = healthCheckSchema.parse({ path: "/health?full=1", port: 9000, scheme: "https" });
  equal(healthCheckUrl(server, config), "https://10.0.0.1:9000/health?full=1");
});

Deno.test("checkOnce() sends method, hostname and headers, and judges by status", async () => {
  let status = 200;
  await using up = await upstream("h", () => new Response("x", { status }));
  const server = new UpstreamServer("s@t", up.url, transport);
  const config = healthCheckSchema.parse({
    path: "/healthz",
    method: "HEAD",
    hostname: "probe.internal",
    headers: { "X-Probe": "1" },
  });
  ok(await checkOnce(server, config, { log: silentLogger }));
  equal(up.seen[0]!.method, "HEAD");
  equal(up.seen[0]!.path, "/healthz");
  equal(up.seen[0]!.headers.get("host"), "probe.internal");
  equal(up.seen[0]!.headers.get("x-probe"), "1");
  status = 503;
  ok(!await checkOnce(server, config, { log: silentLogger }));
  equal(server.health.active, "down");
  equal(server.health.lastError, "status 503");
  const expected = healthCheckSchema.parse({ path: "/", status: 503 });
  ok(await checkOnce(server, expected, { log: silentLogger }), "an explicit status is what counts");
  server.dispose();
});

Deno.test("checkOnce() fails on timeout without waiting for the server", async () => {
  await using up = await upstream("slow", async () => {
    await new Promise((r) => setTimeout(r, 300));
    return new Response("late");
  });
  const server = new UpstreamServer("s@t", up.url, transport);
  const started = performance.now();
  ok(!await checkOnce(server, healthCheckSchema.parse({ timeout: "50ms" }), { log: silentLogger }));
  ok(performance.now() - started < 250);
  equal(server.health.lastError, "no answer within 50ms");
  server.dispose();
  await new Promise((r) => setTimeout(r, 300));
});

Deno.test("startHealthChecks() changes server state without a reload and stops with its signal", async () => {
  let healthy = false;
  await using up = await upstream("h", () => new Response("", { status: healthy ? 200 : 500 }));
  const server = new UpstreamServer("s@t", up.url, transport);
  server.health.active = "pending";
  const { log, records } = memoryLogger();
  const controller = new AbortController();
  startHealthChecks([server], healthCheckSchema.parse({ interval: "20ms", timeout: "1s" }), {
    log,
    signal: controller.signal,
  });
  const until = async (pred: () => boolean) => {
    for (let i = 0; i < 200 && !pred(); i++) await new Promise((r) => setTimeout(r, 5));
    ok(pred());
  };
  await until(() => server.health.active === "down");
  healthy = true;
  await until(() => server.health.active === "up");
  controller.abort();
  const seen = up.seen.length;
  await new Promise((r) => setTimeout(r, 60));
  ok(up.seen.length <= seen + 1, "no probes after the generation ended");
  ok(records().some((r) => r.msg === "Health check passed: server back in rotation"));
  server.dispose();
});
