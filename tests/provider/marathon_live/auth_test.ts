import assert from "node:assert/strict";
import { upstream } from "../../_helpers/upstream.ts";
import { cluster, pause, simApp, startLivePacer, until } from "./_live.ts";

Deno.test("basic auth: wrong credentials are logged once and give no routes; right ones route", async () => {
  await using sim = await cluster({
    hostPortRange: [35900, 35999],
    auth: { basic: { user: "pacer", password: "s3cret:x" } },
  });
  await sim.api.deploy(simApp("/web"));
  await sim.api.waitForDeployments();

  {
    await using wrong = await startLivePacer(sim, {
      provider: { basic: { httpBasicAuthUser: "pacer", httpBasicPassword: "nope" } },
    });
    await until(() => wrong.counter.apps >= 3, "a few list attempts");
    await pause(50);
    assert.deepEqual(wrong.routers(), []);
    const errors = wrong.logged(/Cannot list Marathon apps/, "error");
    assert.equal(errors.length, 1, "logged once, not per retry");
    assert.match(String(errors[0]!.error), /HTTP 401.*WWW-Authenticate: Basic/);
    assert.equal(wrong.logged(/Cannot open the Marathon event stream/).length, 1);
    assert.equal((await wrong.ask("web")).status, 404);
  }
  {
    // Only a user, no password: go-marathon sends no basic auth at all.
    await using half = await startLivePacer(sim, {
      provider: { basic: { httpBasicAuthUser: "pacer" } },
    });
    assert.equal(half.logged(/needs both httpBasicAuthUser and httpBasicPassword/).length, 1);
    await until(() => half.counter.apps >= 2, "list attempts");
    assert.deepEqual(half.routers(), []);
  }
  await using right = await startLivePacer(sim, {
    provider: { basic: { httpBasicAuthUser: "pacer", httpBasicPassword: "s3cret:x" } },
  });
  await until(() => right.routers().length === 1, "/web routed");
  assert.equal((await right.ask("web")).taskId, sim.api.tasks("/web")[0]!.id);
  await until(() => right.logged(/event stream connected/).length === 1, "the stream");
  assert.equal(right.logged(/Cannot/).length, 0);
});

Deno.test("DC/OS token: sent as 'token=', endpoints get /marathon; a wrong token gives no routes", async () => {
  await using sim = await cluster({ hostPortRange: [36000, 36099], auth: { token: "t0k3n" } });
  await sim.api.deploy(simApp("/web"));
  await sim.api.waitForDeployments();
  // The simulator serves Marathon at the root; DC/OS serves it under /marathon. A prefix-stripping
  // proxy plays Admin Router, so the default DC/OS path is exercised end to end.
  const seenAuth: string[] = [];
  await using adminRouter = await upstream("admin-router", async (req) => {
    const url = new URL(req.url);
    seenAuth.push(req.headers.get("authorization") ?? "");
    if (!url.pathname.startsWith("/marathon/")) return new Response("not found", { status: 404 });
    const res = await fetch(`${sim.leaderUrl}${url.pathname.slice(9)}${url.search}`, {
      headers: req.headers,
      redirect: "manual",
      signal: req.signal,
    });
    return new Response(res.body, { status: res.status, headers: res.headers });
  });

  {
    await using wrong = await startLivePacer(undefined, {
      provider: { endpoint: adminRouter.url, dcosToken: "expired" },
    });
    await until(() => wrong.counter.apps >= 2, "list attempts");
    const errors = wrong.logged(/Cannot list Marathon apps/, "error");
    assert.equal(errors.length, 1);
    assert.match(String(errors[0]!.error), /HTTP 401: Invalid username or password\..*acsjwt/);
    assert.deepEqual(wrong.routers(), []);
  }
  await using right = await startLivePacer(undefined, {
    provider: { endpoint: adminRouter.url, dcosToken: "t0k3n" },
  });
  await until(() => right.routers().length === 1, "/web routed");
  assert.equal((await right.ask("web")).taskId, sim.api.tasks("/web")[0]!.id);
  assert.ok(right.counter.urls.every((u) => u.startsWith(`${adminRouter.url}/marathon/`)));
  assert.ok(seenAuth.includes("token=t0k3n"));
  assert.ok(seenAuth.every((a) => a.startsWith("token=")), "never Bearer, never basic");
  // The stream works through the proxy too: a deploy is routed by its events.
  await sim.api.deploy(simApp("/later"));
  await until(() => right.routers().length === 2, "/later routed");
});
