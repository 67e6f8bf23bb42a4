// Tests of src/cli/check.ts (kept under tests/config/ with the rest of the
// start-up configuration tests).
import { deepEqual, equal, match } from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { checkCommand } from "../../src/cli/check.ts";

const FIXTURES = fileURLToPath(new URL("../fixtures/config/", import.meta.url)).replace(/\/$/, "");

async function check(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await checkCommand(args, {
    env,
    cwd: FIXTURES,
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
  });
  return { code, stdout: out.join(""), stderr: err.join("") };
}

Deno.test("pacer check accepts the good YAML and JSON files and their dynamic files", async () => {
  for (const file of ["good.yaml", "good.json"]) {
    const result = await check(["--config", file]);
    deepEqual(result, {
      code: 0,
      stdout: `Configuration OK: ${file}\n` +
        "  dynamic files: dynamic/middlewares.json, dynamic/routes.yaml\n" +
        // The fixture sets Traefik's idleTimeout, which Deno gives no way to apply.
        "  warning: entryPoints.websecure.transport.respondingTimeouts.idleTimeout is not " +
        "applied: Deno's server keeps idle keep-alive connections open and lets no code close them\n",
      stderr: "",
    }, file);
  }
});

Deno.test("pacer check skips a leading 'check' and prints warnings", async () => {
  const result = await check(["check", "--config=check_ok.yaml"]);
  deepEqual(result, {
    code: 0,
    stdout: "Configuration OK: check_ok.yaml\n" +
      "  dynamic files: dynamic/middlewares.json, dynamic/routes.yaml\n" +
      "  warning: global is accepted and ignored (Pacer never phones home)\n",
    stderr: "",
  });
});

Deno.test("pacer check takes the file from PACER_CONFIG_FILE and validates flags too", async () => {
  const ok = await check(["--log.level=DEBUG"], { PACER_CONFIG_FILE: "check_ok.yaml" });
  equal(ok.code, 0);
  equal(ok.stdout.split("\n")[0], "Configuration OK: check_ok.yaml");
  const bad = await check(["--log.levle=DEBUG"], { PACER_CONFIG_FILE: "check_ok.yaml" });
  deepEqual(bad, {
    code: 1,
    stdout: "",
    stderr: "--log.levle: unknown option 'levle' (did you mean --log.level?)\n" +
      "Configuration invalid: 1 problem\n",
  });
});

Deno.test("pacer check prints every problem of a bad static file and exits 1", async () => {
  const result = await check(["--config", "bad_schema.yaml"]);
  equal(result.code, 1);
  equal(result.stdout, "");
  deepEqual(result.stderr.split("\n"), [
    `bad_schema.yaml:3:5: 'entryPoints.web.address': must be host:port (such as ":80" or "127.0.0.1:8080"), got "80x"`,
    "bad_schema.yaml:4:3: 'entryPoints.websecure.address': required option is missing",
    "bad_schema.yaml:5:5: 'entryPoints.websecure.adress': unknown option (did you mean 'address'?)",
    "bad_schema.yaml:7:3: 'providers.file': set only one of 'filename' and 'directory'",
    `bad_schema.yaml:11:3: 'log.level': must be one of DEBUG, INFO, WARN, ERROR (TRACE, FATAL and PANIC are accepted), got "verbose"`,
    "Configuration invalid: 5 problems",
    "",
  ]);
});

Deno.test("pacer check reports YAML syntax errors with line and column", async () => {
  const result = await check(["--config", "bad_syntax.yaml"]);
  equal(result.code, 1);
  deepEqual(result.stderr.split("\n"), [
    "bad_syntax.yaml:5:5: duplicate key 'address'",
    "bad_syntax.yaml:8:1: Flow sequence in block collection must be sufficiently indented and end with a ]",
    "Configuration invalid: 2 problems",
    "",
  ]);
});

Deno.test("pacer check reports located problems in the dynamic files", async () => {
  const result = await check(["--config", "check_bad_dynamic.yaml"]);
  equal(result.code, 1);
  equal(result.stdout, "");
  deepEqual(result.stderr.split("\n"), [
    "bad_dynamic/a_shape.yaml:2:3: 'http.router': unknown option (did you mean 'routers'?)",
    "bad_dynamic/a_shape.yaml:6:1: 'tcpp': unknown option (did you mean 'tcp'?)",
    "bad_dynamic/b_syntax.yaml:5:1: Flow map in block collection must be sufficiently indented and end with a }",
    "Configuration invalid: 3 problems",
    "",
  ]);
});

Deno.test("pacer check builds the dynamic files: every item Pacer would disable is a located problem", async () => {
  const result = await check(["--config", "check_items.yaml"]);
  equal(result.code, 1);
  equal(result.stdout, "");
  deepEqual(result.stderr.split("\n"), [
    // Options of one item, where they are written (as the file provider logs them).
    "items_dynamic/a_routes.yaml:36:13: http.services.shadow: 'mirroring.mirrors[0].percent': expected number to be <=100, got 150",
    "items_dynamic/b_more.yaml:3:5: http.middlewares.typo: unknown middleware type 'stripPrefixx' (did you mean 'stripPrefix'?)",
    // What only building finds: rules, references, entrypoints.
    "items_dynamic/a_routes.yaml:10:7: http.routers.badRule: invalid rule \"Host(`x.example.com`) &&\": Cannot parse rule: expected a matcher such as Host(`example.com`) after '&&', found end of rule at column 25",
    "items_dynamic/a_routes.yaml:14:7: http.routers.lost: the service 'nowhere@file' does not exist",
    "items_dynamic/a_routes.yaml:21:7: http.routers.guarded: the middleware 'nope@file' does not exist",
    "items_dynamic/a_routes.yaml:25:7: http.routers.nowhereToListen: entryPoint not found: websecure",
    // Not problems: the second definition is ignored; Marathon's items are not read here.
    "warning: items_dynamic/b_more.yaml:7:5: http.services.app is already defined in items_dynamic/a_routes.yaml; this one is ignored",
    "warning: items_dynamic/a_routes.yaml:17:7: http.routers.elsewhere refers to 'web@marathon', which pacer check cannot see",
    "Configuration invalid: 6 problems",
    "",
  ]);
});

Deno.test("pacer check reports a plugin that does not load, with or without dynamic files", async () => {
  const broken = `--plugins.broken.module=${FIXTURES}/dynamic/routes.yaml`;
  for (const args of [["--config", "check_ok.yaml"], ["--entryPoints.web.address=:8081"]]) {
    const result = await check([...args, broken]);
    equal(result.code, 1, args.join(" "));
    const [first] = result.stderr.split("\n");
    match(first!, /: plugins\.broken: Plugin failed to load; routers using it are disabled: /);
  }
});

Deno.test("pacer check reports files that do not exist", async () => {
  const result = await check(["--config", "check_missing_files.yaml"]);
  equal(result.code, 1);
  deepEqual(result.stderr.split("\n"), [
    `check_missing_files.yaml:6:9: 'entryPoints.websecure.http.tls.certFile': file not found: ${FIXTURES}/tls/missing.pem`,
    `check_missing_files.yaml:10:5: 'providers.file.filename': file not found: ${FIXTURES}/dynamic/nope.yaml`,
    "Configuration invalid: 2 problems",
    "",
  ]);
  const missing = await check(["--config", "nope.yaml"]);
  deepEqual(missing, {
    code: 1,
    stdout: "",
    stderr: "nope.yaml: configuration file not found (named by --config)\n" +
      "Configuration invalid: 1 problem\n",
  });
});

Deno.test("pacer check reads a single dynamic file named by a flag, or none", async () => {
  const single = await check([
    "--entryPoints.web.address=:8081",
    "--providers.file.filename=bad_dynamic/a_shape.yaml",
  ]);
  equal(single.code, 1);
  deepEqual(single.stderr.split("\n").slice(0, 2), [
    "bad_dynamic/a_shape.yaml:2:3: 'http.router': unknown option (did you mean 'routers'?)",
    "bad_dynamic/a_shape.yaml:6:1: 'tcpp': unknown option (did you mean 'tcp'?)",
  ]);
  const none = await check(["--entryPoints.web.address=:8081"]);
  deepEqual(none, {
    code: 0,
    stdout: "Configuration OK: no file (defaults, PACER_* variables and flags)\n",
    stderr: "",
  });
});

Deno.test("pacer check --help prints its usage and exits 0", async () => {
  const result = await check(["--help"]);
  equal(result.code, 0);
  equal(result.stdout.split("\n")[0], "Usage: pacer check [--config FILE] [options]");
});
