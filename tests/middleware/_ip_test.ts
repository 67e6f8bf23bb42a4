import assert from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import {
  formatIPv6,
  type IPExtractor,
  IPMatcher,
  ipStrategy,
  ipStrategySchema,
  parseIP,
  sourceCriterionSchema,
  sourceExtractor,
} from "../../src/middleware/_ip/mod.ts";

// Tables after Traefik's pkg/ip/checker_test.go and strategy_test.go.

Deno.test("IPMatcher matches addresses and CIDRs (Traefik's checker table)", () => {
  const cases: { desc: string; trusted: string[]; pass: string[]; reject: string[] }[] = [
    {
      desc: "IPv4",
      trusted: ["1.2.3.4/24"],
      pass: ["1.2.3.1", "1.2.3.32", "1.2.3.156", "1.2.3.255"],
      reject: ["1.2.16.1", "1.2.32.1", "127.0.0.1", "8.8.8.8"],
    },
    {
      desc: "IPv4 single IP",
      trusted: ["8.8.8.8"],
      pass: ["8.8.8.8", "::ffff:8.8.8.8"],
      reject: ["8.8.8.7", "8.8.8.9", "8.8.8.0", "8.8.8.255", "4.4.4.4", "127.0.0.1"],
    },
    {
      desc: "IPv4 net single IP",
      trusted: ["8.8.8.8/32"],
      pass: ["8.8.8.8"],
      reject: ["8.8.8.7", "8.8.8.9", "4.4.4.4"],
    },
    {
      desc: "multiple IPv4",
      trusted: ["1.2.3.4/24", "8.8.8.8/8"],
      pass: ["1.2.3.1", "1.2.3.255", "8.8.4.4", "8.0.0.1", "8.32.42.128", "8.255.255.255"],
      reject: ["1.2.16.1", "127.0.0.1", "4.4.4.4", "4.8.8.8"],
    },
    {
      desc: "IPv4 /0 and IPv4-mapped clients",
      trusted: ["0.0.0.0/0"],
      pass: ["1.2.3.4", "255.255.255.255", "::ffff:10.0.0.1"],
      reject: ["::1", "2001:db8::1"],
    },
    {
      desc: "IPv6",
      trusted: ["2a03:4000:6:d080::/64"],
      pass: [
        "2a03:4000:6:d080::",
        "2a03:4000:6:d080::1",
        "2a03:4000:6:d080:dead:beef:ffff:ffff",
        "[2a03:4000:6:d080::42]",
      ],
      reject: ["2a03:4000:7:d080::", "2a03:4000:7:d080::1", "fe80::", "4242::1", "1.2.3.4"],
    },
    {
      desc: "IPv6 single IP",
      trusted: ["2a03:4000:6:d080::42/128"],
      pass: ["2a03:4000:6:d080::42", "2A03:4000:6:D080:0:0:0:42"],
      reject: ["2a03:4000:6:d080::1", "2a03:4000:6:d080::43"],
    },
    {
      desc: "IPv6 prefix not on a byte boundary, zone dropped",
      trusted: ["fe80::/10"],
      pass: ["fe80::1", "febf:ffff::1", "fe80::1%eth0"],
      reject: ["fec0::1", "fe7f::1"],
    },
    {
      desc: "multiple IPv6 & IPv4",
      trusted: ["2a03:4000:6:d080::/64", "fe80::/16", "1.2.3.4/24", "8.8.8.8/8"],
      pass: ["2a03:4000:6:d080::42", "fe80:aa00:00bb:4232:ff00:eeee:00ff:1111", "1.2.3.156"],
      reject: ["2a03:4000:7:d080::1", "4242::1", "1.2.16.1", "4.8.8.8"],
    },
    {
      desc: "broken addresses never match",
      trusted: ["0.0.0.0/0", "::/0"],
      pass: [],
      reject: [
        "foo",
        "10.0.0.350",
        "fe:::80",
        "",
        "\\&$§&/(",
        "0127.2.3.1",
        "1.2.3.4:80",
        "1::2::3",
      ],
    },
  ];
  for (const { desc, trusted, pass, reject } of cases) {
    const matcher = new IPMatcher(trusted);
    for (const ip of pass) assert.equal(matcher.contains(ip), true, `${desc}: ${ip} should pass`);
    for (const ip of reject) {
      assert.equal(matcher.contains(ip), false, `${desc}: ${ip} should not pass`);
    }
  }
});

Deno.test("IPMatcher refuses entries that are not addresses or CIDRs", () => {
  for (
    const bad of ["", "foo", "1.2.3.4/33", "::/129", "10.0.0.0/x", "fe80::1%eth0/64", "01.2.3.4"]
  ) {
    assert.throws(() => new IPMatcher([bad]), TypeError, bad);
  }
});

Deno.test("parseIP() and formatIPv6() round-trip like Go", () => {
  const cases: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0DB8:0000:0000:0000:0000:0002:0001", "2001:db8::2:1"],
    ["1:0:0:4:0:0:0:8", "1:0:0:4::8"],
    ["1:2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8"],
    ["1:0:3:4:5:6:7:8", "1:0:3:4:5:6:7:8"],
    ["64:ff9b::1.2.3.4", "64:ff9b::102:304"],
  ];
  for (const [input, want] of cases) {
    const ip = parseIP(input);
    assert.ok(ip && ip.kind === 6, input);
    assert.equal(formatIPv6(ip.bytes), want, input);
  }
  assert.deepEqual(parseIP("::ffff:1.2.3.4"), { kind: 4, value: 0x01020304 });
  assert.deepEqual(parseIP("255.255.255.255"), { kind: 4, value: 0xffffffff });
});

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
