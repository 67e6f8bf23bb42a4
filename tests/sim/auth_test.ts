import assert from "node:assert/strict";
import { app, call, EventRecorder, fastCluster } from "../_helpers/sim.ts";

const PATHS: [string, string][] = [
  ["GET", "/ping"],
  ["GET", "/v2/apps"],
  ["GET", "/v2/apps/a"],
  ["POST", "/v2/apps"],
  ["GET", "/v2/tasks"],
  ["GET", "/v2/deployments"],
  ["GET", "/v2/info"],
  ["GET", "/v2/leader"],
  ["DELETE", "/v2/leader"],
  ["GET", "/v2/events"],
];

Deno.test("basic auth: 401 with Jetty's HTML page and a Basic challenge on every path", async () => {
  await using sim = await fastCluster({ auth: { basic: { user: "ops", password: "s3:cret" } } });
  const good = `Basic ${btoa("ops:s3:cret")}`;
  for (const [method, path] of PATHS) {
    for (const authorization of [undefined, `Basic ${btoa("ops:wrong")}`, "token=abc"]) {
      const res = await call(`${sim.leaderUrl}${path}`, {
        method,
        headers: {
          Accept: "text/event-stream",
          ...(authorization ? { Authorization: authorization } : {}),
        },
      });
      assert.equal(res.status, 401, `${method} ${path} ${authorization}`);
      assert.equal(res.headers.get("www-authenticate"), 'Basic realm="Mesosphere"');
      assert.match(res.headers.get("content-type")!, /^text\/html/);
      assert.match(res.text, /<h2>HTTP ERROR: 401<\/h2>/);
    }
  }
  const ok = await call(`${sim.leaderUrl}/v2/apps`, { headers: { Authorization: good } });
  assert.equal(ok.status, 200);
  const rec = await EventRecorder.open(sim.leaderUrl, { headers: { Authorization: good } });
  try {
    await rec.waitFor((e) => e.event === "event_stream_attached");
  } finally {
    await rec.close();
  }
});

Deno.test("DC/OS token auth: 401 JSON with WWW-Authenticate: acsjwt unless token=<T>", async () => {
  await using sim = await fastCluster({ auth: { token: "jwt-123" } });
  for (const [method, path] of PATHS) {
    for (const authorization of [undefined, "Bearer jwt-123", "token=other"]) {
      const res = await call(`${sim.leaderUrl}${path}`, {
        method,
        headers: {
          Accept: "text/event-stream",
          ...(authorization ? { Authorization: authorization } : {}),
        },
      });
      assert.equal(res.status, 401, `${method} ${path} ${authorization}`);
      assert.equal(res.headers.get("www-authenticate"), "acsjwt");
      assert.deepEqual(res.body, { message: "Invalid username or password." });
    }
  }
  const ok = await call(`${sim.leaderUrl}/v2/apps`, {
    method: "POST",
    json: app("/a", { instances: 0 }),
    headers: { Authorization: "token=jwt-123" },
  });
  assert.equal(ok.status, 201);
});

Deno.test("a standby checks credentials itself and forwards them to the leader", async () => {
  await using sim = await fastCluster({ members: 2, auth: { token: "t" } });
  const standby = sim.urls[1]!;
  const denied = await call(`${standby}/v2/events`, { headers: { Accept: "text/event-stream" } });
  assert.equal(denied.status, 401, "no redirect before authentication");
  const redirect = await call(`${standby}/v2/events`, {
    headers: { Accept: "text/event-stream", Authorization: "token=t" },
  });
  assert.equal(redirect.status, 302);
  const proxied = await call(`${standby}/v2/info`, { headers: { Authorization: "token=t" } });
  assert.equal(proxied.status, 200);
  assert.equal((proxied.body as { name: string }).name, "marathon");
});
