/**
 * Runs the simulator standalone: `deno run -A src/sim/main.ts [pacer sim options]`.
 *
 * @module
 */

import { simCommand } from "./cli.ts";

if (import.meta.main) Deno.exit(await simCommand(Deno.args));
