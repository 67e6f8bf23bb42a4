import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import {
  type IPExtractor,
  ipStrategy,
  ipStrategySchema,
  sourceCriterionSchema,
  sourceExtractor,
} from "../../src/middleware/_ip/mod.ts";

// Tables after Traefik's pkg/ip/strategy_test.go. Address parsing and matching:
// tests/net/ip_test.ts.

function run(extractor: IPExtractor, remote: string, xff?: string): Promise<string> {
  const app = new Hono();
  app.get("/", (c) => c.text(extractor(c)));
  const headers: Record<string, string> = xff === undefined ? {} : { "x-forwarded-for": xff };
  return Promise.resolve(app.request("/", { headers }, pacerEnv(remote))).then((r) => r.text());
}

Deno.test("ipStrategy() picks the client address (Traefik's strategy table)", async () => {
  const s = (raw: unknown) => ipStrategySchema.parse(raw);
  const cases: { desc: string; strategy?: unknown; remote: string; xff?: string; want: string }[] =
    [
      { desc: "no strategy: peer", remote: "10.0.0.1", xff: "1.1.1.1", want: "10.0.0.1" },
      {
        desc: "empty strategy: peer",
        strategy: {},
        remote: "10.0.0.1",
        xff: "1.1.1.1",
        want: "10.0.0.1",
      },
      { desc: "label form true: peer", strategy: true, remote: "10.0.0.1", want: "10.0.0.1" },
      {
        desc: "depth 1",
        strategy: { depth: 1 },
        remote: "10.0.0.1",
        xff: "1.1.1.1, 2.2.2.2",
        want: "2.2.2.2",
      },
      {
        desc: "depth 2",
        strategy: { depth: 2 },
        remote: "10.0.0.1",
        xff: "1.1.1.1,2.2.2.2",
        want: "1.1.1.1",
      },
      {
        desc: "depth too deep",
        strategy: { depth: 3 },
        remote: "10.0.0.1",
        xff: "1.1.1.1,2.2.2.2",
        want: "",
      },
      { desc: "depth without header", strategy: { depth: 1 }, remote: "10.0.0.1", want: "" },
      {
        desc: "depth wins over excludedIPs",
        strategy: { depth: 1, excludedIPs: ["2.2.2.2"] },
        remote: "10.0.0.1",
        xff: "1.1.1.1, 2.2.2.2",
        want: "2.2.2.2",
      },
      {
        desc: "excludedIPs skips trusted proxies from the right",
        strategy: { excludedIPs: ["10.0.0.0/8", "2.2.2.2"] },
        remote: "10.0.0.1",
        xff: "1.1.1.1, 3.3.3.3, 10.1.1.1, 2.2.2.2",
        want: "3.3.3.3",
      },
      {
        desc: "excludedIPs all excluded",
        strategy: { excludedIPs: ["0.0.0.0/0"] },
        remote: "10.0.0.1",
        xff: "1.1.1.1, 2.2.2.2",
        want: "",
      },
      {
        desc: "excludedIPs takes an unparseable entry",
        strategy: { excludedIPs: ["2.2.2.2"] },
        remote: "10.0.0.1",
        xff: "unknown, 2.2.2.2",
        want: "unknown",
      },
      {
        desc: "ipv6Subnet on the peer",
        strategy: { ipv6Subnet: 64 },
        remote: "2001:db8:1:2:3:4:5:6",
        want: "2001:db8:1:2::",
      },
      {
        desc: "ipv6Subnet leaves IPv4 alone",
        strategy: { ipv6Subnet: 64 },
        remote: "10.0.0.1",
        want: "10.0.0.1",
      },
      {
        desc: "ipv6Subnet with depth",
        strategy: { depth: 1, ipv6Subnet: 48 },
        remote: "10.0.0.1",
        xff: "2001:db8:aaaa:bbbb::1",
        want: "2001:db8:aaaa::",
      },
      {
        desc: "ipv6Subnet does not apply to excludedIPs",
        strategy: { excludedIPs: ["10.0.0.0/8"], ipv6Subnet: 48 },
        remote: "10.0.0.1",
        xff: "2001:db8:aaaa:bbbb::1",
        want: "2001:db8:aaaa:bbbb::1",
      },
    ];
  for (const { desc, strategy, remote, xff, want } of cases) {
    const extractor = ipStrategy(strategy === undefined ? undefined : s(strategy));
    assert.equal(await run(extractor, remote, xff), want, desc);
  }
});

Deno.test("sourceExtractor() groups by IP, header or host, with each middleware's default", async () => {
  const crit = (raw: unknown) => sourceCriterionSchema.parse(raw);
  const app = new Hono();
  const extractors: Record<string, IPExtractor> = {
    ipDefault: sourceExtractor(undefined, "ip"),
    hostDefault: sourceExtractor(undefined, "host"),
    emptyIp: sourceExtractor(crit({}), "ip"),
    header: sourceExtractor(crit({ requestHeaderName: "X-Tenant" }), "ip"),
    host: sourceExtractor(crit({ requestHost: true }), "ip"),
    depth: sourceExtractor(crit({ ipStrategy: { depth: 1 } }), "host"),
  };
  app.get("/:which", (c) => c.text(extractors[c.req.param("which")]!(c)));
  const get = async (which: string, headers: Record<string, string> = {}) =>
    await (await app.request(`http://svc.example:8080/${which}`, { headers }, pacerEnv("10.0.0.9")))
      .text();
  assert.equal(await get("ipDefault"), "10.0.0.9");
  assert.equal(await get("hostDefault"), "svc.example:8080");
  assert.equal(await get("hostDefault", { host: "other.example" }), "other.example");
  assert.equal(await get("emptyIp"), "10.0.0.9");
  assert.equal(await get("header", { "x-tenant": "acme" }), "acme");
  assert.equal(await get("header"), "");
  assert.equal(await get("host"), "svc.example:8080");
  assert.equal(await get("depth", { "x-forwarded-for": "7.7.7.7" }), "7.7.7.7");
});

Deno.test("sourceCriterion rejects several criteria with Traefik's messages", () => {
  const cases: [unknown, RegExp][] = [
    [
      { ipStrategy: {}, requestHeaderName: "X" },
      /iPStrategy and RequestHeaderName are mutually exclusive/,
    ],
    [{ ipStrategy: {}, requestHost: true }, /iPStrategy and RequestHost are mutually exclusive/],
    [
      { requestHeaderName: "X", requestHost: true },
      /requestHost and RequestHeaderName are mutually exclusive/,
    ],
  ];
  for (const [raw, want] of cases) {
    const result = sourceCriterionSchema.safeParse(raw);
    assert.equal(result.success, false);
    assert.match(result.error!.issues[0]!.message, want);
  }
  assert.equal(
    sourceCriterionSchema.safeParse({ requestHeaderName: "", requestHost: true }).success,
    true,
  );
});
