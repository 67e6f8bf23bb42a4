// IP and CIDR parsing with Go netip's strictness, and the ClientIP checker.
import assert from "node:assert/strict";
import { IPChecker, parseClientIP, parseIP } from "../../src/router/ip.ts";

Deno.test("parseIP accepts what netip.ParseAddr accepts", () => {
  const valid = [
    "0.0.0.0",
    "255.255.255.255",
    "10.0.0.1",
    "::",
    "::1",
    "1::",
    "fe80::1%eth0",
    "2001:db8::8a2e:370:7334",
    "2001:0db8:0000:0000:0000:ff00:0042:8329",
    "::ffff:192.0.2.1",
    "64:ff9b::192.0.2.33",
    "1:2:3:4:5:6:7:8",
    "1:2:3:4:5:6:1.2.3.4",
  ];
  const invalid = [
    "",
    "1",
    "1.2.3",
    "1.2.3.4.5",
    "256.0.0.1",
    "01.2.3.4",
    "1.2.3.-4",
    "1.2.3.4%eth0",
    ":::",
    "1:2",
    ":1::",
    "1::2::3",
    "1:2:3:4:5:6:7:8:9",
    "12345::",
    "1::%",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1.2.3",
    "g::",
    "invalid",
  ];
  assert.deepEqual(valid.filter((s) => parseIP(s) === undefined), []);
  assert.deepEqual(invalid.filter((s) => parseIP(s) !== undefined), []);
});

Deno.test("IPv4-mapped IPv6 addresses and zones compare as the plain address", () => {
  assert.equal(parseIP("::ffff:10.0.0.1")?.key, parseIP("10.0.0.1")?.key);
  assert.equal(parseIP("fe80::1%eth0")?.key, parseIP("fe80::1")?.key);
  assert.equal(parseIP("::ffff:10.0.0.1")?.v4, true);
});

Deno.test("parseClientIP strips a port the way RemoteAddrStrategy does", () => {
  const cases: [string, string | null][] = [
    ["10.0.0.1", "10.0.0.1"],
    ["10.0.0.1:8456", "10.0.0.1"],
    ["[::1]:8080", "::1"],
    ["::1", "::1"],
    ["", null],
    ["1", null],
    ["not-an-ip", null],
  ];
  const got = cases.map(([raw]) => parseClientIP(raw)?.key ?? null);
  const want = cases.map(([, ip]) => (ip === null ? null : parseIP(ip)!.key));
  assert.deepEqual(got, want);
});

Deno.test("IPChecker matches exact IPs and CIDR ranges of both families", () => {
  const checker = IPChecker.parse([
    "10.0.0.1",
    "192.168.0.0/16",
    "fd00::/8",
    "2001:db8::1",
    "203.0.113.7/32",
    "10.1.2.3/24",
  ]);
  const cases: [string, boolean][] = [
    ["10.0.0.1", true],
    ["10.0.0.2", false],
    ["192.168.255.255", true],
    ["192.169.0.0", false],
    ["::ffff:192.168.1.1", true],
    ["fdff:ffff::1", true],
    ["fe00::1", false],
    ["2001:db8::1", true],
    ["2001:db8::2", false],
    ["203.0.113.7", true],
    // A CIDR with host bits set covers its whole network (netip Masked()).
    ["10.1.2.200", true],
    ["10.1.3.1", false],
  ];
  assert.deepEqual(
    cases.map(([ip]) => checker.contains(parseIP(ip)!)),
    cases.map(([, want]) => want),
  );
});

Deno.test("IPChecker refuses what netip.ParsePrefix refuses", () => {
  for (
    const bad of [
      "10.0.0.0/33",
      "10.0.0.0/08",
      "10.0.0.0/",
      "10.0.0.0/-1",
      "::/129",
      "10.0.0.1%1/8",
      "x/8",
    ]
  ) {
    assert.throws(() => IPChecker.parse([bad]), RangeError, bad);
  }
  assert.ok(IPChecker.parse(["0.0.0.0/0"]).contains(parseIP("8.8.8.8")!));
  assert.ok(!IPChecker.parse(["0.0.0.0/0"]).contains(parseIP("::1")!));
  assert.ok(IPChecker.parse(["::/0"]).contains(parseIP("::1")!));
});
