import { deepEqual, equal, match, ok } from "node:assert/strict";
import { Context } from "hono";
import { loadBalancerSchema, serversTransportSchema } from "../../src/config/dynamic.ts";
import { healthGatePolicy } from "../../src/middleware/health_gate/mod.ts";
import { drainPolicy } from "../../src/middleware/drain/mod.ts";
import {
  FailoverService,
  LoadBalancerService,
  WeightedService,
} from "../../src/service/load_balancer.ts";
import { UpstreamServer } from "../../src/service/server.ts";
import { createTransport } from "../../src/service/transport.ts";
import { pacerEnv } from "../../src/server/env.ts";
import { stickyValue } from "../../src/service/sticky.ts";
import { upstream } from "../_helpers/upstream.ts";

const transport = createTransport("t", serversTransportSchema.parse({}));

function lb(
  name: string,
  servers: { url: string; weight?: number }[],
  extra: Record<string, unknown> = {},
): LoadBalancerService {
  const config = loadBalancerSchema.parse({ servers, ...extra });
  return new LoadBalancerService(
    name,
    config.servers.map((s) => ({
      server: new UpstreamServer(name, s.url, transport),
      weight: s.weight,
    })),
    config,
    { serverName: "t" },
  );
}

function ctx(headers: Record<string, string> = {}): Context {
  return new Context(new Request("http://a.test/", { headers }), { env: pacerEnv() });
}

function pickUrls(
  service: LoadBalancerService,
  n: number,
  c: () => Context = () => ctx(),
): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = service.pick(c(), Date.now());
    out.push(typeof p === "string" ? p : new URL(p.server.rawUrl).hostname);
  }
  return out;
}

Deno.test("LoadBalancerService picks by smooth weighted round robin (nginx's sequence)", () => {
  const service = lb("s", [
    { url: "http://a:1", weight: 5 },
    { url: "http://b:1", weight: 1 },
    { url: "http://c:1", weight: 1 },
  ]);
  deepEqual(pickUrls(service, 14), [
    ..."aabacaa".split(""),
    ..."aabacaa".split(""),
  ]);
});

Deno.test("LoadBalancerService never picks a weight-0 server and spreads the rest by weight", () => {
  const service = lb("s", [
    { url: "http://a:1", weight: 3 },
    { url: "http://b:1", weight: 1 },
    { url: "http://z:1", weight: 0 },
  ]);
  const picks = pickUrls(service, 400);
  equal(picks.filter((p) => p === "a").length, 300);
  equal(picks.filter((p) => p === "b").length, 100);
  equal(picks.filter((p) => p === "z").length, 0);
});

Deno.test("LoadBalancerService answers no-servers for an empty service", () => {
  deepEqual(pickUrls(lb("s", []), 1), ["no-servers"]);
});

Deno.test("LoadBalancerService sticky cookie keeps a client on its server and re-picks when it is gone", () => {
  const service = lb("s", [{ url: "http://a:1" }, { url: "http://b:1" }], {
    sticky: { cookie: { name: "lb", httpOnly: true, secure: true, sameSite: "lax", maxAge: 60 } },
  });
  const first = service.pick(ctx(), Date.now());
  if (typeof first === "string") throw new Error(first);
  match(first.setCookie!, /^lb=[0-9a-f]+; Path=\/; Max-Age=60; HttpOnly; Secure; SameSite=Lax$/);
  const cookie = first.setCookie!.split(";")[0]!;
  for (let i = 0; i < 5; i++) {
    const again = service.pick(ctx({ cookie: `other=1; ${cookie}` }), Date.now());
    if (typeof again === "string") throw new Error(again);
    equal(again.server, first.server);
    equal(again.setCookie, undefined);
  }
  // Once the server drains, the client moves and gets a new cookie.
  first.server.draining = true;
  const c = ctx({ cookie });
  c.set("drain", drainPolicy);
  const away = service.pick(c, Date.now());
  if (typeof away === "string") throw new Error(away);
  ok(away.server !== first.server);
  equal(away.setCookie?.split(";")[0], `lb=${stickyValue(away.server.rawUrl)}`);
});

Deno.test("LoadBalancerService adds its sticky cookie to the upstream's own response", async () => {
  await using up = await upstream(
    "sticky",
    () => new Response("sticky", { headers: { "set-cookie": "app=1" } }),
  );
  const service = lb("s", [{ url: up.url }], { sticky: { cookie: { name: "lb" } } });
  const res = await service.handle(ctx());
  equal(await res.text(), "sticky");
  const cookies = res.headers.getSetCookie();
  equal(cookies.length, 2);
  equal(cookies[0], "app=1", "the upstream's cookie is kept");
  equal(cookies[1]!.split(";")[0], `lb=${stickyValue(service.servers()[0]!.rawUrl)}`);
  service.servers()[0]!.dispose();
});

Deno.test("LoadBalancerService avoids servers the retry already tried, unless none is left", () => {
  const service = lb("s", [{ url: "http://a:1" }, { url: "http://b:1" }]);
  const [a, b] = service.servers();
  for (let i = 0; i < 4; i++) {
    const c = ctx();
    c.set("retryAttempt", { attempt: 2, tried: new Set([a!]) });
    const p = service.pick(c, Date.now());
    if (typeof p === "string") throw new Error(p);
    equal(p.server, b);
  }
  const c = ctx();
  c.set("retryAttempt", { attempt: 3, tried: new Set([a!, b!]) });
  ok(typeof service.pick(c, Date.now()) !== "string");
});

Deno.test("LoadBalancerService with the health gate skips down, ejected and draining servers", () => {
  const service = lb("s", [{ url: "http://a:1" }, { url: "http://b:1" }, { url: "http://c:1" }, {
    url: "http://d:1",
  }]);
  const [a, b, c, d] = service.servers();
  const now = Date.now();
  a!.health.active = "down";
  b!.health.ejectedUntil = now + 10_000;
  c!.draining = true;
  const context = () => {
    const x = ctx();
    x.set("healthGate", healthGatePolicy({ panicThreshold: 0 }));
    x.set("drain", drainPolicy);
    return x;
  };
  deepEqual(pickUrls(service, 3, context), ["d", "d", "d"]);
  d!.health.active = "down";
  deepEqual(pickUrls(service, 1, context), ["none-healthy"]);
});

Deno.test("LoadBalancerService answers 503 with Retry-After at once when no server is healthy", async () => {
  const service = lb("s", [{ url: "http://127.0.0.1:9" }], {
    healthCheck: { path: "/h", interval: "7s" },
  });
  service.servers()[0]!.health.active = "down";
  const c = ctx();
  c.set("healthGate", healthGatePolicy({ panicThreshold: 0 }));
  const started = performance.now();
  const res = await service.handle(c);
  ok(performance.now() - started < 50);
  equal(res.status, 503);
  equal(res.headers.get("retry-after"), "7");
  await res.body?.cancel();
});

Deno.test("LoadBalancerService slow start: pending servers wait while a healthy one exists", () => {
  const service = lb("s", [{ url: "http://old:1" }, { url: "http://new:1" }]);
  const [, fresh] = service.servers();
  fresh!.health.active = "pending";
  const gated = () => {
    const x = ctx();
    x.set("healthGate", healthGatePolicy({ panicThreshold: 0 }));
    return x;
  };
  deepEqual(pickUrls(service, 4, gated), ["old", "old", "old", "old"]);
  service.servers()[0]!.health.active = "down";
  deepEqual(pickUrls(service, 2, gated), ["new", "new"]);
});

Deno.test("LoadBalancerService panic threshold routes to every server when too few are healthy", () => {
  const service = lb("s", [{ url: "http://a:1" }, { url: "http://b:1" }, { url: "http://c:1" }, {
    url: "http://d:1",
  }]);
  const [a, b, c] = service.servers();
  a!.health.active = b!.health.active = c!.health.active = "down";
  const panicking = () => {
    const x = ctx();
    x.set("healthGate", healthGatePolicy({ panicThreshold: 0.5 }));
    return x;
  };
  equal(new Set(pickUrls(service, 8, panicking)).size, 4);
  const strict = () => {
    const x = ctx();
    x.set("healthGate", healthGatePolicy({ panicThreshold: 0.25 }));
    return x;
  };
  deepEqual(new Set(pickUrls(service, 8, strict)), new Set(["d"]));
});

Deno.test("the health gate ejects a server after a connection failure and lets it back on probation", () => {
  const service = lb("s", [{ url: "http://a:1" }]);
  const [a] = service.servers();
  const policy = healthGatePolicy({ panicThreshold: 0 });
  const passive = { failureWindow: 1000, maxFailedAttempts: 2, maxEjectionTime: 3000, on5xx: true };
  const t0 = 1_000_000;
  policy.observe(a!, new Response("x", { status: 500 }), passive, t0);
  ok(a!.health.routable(t0));
  policy.observe(a!, new Response("x", { status: 502 }), passive, t0 + 10);
  ok(!a!.health.routable(t0 + 10), "ejected after 2 failures");
  ok(a!.health.routable(t0 + 10 + 1000), "back after the window");
  policy.observe(a!, new Response("x", { status: 500 }), passive, t0 + 1100);
  ok(!a!.health.routable(t0 + 1100), "one failure on probation ejects again");
  equal(a!.health.ejectedUntil - (t0 + 1100), 2000, "the second ejection is twice as long");
  policy.observe(a!, new Response("ok"), passive, t0 + 3200);
  equal(a!.health.ejections, 0, "a success after probation resets the growth");
});

Deno.test("WeightedService splits by weight and honours its sticky cookie", async () => {
  await using blue = await upstream("blue");
  await using green = await upstream("green");
  const b = lb("blue@t", [{ url: blue.url }]);
  const g = lb("green@t", [{ url: green.url }]);
  const weighted = new WeightedService("canary@t", [{ service: b, weight: 3 }, {
    service: g,
    weight: 1,
  }], {
    healthAware: false,
  });
  const answers: string[] = [];
  for (let i = 0; i < 8; i++) answers.push(await (await weighted.handle(ctx())).text());
  equal(answers.filter((a) => a === "blue").length, 6);
  equal(answers.filter((a) => a === "green").length, 2);

  const sticky = new WeightedService("sticky@t", [{ service: b, weight: 1 }, {
    service: g,
    weight: 1,
  }], {
    sticky: { name: "canary", secure: false, httpOnly: false, sameSite: "", maxAge: 0, path: "/" },
    healthAware: false,
  });
  const first = await sticky.handle(ctx());
  const who = await first.text();
  const cookie = first.headers.getSetCookie().find((c) => c.startsWith("canary="))!.split(";")[0]!;
  for (let i = 0; i < 4; i++) equal(await (await sticky.handle(ctx({ cookie }))).text(), who);
  for (const s of [...b.servers(), ...g.servers()]) s.dispose();
});

Deno.test("FailoverService serves from the fallback while the main service has no healthy server", async () => {
  await using main = await upstream("main");
  await using backup = await upstream("backup");
  const m = lb("main@t", [{ url: main.url }]);
  const f = lb("backup@t", [{ url: backup.url }]);
  const failover = new FailoverService("f@t", m, f);
  const gated = () => {
    const x = ctx();
    x.set("healthGate", healthGatePolicy({ panicThreshold: 0 }));
    return x;
  };
  equal(await (await failover.handle(gated())).text(), "main");
  m.servers()[0]!.health.active = "down";
  equal(await (await failover.handle(gated())).text(), "backup");
  for (const s of [...m.servers(), ...f.servers()]) s.dispose();
});

Deno.test("LoadBalancerService counts a request in flight until its body is consumed", async () => {
  await using up = await upstream("body");
  const service = lb("s", [{ url: up.url }]);
  const c = ctx();
  c.set("drain", drainPolicy);
  const res = await service.handle(c);
  const server = service.servers()[0]!;
  equal(server.inFlight, 1);
  equal(await res.text(), "body");
  equal(server.inFlight, 0);
  server.dispose();
});

Deno.test("passive health never ejects a service's last routable server", async () => {
  const service = lb("s", [{ url: `http://127.0.0.1:9` }, { url: `http://127.0.0.1:9/b` }]);
  const [a, b] = service.servers();
  const policy = healthGatePolicy({ panicThreshold: 0 });
  const run = async () => {
    const c = ctx();
    c.set("healthGate", policy);
    await (await service.handle(c)).body?.cancel();
    return c.get("upstream");
  };
  // Both servers refuse connections: the first one hit is ejected, the last never is.
  const first = await run();
  ok(!first.health.routable(Date.now()), "the first failing server is ejected");
  const second = await run();
  ok(second !== first);
  for (let i = 0; i < 3; i++) await run();
  ok(second.health.routable(Date.now()), "the last routable server stays in rotation");
  equal(second.health.consecutiveFailures > 0, true, "its failures are still counted");
  for (const s of [a!, b!]) s.dispose();
});
