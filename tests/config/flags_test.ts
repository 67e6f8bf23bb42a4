import { deepEqual, equal } from "node:assert/strict";
import { parseFlags } from "../../src/config/flags.ts";
import { staticConfigSchema } from "../../src/config/static.ts";

const parse = (...args: string[]) => parseFlags(args, staticConfigSchema);

Deno.test("parseFlags() reads Traefik's flag forms into typed overrides", () => {
  const cases: { args: string[]; path: string[]; kind: string; value?: unknown }[] = [
    {
      args: ["--entryPoints.web.address=:8081"],
      path: ["entryPoints", "web", "address"],
      kind: "set",
      value: ":8081",
    },
    { args: ["--log.level", "DEBUG"], path: ["log", "level"], kind: "set", value: "DEBUG" },
    { args: ["-log.level=WARN"], path: ["log", "level"], kind: "set", value: "WARN" },
    { args: ["--api.insecure"], path: ["api", "insecure"], kind: "set", value: true },
    { args: ["--api.insecure=false"], path: ["api", "insecure"], kind: "set", value: false },
    { args: ["--api.insecure=T"], path: ["api", "insecure"], kind: "set", value: true },
    { args: ["--providers.marathon"], path: ["providers", "marathon"], kind: "enable" },
    { args: ["--providers.marathon=true"], path: ["providers", "marathon"], kind: "enable" },
    { args: ["--ping=false"], path: ["ping"], kind: "remove" },
    {
      args: ["--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8, 192.168.0.1"],
      path: ["entryPoints", "web", "forwardedHeaders", "trustedIPs"],
      kind: "set",
      value: ["10.0.0.0/8", "192.168.0.1"],
    },
    {
      args: ["--serversTransport.maxIdleConnsPerHost=50"],
      path: ["serversTransport", "maxIdleConnsPerHost"],
      kind: "set",
      value: 50,
    },
    {
      // Durations stay text: the schema reads "10s" and "10" (seconds).
      args: ["--providers.providersThrottleDuration=10"],
      path: ["providers", "providersThrottleDuration"],
      kind: "set",
      value: "10",
    },
    {
      // Option names are case-insensitive; object names keep their case.
      args: ["--ENTRYPOINTS.MyWeb.ADDRESS=:1"],
      path: ["entryPoints", "MyWeb", "address"],
      kind: "set",
      value: ":1",
    },
    {
      args: ["--providers.marathon.basic.httpBasicAuthUser=admin"],
      path: ["providers", "marathon", "basic", "httpBasicAuthUser"],
      kind: "set",
      value: "admin",
    },
  ];
  for (const c of cases) {
    const result = parse(...c.args);
    deepEqual(result.problems, [], c.args.join(" "));
    equal(result.overrides.length, 1, c.args.join(" "));
    const [o] = result.overrides;
    deepEqual(o!.path, c.path, c.args.join(" "));
    equal(o!.kind, c.kind, c.args.join(" "));
    deepEqual(o!.value, c.value, c.args.join(" "));
  }
});

Deno.test("parseFlags() appends repeated list flags and lets other repeats win", () => {
  const result = parse(
    "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8",
    "--log.level=INFO",
    "--entryPoints.web.forwardedHeaders.trustedIPs",
    "::1",
    "--log.level=ERROR",
  );
  deepEqual(result.problems, []);
  deepEqual(result.overrides.map((o) => [o.path.join("."), o.value]), [
    ["entryPoints.web.forwardedHeaders.trustedIPs", ["10.0.0.0/8", "::1"]],
    ["log.level", "INFO"],
    ["log.level", "ERROR"],
  ]);
});

Deno.test("parseFlags() keeps --config, --configFile, --help and --version out of the configuration", () => {
  const a = parse("--config", "a.yaml", "--help", "--version");
  deepEqual(a.overrides, []);
  deepEqual(a.problems, []);
  deepEqual(a.configFile, { path: "a.yaml", origin: "--config" });
  equal(a.help, true);
  equal(a.version, true);
  const b = parse("--configFile=b.yaml", "--CONFIG=c.yaml");
  deepEqual(b.configFile, { path: "c.yaml", origin: "--CONFIG" });
  equal(b.help, false);
});

Deno.test("parseFlags() reports bad flags by name, with hints", () => {
  const cases: { args: string[]; problems: { location: string; message: string }[] }[] = [
    {
      args: ["--entryPoints.web.adress=:80"],
      problems: [{
        location: "--entryPoints.web.adress",
        message: "unknown option 'adress' (did you mean --entryPoints.web.address?)",
      }],
    },
    {
      // The value of an unknown flag is skipped, not reported as a stray argument.
      args: ["--logg.levl", "DEBUG"],
      problems: [{
        location: "--logg.levl",
        message: "unknown option 'logg' (did you mean --log.level?)",
      }],
    },
    {
      args: ["--nothing.like.it=1"],
      problems: [{ location: "--nothing.like.it", message: "unknown option 'nothing'" }],
    },
    {
      args: ["--api.insecure=yes"],
      problems: [{ location: "--api.insecure", message: 'must be true or false, got "yes"' }],
    },
    {
      args: ["--serversTransport.maxIdleConnsPerHost=many"],
      problems: [{
        location: "--serversTransport.maxIdleConnsPerHost",
        message: 'must be a number, got "many"',
      }],
    },
    {
      args: ["--log.level"],
      problems: [{ location: "--log.level", message: "needs a value" }],
    },
    {
      args: ["--config"],
      problems: [{ location: "--config", message: "needs a file name" }],
    },
    {
      args: ["--log.level.deep=1"],
      problems: [{
        location: "--log.level.deep",
        message: "'log.level' is an option, not a section",
      }],
    },
    {
      args: ["--entryPoints.web=:80"],
      problems: [{
        location: "--entryPoints.web",
        message:
          'is a section: set one of its options (address, asDefault, transport, forwardedHeaders, http), or true/false to enable or disable it; got ":80"',
      }],
    },
    {
      args: ["stray", "--", "after"],
      problems: [
        {
          location: "stray",
          message: "unexpected argument (options are flags such as --log.level=DEBUG)",
        },
        { location: "after", message: "unexpected argument after '--'" },
      ],
    },
  ];
  for (const c of cases) {
    const result = parse(...c.args);
    deepEqual(result.problems, c.problems, c.args.join(" "));
    deepEqual(result.overrides, [], c.args.join(" "));
  }
});
