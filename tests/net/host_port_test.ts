import assert from "node:assert/strict";
import { withoutPort } from "../../src/net/host_port.ts";

Deno.test("withoutPort() drops a port and IPv6 brackets, keeps bare IPv6 whole", () => {
  const cases: [string, string][] = [
    ["example.com", "example.com"],
    ["example.com:8080", "example.com"],
    ["10.0.0.1:8456", "10.0.0.1"],
    ["[::1]:443", "::1"],
    ["[::1]", "::1"],
    ["::1", "::1"],
    ["2001:db8::1", "2001:db8::1"],
    ["[broken", "[broken"],
    ["", ""],
  ];
  for (const [input, want] of cases) assert.equal(withoutPort(input), want, input);
});
