import { deepEqual, equal } from "node:assert/strict";
import { configFileFromEnv, parseEnv } from "../../src/config/env_vars.ts";
import { staticConfigSchema } from "../../src/config/static.ts";

const parse = (env: Record<string, string>, existing?: unknown) =>
  parseEnv(env, staticConfigSchema, existing);

Deno.test("parseEnv() reads Traefik's variable names into typed overrides", () => {
  const cases: { name: string; value: string; path: string[]; kind: string; typed?: unknown }[] = [
    {
      name: "PACER_ENTRYPOINTS_WEB_ADDRESS",
      value: ":8081",
      path: ["entryPoints", "web", "address"],
      kind: "set",
      typed: ":8081",
    },
    {
      name: "PACER_LOG_LEVEL",
      value: "DEBUG",
      path: ["log", "level"],
      kind: "set",
      typed: "DEBUG",
    },
    {
      name: "PACER_PROVIDERS_FILE_FILENAME",
      value: "dyn.yaml",
      path: ["providers", "file", "filename"],
      kind: "set",
      typed: "dyn.yaml",
    },
    {
      name: "PACER_API_INSECURE",
      value: "true",
      path: ["api", "insecure"],
      kind: "set",
      typed: true,
    },
    {
      name: "PACER_PROVIDERS_MARATHON",
      value: "true",
      path: ["providers", "marathon"],
      kind: "enable",
    },
    { name: "PACER_PING", value: "false", path: ["ping"], kind: "remove" },
    {
      name: "PACER_PROVIDERS_MARATHON_DCOSTOKEN",
      value: "t0k",
      path: ["providers", "marathon", "dcosToken"],
      kind: "set",
      typed: "t0k",
    },
    {
      name: "PACER_ENTRYPOINTS_WEB_FORWARDEDHEADERS_TRUSTEDIPS",
      value: "10.0.0.0/8,192.168.0.1",
      path: ["entryPoints", "web", "forwardedHeaders", "trustedIPs"],
      kind: "set",
      typed: ["10.0.0.0/8", "192.168.0.1"],
    },
    {
      // Traefik compares the prefix case-insensitively.
      name: "pacer_log_format",
      value: "json",
      path: ["log", "format"],
      kind: "set",
      typed: "json",
    },
    {
      // Object names from variables are lower case, as in Traefik.
      name: "PACER_PLUGINS_HELLO_MODULE",
      value: "npm:hello",
      path: ["plugins", "hello", "module"],
      kind: "set",
      typed: "npm:hello",
    },
  ];
  for (const c of cases) {
    const result = parse({ [c.name]: c.value });
    deepEqual(result.problems, [], c.name);
    equal(result.overrides.length, 1, c.name);
    const [o] = result.overrides;
    deepEqual(o!.path, c.path, c.name);
    equal(o!.kind, c.kind, c.name);
    deepEqual(o!.value, c.typed, c.name);
    equal(o!.origin, c.name);
  }
});

Deno.test("parseEnv() reads object names containing '_' only when the file defines them", () => {
  const env = {
    PACER_ENTRYPOINTS_MY_WEB_ADDRESS: ":1",
    PACER_ENTRYPOINTS_A_B_C_HTTP_MIDDLEWARES: "x@file",
  };
  const existing = { entryPoints: { my_web: { address: ":2" }, a_b_c: { address: ":3" } } };
  const known = parse(env, existing);
  deepEqual(known.problems, []);
  deepEqual(known.overrides.map((o) => o.path), [
    ["entryPoints", "a_b_c", "http", "middlewares"],
    ["entryPoints", "my_web", "address"],
  ]);
  // Without the file, Traefik's rule: the name ends at the first '_'.
  const unknown = parse(env);
  deepEqual(unknown.overrides, []);
  deepEqual(unknown.problems.map((p) => p.message), [
    "unknown option 'b' (a name containing '_' must first be defined in the configuration file)",
    "unknown option 'web' (a name containing '_' must first be defined in the configuration file)",
  ]);
});

Deno.test("parseEnv() reuses an object name the file spells in another case", () => {
  const existing = { entryPoints: { webSecure: { address: ":443" }, my_Api: { address: ":1" } } };
  const result = parse({
    PACER_ENTRYPOINTS_WEBSECURE_ADDRESS: ":8443",
    PACER_ENTRYPOINTS_MY_API_ASDEFAULT: "true",
  }, existing);
  deepEqual(result.problems, []);
  deepEqual(result.overrides.map((o) => o.path), [
    ["entryPoints", "my_Api", "asDefault"],
    ["entryPoints", "webSecure", "address"],
  ]);
});

Deno.test("parseEnv() reports bad variables by name, with hints", () => {
  const cases: {
    env: Record<string, string>;
    problems: { location: string; message: string }[];
  }[] = [
    {
      env: { PACER_LOGG_LEVEL: "DEBUG" },
      problems: [{
        location: "PACER_LOGG_LEVEL",
        message: "unknown option 'logg' (did you mean PACER_LOG_LEVEL?)",
      }],
    },
    {
      env: { PACER_ENTRYPOINTS_WEB_ADRESS: ":80" },
      problems: [{
        location: "PACER_ENTRYPOINTS_WEB_ADRESS",
        message: "unknown option 'adress' (did you mean PACER_ENTRYPOINTS_WEB_ADDRESS?)",
      }],
    },
    {
      env: { PACER_API_INSECURE: "maybe" },
      problems: [{ location: "PACER_API_INSECURE", message: 'must be true or false, got "maybe"' }],
    },
    {
      env: { PACER_ENTRYPOINTS__ADDRESS: ":80" },
      problems: [{ location: "PACER_ENTRYPOINTS__ADDRESS", message: "missing a name" }],
    },
  ];
  for (const c of cases) {
    const result = parse(c.env);
    deepEqual(result.problems, c.problems, Object.keys(c.env)[0]);
    deepEqual(result.overrides, []);
  }
});

Deno.test("parseEnv() ignores other variables and takes PACER_CONFIG_FILE aside", () => {
  const env = { HOME: "/root", PACER_CONFIG_FILE: "/etc/pacer.yaml", PATH: "/bin" };
  const result = parse(env);
  deepEqual(result.overrides, []);
  deepEqual(result.problems, []);
  deepEqual(result.configFile, { path: "/etc/pacer.yaml", origin: "PACER_CONFIG_FILE" });
  deepEqual(configFileFromEnv(env), { path: "/etc/pacer.yaml", origin: "PACER_CONFIG_FILE" });
  deepEqual(configFileFromEnv({ PACER_CONFIGFILE: "t.yml" }), {
    path: "t.yml",
    origin: "PACER_CONFIGFILE",
  });
  equal(configFileFromEnv({ PACER_CONFIG_FILE: "" }), undefined);
});
