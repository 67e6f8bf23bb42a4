/**
 * Pacer's command line: wiring only.
 *
 * ```
 * pacer [run] [--config pacer.yaml] [--<static option>=<value> ...]
 * pacer check --config pacer.yaml
 * pacer sim [--listen 127.0.0.1:8080] [--apps apps.json] ...
 * pacer marathon routes --apps apps.json | --endpoint URL
 * pacer --help | --version
 * ```
 *
 * @module
 */
import { checkCommand } from "./cli/check.ts";
import { helpText } from "./cli/help.ts";
import { marathonRoutesCommand } from "./cli/marathon_routes.ts";
import { demoCommand } from "./cli/demo.ts";
import { type CommandIO, readPacerEnv, runCommand } from "./cli/run.ts";
import { simCommand } from "./sim/mod.ts";
import { VERSION } from "./version.ts";

const encoder = new TextEncoder();
const io: CommandIO = {
  stdout: (text) => Deno.stdout.writeSync(encoder.encode(text)),
  stderr: (text) => Deno.stderr.writeSync(encoder.encode(text)),
};

/** Runs the command line and returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const [first, ...rest] = args;
  // Sub-commands with their own options read their own --help.
  if (first === "sim") return await simCommand(rest);
  if (first === "demo") return await demoCommand(rest, io);
  if (first === "marathon") {
    if (rest[0] === "routes") return await marathonRoutesCommand(rest.slice(1), io);
    io.stderr("Usage: pacer marathon routes (--apps FILE | --endpoint URL) [options]\n");
    return 2;
  }
  if (args.includes("--help") || args.includes("-h") || first === "help") {
    io.stdout(helpText());
    return 0;
  }
  if (args.includes("--version") || first === "version") {
    io.stdout(`pacer ${VERSION} (deno ${Deno.version.deno})\n`);
    return 0;
  }
  switch (first) {
    case "check":
      return await checkCommand(rest, { ...io, env: readPacerEnv().env });
    case "run":
      return await runCommand(rest, io);
    case undefined:
      return await runCommand([], io);
    default:
      if (first.startsWith("-")) return await runCommand(args, io);
      io.stderr(`Unknown command '${first}'. Run 'pacer --help' for the commands.\n`);
      return 2;
  }
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
