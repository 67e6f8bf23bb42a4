import { deepEqual, equal, match, ok } from "node:assert/strict";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { upstream } from "../_helpers/upstream.ts";

Deno.test("Pacer routes by rule, highest priority first, and answers 404 when nothing matches", async () => {
  await using a = await upstream("a");
  await using b = await upstream("b");
  await using c = await upstream("c");
  await using p = await startPacer({
    config: {
      http: {
        routers: {
          // Default priority is the rule length: the longer, more specific rule wins.
          short: { rule: "Host(`app.test`)", service: "a" },
          long: { rule: "Host(`app.test`) && PathPrefix(`/api`)", service: "b" },
          explicit: { rule: "PathPrefix(`/`)", service: "c", priority: 1 },
        },
        services: { a: lbService([a.url]), b: lbService([b.url]), c: lbService([c.url]) },
      },
    },
  });
  equal(await (await p.request("app.test", "/")).text(), "a");
  equal(
    await (await p.request("APP.test:8080", "/api/x")).text(),
    "b",
    "host is case-insensitive, port ignored",
  );
  equal(await (await p.request("other.test", "/")).text(), "c");
  const data = p.pacer.rawdata() as { routers: Record<string, { priority: number }> };
  equal(data.routers["short@file"]!.priority, "Host(`app.test`)".length);
  equal(data.routers["explicit@file"]!.priority, 1);
});

Deno.test("Pacer answers 404 with Traefik's body when no router matches", async () => {
  await using up = await upstream();
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Host(`x.test`)", service: "s" } },
        services: { s: lbService([up.url]) },
      },
    },
  });
  const res = await p.request("nope.test");
  equal(res.status, 404);
  equal(await res.text(), "404 page not found\n");
});

Deno.test("one bad router, service or middleware is disabled alone; the rest go live", async () => {
  await using up = await upstream("ok");
  await using p = await startPacer({
    config: {
      http: {
        routers: {
          good: { rule: "Host(`good.test`)", service: "s", middlewares: ["strip"] },
          badRule: { rule: "Host(`bad.test`", service: "s" },
          badService: { rule: "Host(`svc.test`)", service: "missing" },
          badMiddleware: { rule: "Host(`mw.test`)", service: "s", middlewares: ["broken"] },
          unknownKey: { rule: "Host(`k.test`)", service: "s", priorty: 3 },
        },
        services: {
          s: lbService([up.url]),
          empty: { loadBalancer: { servers: [{ url: "not a url" }] } },
        },
        middlewares: {
          strip: { stripPrefix: { prefixes: ["/x"] } },
          broken: { stripPrefix: { prefixes: "nope" } },
        },
      },
    },
  });
  equal(await (await p.request("good.test", "/x/y")).text(), "ok");
  equal(up.seen[0]!.path, "/y");
  for (const host of ["bad.test", "svc.test", "mw.test", "k.test"]) {
    const res = await p.request(host);
    equal(res.status, 404, host);
    await res.body?.cancel();
  }
  const data = p.pacer.rawdata() as Record<
    string,
    Record<string, { status: string; error?: string[] }>
  >;
  const routers = data.routers!;
  equal(routers["good@file"]!.status, "enabled");
  match(routers["badRule@file"]!.error![0]!, /invalid rule/);
  match(routers["badService@file"]!.error![0]!, /service 'missing@file' does not exist/);
  match(
    routers["badMiddleware@file"]!.error![0]!,
    /middleware 'broken@file' is disabled: 'stripPrefix.prefixes'/,
  );
  match(routers["unknownKey@file"]!.error![0]!, /unknown option 'priorty'/);
  equal(data.middlewares!["broken@file"]!.status, "disabled");
  equal(data.services!["empty@file"]!.status, "disabled");
  match(data.services!["empty@file"]!.error![0]!, /servers\[0\]\.url/);
});

Deno.test("names are qualified per provider and references cross providers with @", async () => {
  await using up = await upstream("shared");
  const { staticProvider } = await import("../../src/server/pacer.ts");
  await using p = await startPacer({
    providers: [
      staticProvider("one", { http: { services: { api: lbService([up.url]) } } }),
      staticProvider("two", {
        http: {
          routers: {
            cross: { rule: "Host(`cross.test`)", service: "api@one" },
            local: { rule: "Host(`local.test`)", service: "api" },
          },
        },
      }),
    ],
  });
  equal(await (await p.request("cross.test")).text(), "shared");
  const res = await p.request("local.test");
  equal(res.status, 404);
  await res.body?.cancel();
  const data = p.pacer.rawdata() as {
    routers: Record<string, { status: string; service: string }>;
  };
  equal(data.routers["cross@two"]!.service, "api@one");
  equal(data.routers["local@two"]!.status, "disabled");
});

Deno.test("chain middlewares expand in place and loops are reported", async () => {
  await using up = await upstream();
  await using p = await startPacer({
    config: {
      http: {
        routers: {
          r: { rule: "Host(`c.test`)", service: "s", middlewares: ["both"] },
          loop: { rule: "Host(`loop.test`)", service: "s", middlewares: ["l1"] },
        },
        services: { s: lbService([up.url]) },
        middlewares: {
          both: { chain: { middlewares: ["strip", "prefix"] } },
          strip: { stripPrefix: { prefixes: ["/old"] } },
          prefix: { addPrefix: { prefix: "/new" } },
          l1: { chain: { middlewares: ["l2"] } },
          l2: { chain: { middlewares: ["l1"] } },
        },
      },
    },
  });
  await (await p.request("c.test", "/old/page")).body?.cancel();
  equal(up.seen[0]!.path, "/new/page");
  const data = p.pacer.rawdata() as {
    routers: Record<string, { error?: string[]; middlewares?: string[] }>;
  };
  match(
    data.routers["loop@file"]!.error![0]!,
    /middleware chain loop: l1@file → l2@file → l1@file/,
  );
});

Deno.test("weighted services split traffic and WRR spreads requests by weight", async () => {
  await using a = await upstream("a");
  await using b = await upstream("b");
  await using p = await startPacer({
    config: {
      http: {
        routers: { r: { rule: "Host(`w.test`)", service: "split" } },
        services: {
          split: {
            weighted: { services: [{ name: "blue", weight: 3 }, { name: "green", weight: 1 }] },
          },
          blue: lbService([a.url]),
          green: lbService([b.url]),
        },
      },
    },
  });
  const seen: string[] = [];
  for (let i = 0; i < 40; i++) seen.push(await (await p.request("w.test")).text());
  equal(seen.filter((s) => s === "a").length, 30);
  equal(seen.filter((s) => s === "b").length, 10);
});

Deno.test("entrypoint middlewares run in front of every router on that entrypoint", async () => {
  await using up = await upstream();
  await using p = await startPacer({
    web: { middlewares: ["tag@file"] },
    config: {
      http: {
        routers: { r: { rule: "PathPrefix(`/`)", service: "s" } },
        services: { s: lbService([up.url]) },
        middlewares: { tag: { headers: { customRequestHeaders: { "X-Entry": "web" } } } },
      },
    },
  });
  await (await p.request("any.test")).body?.cancel();
  equal(up.seen[0]!.headers.get("x-entry"), "web");
});

Deno.test("/api/rawdata lists routers, services with server state, and middlewares with users", async () => {
  await using up = await upstream();
  await using p = await startPacer({
    entryPoints: [{ name: "traefik" }],
    api: { insecure: true, dashboard: true },
    config: {
      http: {
        routers: {
          r: { rule: "Host(`r.test`)", service: "s", entryPoints: ["web"], middlewares: ["m"] },
        },
        services: { s: lbService([up.url]) },
        middlewares: { m: { addPrefix: { prefix: "/p" } } },
      },
    },
  });
  const res = await fetch(`${p.url("traefik")}/api/rawdata`);
  equal(res.headers.get("content-type"), "application/json; charset=utf-8");
  const data = await res.json();
  deepEqual(data.routers["r@file"].using, ["web"]);
  equal(data.routers["r@file"].service, "s@file");
  deepEqual(data.services["s@file"].usedBy, ["r@file"]);
  deepEqual(data.services["s@file"].serverStatus, { [up.url]: "UP" });
  equal(data.services["s@file"].servers[0].inFlight, 0);
  deepEqual(data.middlewares["m@file"].usedBy, ["r@file"]);
  ok("api@internal" in data.routers);
  const one = await (await fetch(`${p.url("traefik")}/api/http/routers/r@file`)).json();
  equal(one.name, "r@file");
  const html = await (await fetch(`${p.url("traefik")}/dashboard/`)).text();
  match(html, /<title>Pacer<\/title>/);
});

Deno.test("default-rule routers refuse a request that loops back to themselves (400)", async () => {
  let selfUrl = "";
  const provider = {
    name: "marathon",
    run(
      emit: (m: import("../../src/provider/provider.ts").ConfigMessage) => void,
      signal: AbortSignal,
    ) {
      const send = () =>
        emit({
          provider: "marathon",
          config: {
            http: {
              routers: { loop: { rule: "PathPrefix(`/`)", service: "self" } },
              services: { self: lbService([selfUrl || "http://127.0.0.1:9"]) },
            },
          },
          recursionGuard: ["loop"],
        });
      send();
      // Re-emit once the test knows Pacer's own address.
      const timer = setInterval(() => selfUrl && send(), 10);
      return new Promise<void>((resolve) =>
        signal.addEventListener("abort", () => {
          clearInterval(timer);
          resolve();
        })
      );
    },
  };
  await using p = await startPacer({ providers: [provider] });
  selfUrl = p.url();
  while (!JSON.stringify(p.pacer.rawdata()).includes(selfUrl)) {
    await new Promise((r) => setTimeout(r, 10));
  }
  const res = await p.request("loop.test");
  equal(res.status, 400);
  equal(await res.text(), "Bad Request");
});
