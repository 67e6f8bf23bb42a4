// IP and CIDR parsing with Go netip's strictness, and Traefik's checker.
// Tables after Traefik's pkg/ip/checker_test.go and Go's netip tests.
import assert from "node:assert/strict";
import {
  formatIP,
  IPChecker,
  ipOrCidrSchema,
  isIPOrCIDR,
  maskIP,
  parseClientIP,
  parseIP,
} from "../../src/net/ip.ts";

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
    "1:2:3:4:5:6:7::",
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
    "00001::",
    "1::%",
    "%eth0",
    "1:2:3:4:5:6:7:1.2.3.4",
    "::1:2:3:4:5:6:7:8",
    "::1.2.3",
    "g::",
    "invalid",
    // netip trims nothing and knows no brackets.
    " 10.0.0.1",
    "10.0.0.1 ",
    "[::1]",
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
  const checker = new IPChecker([
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
    cases.map(([ip]) => checker.containsIP(parseIP(ip)!)),
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
      "10.0.0.0/+8",
      "::/129",
      "10.0.0.1%1/8",
      "x/8",
    ]
  ) {
    assert.throws(() => new IPChecker([bad]), TypeError, bad);
  }
  assert.ok(new IPChecker(["0.0.0.0/0"]).containsIP(parseIP("8.8.8.8")!));
  assert.ok(!new IPChecker(["0.0.0.0/0"]).containsIP(parseIP("::1")!));
  assert.ok(new IPChecker(["::/0"]).containsIP(parseIP("::1")!));
});

Deno.test("IPChecker matches addresses and CIDRs (Traefik's checker table)", () => {
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
      ],
      // Go's ParseAddr takes no brackets: Traefik's Contains fails on them.
      reject: [
        "2a03:4000:7:d080::",
        "2a03:4000:7:d080::1",
        "fe80::",
        "4242::1",
        "1.2.3.4",
        "[2a03:4000:6:d080::42]",
      ],
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
        " 1.2.3.4",
      ],
    },
  ];
  for (const { desc, trusted, pass, reject } of cases) {
    const checker = new IPChecker(trusted);
    for (const ip of pass) assert.equal(checker.contains(ip), true, `${desc}: ${ip} should pass`);
    for (const ip of reject) {
      assert.equal(checker.contains(ip), false, `${desc}: ${ip} should not pass`);
    }
  }
});

Deno.test("IPChecker treats IPv6-written networks of IPv4-mapped addresses as Traefik does", () => {
  // Traefik unmaps a network's first and last address (canonicalAddr), so
  // such a network is an IPv4 range.
  const mapped = new IPChecker(["::ffff:0:0/96"]);
  assert.equal(mapped.contains("1.2.3.4"), true);
  assert.equal(mapped.contains("::ffff:1.2.3.4"), true);
  assert.equal(mapped.contains("::1"), false);
  const ten = new IPChecker(["::ffff:10.0.0.0/104"]);
  assert.equal(ten.contains("10.200.0.1"), true);
  assert.equal(ten.contains("11.0.0.1"), false);
  assert.equal(new IPChecker(["::ffff:10.0.0.7/128"]).contains("10.0.0.7"), true);
  // Ending in that block without starting in it: first IPv6, last IPv4, an empty range.
  const ends = new IPChecker(["::/80"]);
  assert.equal(ends.contains("1.2.3.4"), false);
  assert.equal(ends.contains("::1"), false);
});

Deno.test("IPChecker refuses entries that are not addresses or CIDRs", () => {
  for (
    const bad of [
      "",
      "foo",
      "1.2.3.4/33",
      "::/129",
      "10.0.0.0/x",
      "01.2.3.4",
      " 10.0.0.0/8",
    ]
  ) {
    assert.throws(() => new IPChecker([bad]), TypeError, bad);
  }
  // Not a prefix with a zone (ParsePrefix refuses those) but, for
  // netip.ParseAddr, which Traefik tries first, the address fe80::1 in zone
  // "eth0/64": one address.
  const zoned = new IPChecker(["fe80::1%eth0/64"]);
  assert.equal(zoned.contains("fe80::1"), true);
  assert.equal(zoned.contains("fe80::2"), false);
});

Deno.test("parseIP() and formatIP() round-trip like Go", () => {
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
    assert.ok(ip && !ip.v4, input);
    assert.equal(formatIP(ip), want, input);
  }
  assert.deepEqual(parseIP("::ffff:1.2.3.4"), { v4: true, value: 0x01020304n, key: 0x01020304n });
  assert.deepEqual(parseIP("255.255.255.255"), {
    v4: true,
    value: 0xffffffffn,
    key: 0xffffffffn,
  });
  assert.equal(formatIP(parseIP("::ffff:1.2.3.4")!), "1.2.3.4");
});

Deno.test("maskIP() keeps the network bits", () => {
  const mask = (ip: string, bits: number) => formatIP(maskIP(parseIP(ip)!, bits));
  assert.equal(mask("2001:db8:1:2:3:4:5:6", 64), "2001:db8:1:2::");
  assert.equal(mask("2001:db8:aaaa:bbbb::1", 48), "2001:db8:aaaa::");
  assert.equal(mask("fe80::1", 0), "::");
  assert.equal(mask("fe80::1", 128), "fe80::1");
  assert.equal(mask("10.1.2.3", 8), "10.0.0.0");
});

Deno.test("isIPOrCIDR() validates trusted IPs", () => {
  const cases: [string, boolean][] = [
    ["10.0.0.1", true],
    ["10.0.0.0/8", true],
    ["0.0.0.0/0", true],
    ["::1", true],
    ["2001:db8::/32", true],
    ["fe80::/128", true],
    ["::ffff:0:0/96", true],
    ["10.0.0.0/33", false],
    ["::/129", false],
    ["10.0.0", false],
    ["10.0.0.0/8/8", false],
    ["example.com", false],
    ["10.0.0.0/x", false],
    ["10.0.0.0/08", false],
    [" 10.0.0.0/8", false],
  ];
  for (const [input, expected] of cases) assert.equal(isIPOrCIDR(input), expected, input);
});

Deno.test("ipOrCidrSchema reports the entry it refuses", () => {
  assert.equal(ipOrCidrSchema.safeParse("fd00::/8").success, true);
  const result = ipOrCidrSchema.safeParse("10.0.0.0/33");
  assert.equal(result.success, false);
  assert.equal(
    result.error!.issues[0]!.message,
    'must be an IP address or a CIDR block (such as "10.0.0.0/8"), got "10.0.0.0/33"',
  );
});
