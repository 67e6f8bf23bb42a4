import { deepEqual, equal, fail, match, ok } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { ConfigError, type ConfigProblem } from "../../src/config/source.ts";
import {
  loadStaticConfig,
  type LoadStaticConfigInput,
  parseAddress,
  staticConfigSchema,
  staticConfigWarnings,
} from "../../src/config/static.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/config/", import.meta.url)).replace(/\/$/, "");

/** An in-memory file system rooted at /w for the `readFile` seam. */
function memory(files: Record<string, string>): (path: string) => Promise<string> {
  return (path) => {
    const text = files[path];
    return text === undefined
      ? Promise.reject(new Deno.errors.NotFound(`no such file: ${path}`))
      : Promise.resolve(text);
  };
}

function load(
  files: Record<string, string>,
  options: Partial<LoadStaticConfigInput> = {},
) {
  return loadStaticConfig({
    args: [],
    env: {},
    cwd: "/w",
    readFile: memory(files),
    ...options,
  });
}

async function problemsOf(promise: Promise<unknown>): Promise<readonly ConfigProblem[]> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return fail("expected a ConfigError");
}

const DEFAULT_ENTRYPOINT = {
  asDefault: false,
  transport: {
    respondingTimeouts: { readTimeout: 60_000, writeTimeout: 0, idleTimeout: 180_000 },
    lifeCycle: { requestAcceptGraceTimeout: 0, graceTimeOut: 10_000 },
  },
  forwardedHeaders: { trustedIPs: [], insecure: false },
  http: {
    middlewares: [],
    sanitizePath: true,
    encodedCharacters: {
      allowEncodedSlash: true,
      allowEncodedBackSlash: true,
      allowEncodedNullCharacter: true,
      allowEncodedSemicolon: true,
      allowEncodedPercent: true,
      allowEncodedQuestionMark: true,
      allowEncodedHash: true,
    },
  },
};

Deno.test("loadStaticConfig() applies every default when nothing is configured", async () => {
  const { config, configFile } = await load({});
  equal(configFile, undefined);
  deepEqual(config, {
    // Traefik creates `http` on :80 when no entrypoint is configured.
    entryPoints: { http: { address: ":80", ...DEFAULT_ENTRYPOINT } },
    providers: { providersThrottleDuration: 2_000 },
    serversTransport: {
      insecureSkipVerify: false,
      maxIdleConnsPerHost: 200,
      forwardingTimeouts: {
        dialTimeout: 30_000,
        responseHeaderTimeout: 0,
        idleConnTimeout: 90_000,
      },
    },
    log: { level: "info", format: "text", noColor: false },
    core: { defaultRuleSyntax: "v3" },
    plugins: {},
    drain: { timeout: 30_000 },
    chain: { retry: true, healthGate: true, drain: true },
  });
});

Deno.test("loadStaticConfig() applies the defaults of enabled sections", async () => {
  const { config } = await load({
    "/w/pacer.yaml": [
      "entryPoints:",
      "  web:",
      "    address: :8000",
      "    http:",
      "      redirections: {entryPoint: {to: ':443'}}",
      "providers:",
      "  file: {filename: dyn.yaml}",
      "  marathon: {}",
      "api: {}",
      "ping: {}",
      "accessLog: {}",
    ].join("\n"),
  });
  deepEqual(config.entryPoints.web!.http.redirections, {
    entryPoint: { to: ":443", scheme: "https", permanent: true, priority: 2_147_483_646 },
  });
  deepEqual(config.providers.file, { filename: "/w/dyn.yaml", watch: true });
  deepEqual(config.api, { insecure: false, dashboard: true, debug: false });
  deepEqual(config.ping, {
    entryPoint: "traefik",
    manualRouting: false,
    terminatingStatusCode: 503,
  });
  deepEqual(config.accessLog, { format: "common", bufferingSize: 0, addInternals: false });
  deepEqual(config.providers.marathon, {
    endpoint: "http://127.0.0.1:8080",
    exposedByDefault: true,
    defaultRule: "Host(`{{ normalize .Name }}`)",
    constraints: "",
    trace: false,
    watch: true,
    dialerTimeout: 5_000,
    responseHeaderTimeout: 60_000,
    tlsHandshakeTimeout: 5_000,
    keepAlive: 10_000,
    forceTaskHostname: false,
    respectReadinessChecks: false,
    labelPrefix: "traefik",
    resyncInterval: 60_000,
    eventsIdleTimeout: 30_000,
  });
  deepEqual(staticConfigWarnings(config), []);
});

Deno.test("staticConfigWarnings() names an entrypoint's idleTimeout Pacer cannot apply, not the default or 0", async () => {
  const { config } = await loadStaticConfig({
    args: [
      "--entryPoints.web.address=:80",
      "--entryPoints.web.transport.respondingTimeouts.idleTimeout=30s",
      "--entryPoints.plain.address=:81",
      "--entryPoints.none.address=:82",
      "--entryPoints.none.transport.respondingTimeouts.idleTimeout=0",
    ],
    env: {},
    cwd: FIXTURES,
  });
  deepEqual(staticConfigWarnings(config), [
    "entryPoints.web.transport.respondingTimeouts.idleTimeout is not applied: " +
    "Deno's server keeps idle keep-alive connections open and lets no code close them",
  ]);
});

Deno.test("loadStaticConfig() reads the YAML and JSON fixtures to the same configuration", async () => {
  const yaml = await loadStaticConfig({
    args: ["--config", "good.yaml"],
    env: {},
    cwd: FIXTURES,
    checkFiles: true,
  });
  const json = await loadStaticConfig({
    args: ["--configFile=good.json"],
    env: {},
    cwd: FIXTURES,
    checkFiles: true,
  });
  equal(yaml.configFile, "good.yaml");
  equal(json.configFile, "good.json");
  deepEqual(json.config, yaml.config);

  const { config } = yaml;
  deepEqual(Object.keys(config.entryPoints).sort(), ["traefik", "web", "websecure"]);
  const secure = config.entryPoints.websecure!;
  equal(secure.address, "127.0.0.1:8443");
  deepEqual(secure.transport, {
    respondingTimeouts: { readTimeout: 30_000, writeTimeout: 0, idleTimeout: 90_000 },
    lifeCycle: { requestAcceptGraceTimeout: 0, graceTimeOut: 90_000 },
  });
  deepEqual(secure.forwardedHeaders.trustedIPs, ["10.0.0.0/8", "192.168.0.1", "::1"]);
  // Relative paths: against the working directory, as in Traefik.
  deepEqual(secure.http.tls, {
    certFile: `${FIXTURES}/tls/cert.pem`,
    keyFile: `${FIXTURES}/tls/key.pem`,
  });
  deepEqual(secure.http.middlewares, ["compress@file"]);
  equal(config.entryPoints.web!.asDefault, true);
  equal(config.entryPoints.web!.http.redirections?.entryPoint?.to, "websecure");
  equal(config.entryPoints.traefik!.address, ":8080");
  equal(config.providers.providersThrottleDuration, 5_000);
  deepEqual(config.providers.file, { directory: `${FIXTURES}/dynamic`, watch: true });
  equal(config.providers.marathon?.endpoint, "http://marathon.mesos:8080");
  equal(config.providers.marathon?.exposedByDefault, false);
  deepEqual(config.log, { level: "debug", format: "json", noColor: false });
  // Plugin modules: against the configuration file's directory, as a URL.
  deepEqual(config.plugins, {
    hello: { module: new URL("../fixtures/config/plugins/hello.ts", import.meta.url).href },
  });
  equal(config.drain.timeout, 45_000);
});

Deno.test("loadStaticConfig() finds ./pacer.yaml, ./pacer.yml, ./pacer.json in that order", async () => {
  const cases: { files: string[]; expected: string | undefined }[] = [
    { files: ["pacer.yaml", "pacer.yml", "pacer.json"], expected: "pacer.yaml" },
    { files: ["pacer.yml", "pacer.json"], expected: "pacer.yml" },
    { files: ["pacer.json"], expected: "pacer.json" },
    { files: ["other.yaml"], expected: undefined },
  ];
  for (const c of cases) {
    const files = Object.fromEntries(
      c.files.map((f) => [`/w/${f}`, `{"log": {"level": "${f}"}}`]),
    );
    if (c.expected === undefined) {
      const { configFile, config } = await load(files);
      equal(configFile, undefined);
      equal(config.log.level, "info");
      continue;
    }
    const problems = await problemsOf(load(files));
    // The level names the file that was read, so the error proves which one.
    equal(problems.length, 1, c.files.join());
    match(problems[0]!.location, new RegExp(`^${c.expected.replace(".", "\\.")}:1:\\d+$`));
  }
});

Deno.test("loadStaticConfig() names the file from --config, --configFile or PACER_CONFIG_FILE", async () => {
  const files = {
    "/w/a.yaml": "log: {level: ERROR}",
    "/w/b.yaml": "log: {level: WARN}",
    "/etc/c.yaml": "log: {level: DEBUG}",
    "/w/pacer.yaml": "log: {level: INFO}",
  };
  const cases: { args: string[]; env: Record<string, string>; file: string; level: string }[] = [
    { args: ["--config", "a.yaml"], env: {}, file: "a.yaml", level: "error" },
    { args: ["--configFile", "b.yaml"], env: {}, file: "b.yaml", level: "warn" },
    { args: [], env: { PACER_CONFIG_FILE: "/etc/c.yaml" }, file: "/etc/c.yaml", level: "debug" },
    // The flag wins over the variable.
    {
      args: ["--config=a.yaml"],
      env: { PACER_CONFIG_FILE: "/etc/c.yaml" },
      file: "a.yaml",
      level: "error",
    },
    { args: [], env: {}, file: "pacer.yaml", level: "info" },
  ];
  for (const c of cases) {
    const { config, configFile } = await load(files, { args: c.args, env: c.env });
    equal(configFile, c.file, c.args.join(" "));
    equal(config.log.level, c.level, c.args.join(" "));
  }
  deepEqual(await problemsOf(load(files, { args: ["--config", "missing.yaml"] })), [
    { location: "missing.yaml", message: "configuration file not found (named by --config)" },
  ]);
});

Deno.test("loadStaticConfig() creates the traefik entrypoint on :8080 like Traefik", async () => {
  const cases: { name: string; yaml: string; expected: Record<string, string> }[] = [
    { name: "nothing", yaml: "", expected: { http: ":80" } },
    {
      name: "api.insecure",
      yaml: "api: {insecure: true}",
      expected: { http: ":80", traefik: ":8080" },
    },
    { name: "api, not insecure", yaml: "api: {}", expected: { http: ":80" } },
    { name: "ping", yaml: "ping: {}", expected: { http: ":80", traefik: ":8080" } },
    { name: "ping (empty key)", yaml: "ping:", expected: { http: ":80", traefik: ":8080" } },
    { name: "ping manualRouting", yaml: "ping: {manualRouting: true}", expected: { http: ":80" } },
    {
      name: "ping on another entrypoint",
      yaml: "entryPoints: {web: {address: ':81'}}\nping: {entryPoint: web}",
      expected: { web: ":81" },
    },
    {
      name: "user-defined entrypoints, api.insecure",
      yaml: "entryPoints: {web: {address: ':81'}}\napi: {insecure: true}",
      expected: { web: ":81", traefik: ":8080" },
    },
    {
      name: "user-defined traefik entrypoint is kept",
      yaml: "entryPoints: {traefik: {address: ':9000'}}\napi: {insecure: true}",
      expected: { traefik: ":9000" },
    },
  ];
  for (const c of cases) {
    const { config } = await load({ "/w/pacer.yaml": c.yaml });
    deepEqual(
      Object.fromEntries(Object.entries(config.entryPoints).map(([n, ep]) => [n, ep.address])),
      c.expected,
      c.name,
    );
  }
  // The same rule applies when the schema is used directly.
  const direct = staticConfigSchema.parse({ api: { insecure: true } });
  deepEqual(Object.keys(direct.entryPoints), ["http", "traefik"]);
});

Deno.test("loadStaticConfig() lets variables override the file and flags override both", async () => {
  const files = {
    "/w/pacer.yaml": [
      "entryPoints:",
      "  webSecure:",
      "    address: :443",
      "    forwardedHeaders: {trustedIPs: [10.0.0.0/8, 10.1.0.0/16]}",
      "log: {level: ERROR, format: json}",
      "providers: {providersThrottleDuration: 1s}",
    ].join("\n"),
  };
  const { config } = await load(files, {
    env: {
      PACER_LOG_LEVEL: "WARN",
      PACER_PROVIDERS_PROVIDERSTHROTTLEDURATION: "3s",
      // Reaches the file's `webSecure`, though variables lose case.
      PACER_ENTRYPOINTS_WEBSECURE_ADDRESS: ":8443",
      PACER_ENTRYPOINTS_WEBSECURE_FORWARDEDHEADERS_TRUSTEDIPS: "192.168.0.0/16",
    },
    args: ["--log.level=DEBUG", "--entryPoints.webSecure.forwardedHeaders.insecure"],
  });
  equal(config.log.level, "debug"); // flag > env > file
  equal(config.log.format, "json"); // file only
  equal(config.providers.providersThrottleDuration, 3_000); // env > file
  deepEqual(Object.keys(config.entryPoints), ["webSecure"]);
  equal(config.entryPoints.webSecure!.address, ":8443");
  // A list from a variable or flag replaces the file's list.
  deepEqual(config.entryPoints.webSecure!.forwardedHeaders, {
    trustedIPs: ["192.168.0.0/16"],
    insecure: true,
  });
});

Deno.test("loadStaticConfig() enables Marathon from a file, a flag or a variable", async () => {
  const marathonOf = async (
    yaml: string,
    args: string[] = [],
    env: Record<string, string> = {},
  ) => (await load({ "/w/pacer.yaml": yaml }, { args, env })).config.providers.marathon;
  const cases: { name: string; run: () => ReturnType<typeof marathonOf>; endpoint?: string }[] = [
    {
      name: "file {}",
      run: () => marathonOf("providers: {marathon: {}}"),
      endpoint: "http://127.0.0.1:8080",
    },
    {
      name: "file, empty key",
      run: () => marathonOf("providers:\n  marathon:\n"),
      endpoint: "http://127.0.0.1:8080",
    },
    {
      name: "file with options",
      run: () => marathonOf("providers: {marathon: {endpoint: 'http://m:1', watch: false}}"),
      endpoint: "http://m:1",
    },
    {
      name: "--providers.marathon",
      run: () => marathonOf("", ["--providers.marathon"]),
      endpoint: "http://127.0.0.1:8080",
    },
    {
      name: "--providers.marathon=true",
      run: () => marathonOf("", ["--providers.marathon=true"]),
      endpoint: "http://127.0.0.1:8080",
    },
    {
      name: "--providers.marathon.endpoint",
      run: () => marathonOf("", ["--providers.marathon.endpoint", "http://f:2"]),
      endpoint: "http://f:2",
    },
    {
      name: "PACER_PROVIDERS_MARATHON=true",
      run: () => marathonOf("", [], { PACER_PROVIDERS_MARATHON: "true" }),
      endpoint: "http://127.0.0.1:8080",
    },
    {
      name: "PACER_PROVIDERS_MARATHON_ENDPOINT",
      run: () => marathonOf("", [], { PACER_PROVIDERS_MARATHON_ENDPOINT: "http://e:3" }),
      endpoint: "http://e:3",
    },
    {
      // Enabling again keeps the file's options.
      name: "file options + --providers.marathon",
      run: () =>
        marathonOf("providers: {marathon: {endpoint: 'http://m:1'}}", ["--providers.marathon"]),
      endpoint: "http://m:1",
    },
    { name: "absent", run: () => marathonOf("") },
    {
      name: "--providers.marathon=false",
      run: () => marathonOf("providers: {marathon: {}}", ["--providers.marathon=false"]),
    },
  ];
  for (const c of cases) {
    const marathon = await c.run();
    equal(marathon?.endpoint, c.endpoint, c.name);
  }
  const full = await marathonOf("", [
    "--providers.marathon.dialerTimeout=2",
    "--providers.marathon.respectReadinessChecks",
    "--providers.marathon.basic.httpBasicAuthUser=admin",
  ], { PACER_PROVIDERS_MARATHON_TLS_INSECURESKIPVERIFY: "true" });
  equal(full?.dialerTimeout, 2_000);
  equal(full?.respectReadinessChecks, true);
  deepEqual(full?.basic, { httpBasicAuthUser: "admin" });
  deepEqual(full?.tls, { insecureSkipVerify: true });
});

Deno.test("loadStaticConfig() reads http.encodedCharacters from a file, flags and variables", async () => {
  const { config } = await load({
    "/w/pacer.yaml": [
      "entryPoints:",
      "  web:",
      "    address: :80",
      "    http: {encodedCharacters: {allowEncodedSlash: false}}",
    ].join("\n"),
  }, {
    env: { PACER_ENTRYPOINTS_WEB_HTTP_ENCODEDCHARACTERS_ALLOWENCODEDHASH: "false" },
    args: ["--entryPoints.web.http.encodedCharacters.allowEncodedNullCharacter=false"],
  });
  deepEqual(config.entryPoints.web!.http.encodedCharacters, {
    ...DEFAULT_ENTRYPOINT.http.encodedCharacters,
    allowEncodedSlash: false,
    allowEncodedNullCharacter: false,
    allowEncodedHash: false,
  });
  const problems = await problemsOf(load({
    "/w/pacer.yaml":
      "entryPoints: {web: {address: ':80', http: {encodedCharacters: {allowSlash: false}}}}",
  }));
  equal(problems.length, 1);
  ok(problems[0]!.message.includes("allowSlash"), problems[0]!.message);
});

Deno.test("loadStaticConfig() matches option names case-insensitively in files, flags and variables", async () => {
  const { config } = await loadStaticConfig({
    args: [
      "--config",
      "case_insensitive.yaml",
      "--ENTRYPOINTS.Web.TRANSPORT.lifecycle.GRACETIMEOUT=3s",
    ],
    env: { pacer_Log_Format: "json" },
    cwd: FIXTURES,
  });
  deepEqual(Object.keys(config.entryPoints), ["Web"]);
  equal(config.entryPoints.Web!.address, ":8082");
  deepEqual(config.entryPoints.Web!.forwardedHeaders.trustedIPs, ["10.0.0.0/8"]);
  equal(config.entryPoints.Web!.transport.lifeCycle.graceTimeOut, 3_000);
  equal(config.providers.marathon?.endpoint, "http://m:8080");
  deepEqual(config.log, { level: "warn", format: "json", noColor: false });
});

Deno.test("loadStaticConfig() locates every schema problem at the offending key", async () => {
  const problems = await problemsOf(
    loadStaticConfig({ args: ["--config", "bad_schema.yaml"], env: {}, cwd: FIXTURES }),
  );
  deepEqual(problems, [
    {
      location: "bad_schema.yaml:3:5",
      message:
        `'entryPoints.web.address': must be host:port (such as ":80" or "127.0.0.1:8080"), got "80x"`,
    },
    {
      location: "bad_schema.yaml:4:3",
      message: "'entryPoints.websecure.address': required option is missing",
    },
    {
      location: "bad_schema.yaml:5:5",
      message: "'entryPoints.websecure.adress': unknown option (did you mean 'address'?)",
    },
    {
      location: "bad_schema.yaml:7:3",
      message: "'providers.file': set only one of 'filename' and 'directory'",
    },
    {
      location: "bad_schema.yaml:11:3",
      message:
        `'log.level': must be one of DEBUG, INFO, WARN, ERROR (TRACE, FATAL and PANIC are accepted), got "verbose"`,
    },
  ]);
});

Deno.test("loadStaticConfig() reports syntax errors with env and flag problems together", async () => {
  const problems = await problemsOf(
    loadStaticConfig({
      args: ["--config", "bad_syntax.yaml", "--log.levle=DEBUG", "--api.insecure=oui"],
      env: { PACER_ENTRYPOINTS_WEB_ADRESS: ":80" },
      cwd: FIXTURES,
    }),
  );
  deepEqual(problems, [
    { location: "bad_syntax.yaml:5:5", message: "duplicate key 'address'" },
    {
      location: "bad_syntax.yaml:8:1",
      message: "Flow sequence in block collection must be sufficiently indented and end with a ]",
    },
    {
      location: "PACER_ENTRYPOINTS_WEB_ADRESS",
      message: "unknown option 'adress' (did you mean PACER_ENTRYPOINTS_WEB_ADDRESS?)",
    },
    { location: "--log.levle", message: "unknown option 'levle' (did you mean --log.level?)" },
    { location: "--api.insecure", message: 'must be true or false, got "oui"' },
  ]);
});

Deno.test("loadStaticConfig() locates value problems by the flag or variable that set them", async () => {
  const problems = await problemsOf(load({
    "/w/pacer.yaml": "entryPoints:\n  web:\n    address: ':80'\nlog: {format: xml}\n",
  }, {
    args: [
      "--entryPoints.web.address=80x",
      "--entryPoints.web.forwardedHeaders.trustedIPs=10.0.0.0/8,10.0.0.0/33",
    ],
    env: { PACER_CORE_DEFAULTRULESYNTAX: "v4", PACER_DRAIN_TIMEOUT: "soon" },
  }));
  deepEqual(problems, [
    {
      location: "pacer.yaml:4:7",
      message: `'log.format': must be "common" (or "text") or "json", got "xml"`,
    },
    {
      location: "PACER_CORE_DEFAULTRULESYNTAX",
      message: 'expected one of "v3"|"v2", got "v4"',
    },
    {
      location: "PACER_DRAIN_TIMEOUT",
      message:
        'Invalid duration: "soon" (expected a number followed by one of ns, us, ms, s, m, h, as in "1m30s")',
    },
    {
      location: "--entryPoints.web.address",
      message: 'must be host:port (such as ":80" or "127.0.0.1:8080"), got "80x"',
    },
    {
      location: "--entryPoints.web.forwardedHeaders.trustedIPs",
      message: 'must be an IP address or a CIDR block (such as "10.0.0.0/8"), got "10.0.0.0/33"',
    },
  ]);
});

Deno.test("loadStaticConfig() reports problems of an entrypoint made only of flags at the flag", async () => {
  const problems = await problemsOf(load({}, {
    args: ["--entryPoints.websecure.http.tls.certFile=c.pem"],
  }));
  deepEqual(problems, [{
    location: "--entryPoints.websecure.http.tls.certFile",
    message: "'entryPoints.websecure.address': required option is missing",
  }, {
    location: "--entryPoints.websecure.http.tls.certFile",
    message:
      "'entryPoints.websecure.http.tls.keyFile': a TLS entrypoint needs certFile and keyFile",
  }]);
});

Deno.test("parseAddress() accepts Traefik's address forms and refuses the rest", () => {
  const valid: [string, { host: string; port: number }][] = [
    [":80", { host: "", port: 80 }],
    ["127.0.0.1:8080", { host: "127.0.0.1", port: 8080 }],
    ["[::1]:443", { host: "::1", port: 443 }],
    ["localhost:0", { host: "localhost", port: 0 }],
    ["proxy.example.com:65535", { host: "proxy.example.com", port: 65535 }],
    [":8443/tcp", { host: "", port: 8443 }],
  ];
  for (const [input, expected] of valid) deepEqual(parseAddress(input), expected, input);
  const invalid: [string, RegExp][] = [
    ["80", /must be host:port/],
    ["80x", /must be host:port/],
    [":80x", /port from 0 to 65535/],
    [":65536", /port from 0 to 65535/],
    [":", /port from 0 to 65535/],
    ["::1:80", /must be host:port/],
    ["[::1]", /must be host:port/],
    ["[nope]:80", /valid IPv6 host/],
    ["bad host:80", /valid host name or IP address/],
    [":53/udp", /UDP entrypoints are not supported/],
    [":80/sctp", /optionally followed by \/tcp/],
  ];
  for (const [input, expected] of invalid) {
    try {
      parseAddress(input);
      fail(`accepted ${input}`);
    } catch (error) {
      ok(error instanceof RangeError, input);
      match(error.message, expected, input);
      match(error.message, new RegExp(`got ${JSON.stringify(input).replace(/[[\]/]/g, "\\$&")}`));
    }
  }
});

Deno.test("the address schema drops /tcp and explains UDP", async () => {
  const { config } = await load({ "/w/pacer.yaml": "entryPoints: {web: {address: ':81/TCP'}}" });
  equal(config.entryPoints.web!.address, ":81");
  const problems = await problemsOf(
    load({ "/w/pacer.yaml": "entryPoints:\n  dns:\n    address: ':53/udp'\n" }),
  );
  deepEqual(problems, [{
    location: "pacer.yaml:3:5",
    message:
      `'entryPoints.dns.address': UDP entrypoints are not supported (Pacer serves HTTP over TCP), got ":53/udp"`,
  }]);
});

Deno.test("log.level and log.format accept Traefik's names in any case", async () => {
  const cases: [string, string][] = [
    ["TRACE", "debug"],
    ["debug", "debug"],
    ["Info", "info"],
    ["WARN", "warn"],
    ["error", "error"],
    ["FATAL", "error"],
    ["panic", "error"],
  ];
  for (const [level, expected] of cases) {
    const { config } = await load({}, { args: [`--log.level=${level}`] });
    equal(config.log.level, expected, level);
  }
  for (const [format, expected] of [["common", "text"], ["TEXT", "text"], ["json", "json"]]) {
    const { config } = await load({}, { env: { PACER_LOG_FORMAT: format! } });
    equal(config.log.format, expected, format);
  }
});

Deno.test("loadStaticConfig() cross-checks entrypoint references and ports", async () => {
  const cases: { name: string; yaml: string; expected: ConfigProblem[] }[] = [
    {
      name: "redirection to an unknown entrypoint",
      yaml:
        "entryPoints:\n  web:\n    address: ':80'\n    http: {redirections: {entryPoint: {to: webscure}}}\n",
      expected: [{
        location: "pacer.yaml:4:40",
        message:
          `'entryPoints.web.http.redirections.entryPoint.to': must be an entrypoint name or a port such as ":443", got "webscure" (entrypoints: web)`,
      }],
    },
    {
      name: "redirection to itself",
      yaml:
        "entryPoints:\n  web:\n    address: ':80'\n    http: {redirections: {entryPoint: {to: web}}}\n",
      expected: [{
        location: "pacer.yaml:4:40",
        message:
          "'entryPoints.web.http.redirections.entryPoint.to': an entrypoint cannot redirect to itself",
      }],
    },
    {
      name: "ping on an unknown entrypoint",
      yaml: "entryPoints: {web: {address: ':80'}}\nping:\n  entryPoint: wbe\n",
      expected: [{
        location: "pacer.yaml:3:3",
        message: `'ping.entryPoint': unknown entrypoint "wbe" (entrypoints: web)`,
      }],
    },
    {
      name: "two entrypoints on one port",
      yaml: "entryPoints:\n  a: {address: ':8080'}\n  b: {address: '127.0.0.1:8080'}\n",
      expected: [{
        location: "pacer.yaml:3:7",
        message: `'entryPoints.b.address': listens on the same port as entrypoint 'a' (":8080")`,
      }],
    },
  ];
  for (const c of cases) {
    deepEqual(await problemsOf(load({ "/w/pacer.yaml": c.yaml })), c.expected, c.name);
  }
  // Port 0 (any free port) never clashes; different hosts on one port do not either.
  const { config } = await load({
    "/w/pacer.yaml": "entryPoints: {a: {address: ':0'}, b: {address: ':0'}, " +
      "c: {address: '127.0.0.1:90'}, d: {address: '127.0.0.2:90'}}",
  });
  equal(Object.keys(config.entryPoints).length, 4);
});

Deno.test("plugins.<name>.module accepts local, npm and file URL modules", async () => {
  const { config } = await load({
    "/w/conf/pacer.yaml": [
      "plugins:",
      "  local: {module: ./plugins/a.ts}",
      "  parent: {module: ../b.ts}",
      "  npm: {module: 'npm:@acme/pacer-plugin@1'}",
      "  url: {module: 'file:///opt/c.ts'}",
      "  abs: {module: /opt/d.ts}",
    ].join("\n"),
  }, {
    args: ["--config", "conf/pacer.yaml", "--plugins.flag.module=./e.ts"],
  });
  deepEqual(config.plugins, {
    local: { module: "file:///w/conf/plugins/a.ts" },
    parent: { module: "file:///w/b.ts" },
    npm: { module: "npm:@acme/pacer-plugin@1" },
    url: { module: "file:///opt/c.ts" },
    abs: { module: "file:///opt/d.ts" },
    // From a flag: relative to the working directory.
    flag: { module: "file:///w/e.ts" },
  });
  deepEqual(
    await problemsOf(load({ "/w/pacer.yaml": "plugins:\n  x:\n    module: plugin.ts\n" })),
    [{
      location: "pacer.yaml:3:5",
      message:
        `'plugins.x.module': must be "./path.ts" (relative to the configuration file), "npm:name", "file:///path.ts" or an absolute path, got "plugin.ts"`,
    }],
  );
});

Deno.test("loadStaticConfig({ checkFiles }) reports missing files where they are named", async () => {
  const problems = await problemsOf(loadStaticConfig({
    args: ["--config", "check_missing_files.yaml", "--plugins.p.module=./nope.ts"],
    env: {},
    cwd: FIXTURES,
    checkFiles: true,
  }));
  deepEqual(problems, [
    {
      location: "check_missing_files.yaml:6:9",
      message:
        `'entryPoints.websecure.http.tls.certFile': file not found: ${FIXTURES}/tls/missing.pem`,
    },
    {
      location: "check_missing_files.yaml:10:5",
      message: `'providers.file.filename': file not found: ${FIXTURES}/dynamic/nope.yaml`,
    },
    { location: "--plugins.p.module", message: `file not found: ${FIXTURES}/nope.ts` },
  ]);
  // Without checkFiles the same configuration loads (files are checked at start).
  const { config } = await loadStaticConfig({
    args: ["--config", "check_missing_files.yaml"],
    env: {},
    cwd: FIXTURES,
  });
  ok(config.entryPoints.websecure!.http.tls);
});

Deno.test("sections accept true/false and empty keys like Traefik's pointers", async () => {
  const { config } = await load({
    "/w/pacer.yaml": "api: true\nping: false\nlog:\nproviders:\n  file: {filename: a.yaml}\n",
  });
  deepEqual(config.api, { insecure: false, dashboard: true, debug: false });
  equal(config.ping, undefined);
  equal(config.log.level, "info");
  const removed = await load({ "/w/pacer.yaml": "ping: {}" }, { env: { PACER_PING: "false" } });
  equal(removed.config.ping, undefined);
  deepEqual(Object.keys(removed.config.entryPoints), ["http"]);
});

Deno.test("loadStaticConfig() refuses a file that is not a set of options", async () => {
  const cases: [string, string][] = [
    ["- web\n- websecure\n", 'must contain options such as "entryPoints:", got a list'],
    ["just text\n", 'must contain options such as "entryPoints:", got "just text"'],
  ];
  for (const [yaml, message] of cases) {
    deepEqual(await problemsOf(load({ "/w/pacer.yaml": yaml })), [
      { location: "pacer.yaml", message },
    ]);
  }
});

Deno.test("loadStaticConfig() reads accessLog's filters and fields and locates bad ones", async () => {
  const { config } = await load({
    "/w/pacer.yaml": [
      "accessLog:",
      "  format: json",
      "  filters: {statusCodes: ['404', '500-599'], minDuration: 10ms}",
      "  fields: {headers: {defaultMode: keep, names: {Authorization: redact}}}",
    ].join("\n"),
  });
  deepEqual(config.accessLog, {
    format: "json",
    bufferingSize: 0,
    addInternals: false,
    filters: { statusCodes: ["404", "500-599"], retryAttempts: false, minDuration: 10 },
    fields: {
      defaultMode: "keep",
      headers: { defaultMode: "keep", names: { Authorization: "redact" } },
    },
  });
  const problems = await problemsOf(load({
    "/w/pacer.yaml":
      "accessLog:\n  filters:\n    statusCodes: ['5xx']\n  fields: {defaultMode: hide}\n",
  }));
  deepEqual(problems.map((p) => p.location), ["pacer.yaml:3:19", "pacer.yaml:4:12"]);
  match(problems[0]!.message, /'5xx' is not a status code or range/);
  match(problems[1]!.message, /accessLog\.fields\.defaultMode/);
});
