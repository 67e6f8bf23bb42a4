import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import ipAllowListPlugin, {
  ipAllowList,
  ipAllowListConfig,
} from "../../src/middleware/ip_allow_list/mod.ts";
import ipWhiteListPlugin, { ipWhiteListConfig } from "../../src/middleware/ip_white_list/mod.ts";
import { testContext } from "./_ctx.ts";

async function status(
  raw: unknown,
  remote: string,
  headers: Record<string, string> = {},
): Promise<[number, string]> {
  const app = new Hono();
  app.use(ipAllowList(ipAllowListConfig.parse(raw)));
  app.get("/", (c) => c.text("ok"));
  const res = await app.request("/", { headers }, pacerEnv(remote));
  return [res.status, await res.text()];
}

Deno.test("ipAllowList() accepts listed clients and refuses others with 403 Forbidden", async () => {
  const cases: {
    desc: string;
    raw: unknown;
    remote: string;
    xff?: string;
    want: [number, string];
  }[] = [
    {
      desc: "authorized peer",
      raw: { sourceRange: ["20.20.20.20"] },
      remote: "20.20.20.20",
      want: [200, "ok"],
    },
    {
      desc: "non authorized peer",
      raw: { sourceRange: ["20.20.20.20"] },
      remote: "20.20.20.21",
      want: [403, "Forbidden"],
    },
    {
      desc: "authorized, reject 404",
      raw: { sourceRange: ["20.20.20.20"], rejectStatusCode: 404 },
      remote: "20.20.20.20",
      want: [200, "ok"],
    },
    {
      desc: "non authorized, reject 404",
      raw: { sourceRange: ["20.20.20.20"], rejectStatusCode: 404 },
      remote: "20.20.20.21",
      want: [404, "Not Found"],
    },
    {
      desc: "rejectStatusCode 0 means 403",
      raw: { sourceRange: ["20.20.20.20"], rejectStatusCode: 0 },
      remote: "1.1.1.1",
      want: [403, "Forbidden"],
    },
    {
      desc: "CIDR and IPv6",
      raw: { sourceRange: ["192.168.0.0/16", "fd00::/8"] },
      remote: "fd12:3456::1",
      want: [200, "ok"],
    },
    {
      desc: "X-Forwarded-For is ignored without ipStrategy",
      raw: { sourceRange: ["1.1.1.1"] },
      remote: "10.0.0.1",
      xff: "1.1.1.1",
      want: [403, "Forbidden"],
    },
    {
      desc: "depth strategy reads X-Forwarded-For",
      raw: { sourceRange: ["1.1.1.1"], ipStrategy: { depth: 2 } },
      remote: "10.0.0.1",
      xff: "1.1.1.1, 10.0.0.2",
      want: [200, "ok"],
    },
    {
      desc: "depth strategy with a too short header refuses",
      raw: { sourceRange: ["0.0.0.0/0"], ipStrategy: { depth: 3 } },
      remote: "10.0.0.1",
      xff: "1.1.1.1",
      want: [403, "Forbidden"],
    },
    {
      desc: "excludedIPs strategy",
      raw: { sourceRange: ["1.1.1.1"], ipStrategy: { excludedIPs: ["10.0.0.0/8"] } },
      remote: "10.0.0.1",
      xff: "1.1.1.1, 10.0.0.2, 10.0.0.3",
      want: [200, "ok"],
    },
    {
      desc: "ipv6Subnet allows the whole /64",
      raw: { sourceRange: ["2001:db8:1:2::"], ipStrategy: { ipv6Subnet: 64 } },
      remote: "2001:db8:1:2:aaaa::9",
      want: [200, "ok"],
    },
  ];
  for (const { desc, raw, remote, xff, want } of cases) {
    assert.deepEqual(
      await status(raw, remote, xff ? { "x-forwarded-for": xff } : {}),
      want,
      desc,
    );
  }
});

Deno.test("ipAllowList() refuses a request whose peer is unknown", async () => {
  const app = new Hono();
  app.use(ipAllowList(ipAllowListConfig.parse({ sourceRange: ["0.0.0.0/0", "::/0"] })));
  app.get("/", (c) => c.text("ok"));
  const res = await app.request("/"); // no PacerEnv: remote IP ""
  assert.equal(res.status, 403);
  await res.body?.cancel();
});

Deno.test("ipWhiteList() behaves like ipAllowList with a fixed 403", async () => {
  const app = new Hono();
  app.use(
    await ipWhiteListPlugin.create(
      ipWhiteListConfig.parse({ sourceRange: ["127.0.0.1/32"] }),
      testContext(),
    ),
  );
  app.get("/", (c) => c.text("ok"));
  const ok = await app.request("/", {}, pacerEnv("127.0.0.1"));
  assert.equal(ok.status, 200);
  await ok.body?.cancel();
  const refused = await app.request("/", {}, pacerEnv("127.0.0.2"));
  assert.equal(refused.status, 403);
  assert.equal(await refused.text(), "Forbidden");
});

Deno.test("ipAllowList and ipWhiteList options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(ipAllowListPlugin).register(ipWhiteListPlugin);
  const cases: { entry: unknown; want: RegExp }[] = [
    { entry: { ipAllowList: {} }, want: /'ipAllowList\.sourceRange'/ },
    {
      entry: { ipAllowList: { sourceRange: [] } },
      want: /'ipAllowList\.sourceRange': sourceRange is empty/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["10.0.0.0/8", "foo"] } },
      want: /'ipAllowList\.sourceRange\[1\]': must be an IP address or a CIDR block .*"foo"/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["10.10.10.10"], rejectStatusCode: 600 } },
      want: /'ipAllowList\.rejectStatusCode': must be an HTTP status code/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["1.1.1.1"], ipStrategy: { depth: -1 } } },
      want: /'ipAllowList\.ipStrategy\.depth'/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["1.1.1.1"], ipStrategy: { excludedIPs: ["nope"] } } },
      want: /'ipAllowList\.ipStrategy\.excludedIPs\[0\]'/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["1.1.1.1"], ipStrategy: { ipv6Subnet: 129 } } },
      want: /'ipAllowList\.ipStrategy\.ipv6Subnet'/,
    },
    {
      entry: { ipAllowList: { sourceRange: ["1.1.1.1"], ipStrategy: { dept: 1 } } },
      want: /'ipAllowList\.ipStrategy': unknown option 'dept'/,
    },
    {
      entry: { ipWhiteList: { sourceRange: ["1.1.1.1"], rejectStatusCode: 404 } },
      want: /'ipWhiteList': unknown option 'rejectStatusCode'/,
    },
  ];
  for (const { entry, want } of cases) {
    const result = registry.resolve(entry);
    assert.equal(result.ok, false, JSON.stringify(entry));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({
    ipallowlist: {
      SourceRange: ["10.0.0.0/8"],
      IPSTRATEGY: { Depth: 1, ExcludedIPs: ["1.1.1.1"] },
    },
  });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: unknown }).options, {
    sourceRange: ["10.0.0.0/8"],
    ipStrategy: { depth: 1, excludedIPs: ["1.1.1.1"] },
    rejectStatusCode: 403,
  });
});
