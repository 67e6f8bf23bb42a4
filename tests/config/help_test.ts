// Tests of src/cli/help.ts (kept under tests/config/ with the rest of the
// start-up configuration tests).
import { deepEqual, equal, ok } from "node:assert/strict";
import { helpText, listOptions } from "../../src/cli/help.ts";
import { parseFlags } from "../../src/config/flags.ts";
import { staticConfigSchema } from "../../src/config/static.ts";

Deno.test("helpText() lists the commands and the configuration sources", () => {
  const text = helpText();
  for (
    const expected of [
      "pacer [run] [--config FILE] [options]",
      "pacer check [--config FILE] [options]",
      "pacer sim",
      "pacer marathon routes",
      "pacer --help | --version",
      "PACER_CONFIG_FILE",
      "./pacer.yaml, ./pacer.yml or ./pacer.json",
    ]
  ) {
    ok(text.includes(expected), expected);
  }
});

Deno.test("helpText() shows each static option with its default", () => {
  const lines = helpText().split("\n");
  const line = (flag: string) => lines.find((l) => l.trimStart().startsWith(`${flag} `))?.trim();
  const cases: [string, RegExp][] = [
    ["--entryPoints.<name>.address", /host:port, required$/],
    ["--entryPoints.<name>.transport.respondingTimeouts.readTimeout", /duration \(default 1m0s\)$/],
    ["--entryPoints.<name>.transport.lifeCycle.graceTimeOut", /duration \(default 10s\)$/],
    ["--providers.providersThrottleDuration", /duration \(default 2s\)$/],
    ["--providers.marathon", /enable \(true\/false\)$/],
    ["--providers.marathon.endpoint", /\(default "http:\/\/127\.0\.0\.1:8080"\)$/],
    ["--providers.file.watch", /boolean \(default true\)$/],
    ["--serversTransport.maxIdleConnsPerHost", /number \(default 200\)$/],
    ["--api.insecure", /boolean \(default false\)$/],
    ["--ping.entryPoint", /\(default "traefik"\)$/],
    ["--ping.terminatingStatusCode", /\(default 503\)$/],
    ["--log.level", /DEBUG\|INFO\|WARN\|ERROR \(default "INFO"\)$/],
    ["--log.format", /common\|json \(default "common"\)$/],
    ["--core.defaultRuleSyntax", /v3\|v2 \(default "v3"\)$/],
    ["--drain.timeout", /duration \(default 30s\)$/],
    ["--plugins.<name>.module", /required$/],
  ];
  for (const [flag, expected] of cases) {
    const found = line(flag);
    ok(found, `missing ${flag}`);
    ok(expected.test(found), `${found} !~ ${expected}`);
  }
  equal(line("--global.checkNewVersion"), undefined);
});

Deno.test("every option listed in the help is a flag Pacer accepts", () => {
  const rows = listOptions();
  ok(rows.length > 60);
  for (const row of rows) {
    const flag = row.flag.replaceAll("<name>", "x");
    const value = row.type.startsWith("enable") || row.type.startsWith("boolean")
      ? "true"
      : row.type.startsWith("number")
      ? "1"
      : "v";
    const { problems } = parseFlags([`${flag}=${value}`], staticConfigSchema);
    deepEqual(problems, [], flag);
  }
});
