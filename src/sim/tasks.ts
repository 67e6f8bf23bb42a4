/**
 * Process supervisor: spawns the bundled task app (`task_app.ts`) as a real OS
 * process, reports when it listens and when it exits, and delivers signals.
 * It knows nothing about Marathon states; `scheduler.ts` maps process facts
 * onto them.
 *
 * @module
 */

/** Where the task app source lives by default; spawned with `deno run`. */
export const DEFAULT_TASK_APP: URL = new URL("./task_app.ts", import.meta.url);

/** Environment variables a task process may read (its `--allow-env` list). */
const TASK_ENV_ALLOW = "SIM_*,MARATHON_*,MESOS_*";

/** What to run. */
export interface TaskProcessSpec {
  /** Task id, for log lines. */
  readonly taskId: string;
  /** Addresses the process binds, in port-index order. */
  readonly listen: readonly { readonly hostname: string; readonly port: number }[];
  /** Environment (the app's `env` plus Marathon's variables). */
  readonly env: Readonly<Record<string, string>>;
  /** Receives the process's own output lines. */
  readonly log?: (line: string) => void;
  /** The task app script (a local file). @default {DEFAULT_TASK_APP} */
  readonly taskApp?: string | URL;
}

/** How a process ended. */
export interface TaskExit {
  /** Exit code (128 + n when killed by signal n). */
  readonly code: number;
  /** The terminating signal, if any. */
  readonly signal: Deno.Signal | null;
}

/** A running task process. */
export interface TaskProcess {
  /** OS process id. */
  readonly pid: number;
  /** Resolves once every address listens; rejects if the process exits first. */
  readonly listening: Promise<void>;
  /** Resolves when the process has exited and its pipes are drained. */
  readonly exited: Promise<TaskExit>;
  /** Whether the process is still alive. */
  readonly alive: boolean;
  /** Sends a signal; a no-op once the process is gone. */
  signal(signal: "SIGTERM" | "SIGKILL"): void;
}

function taskAppPath(taskApp: string | URL): string {
  if (typeof taskApp === "string") return taskApp;
  if (taskApp.protocol !== "file:") {
    // A bundled or remote simulator has no task_app.ts beside it; SimOptions.taskApp says where.
    throw new Error(`Cannot spawn the task app from ${taskApp.href}: it must be a local file`);
  }
  return decodeURIComponent(taskApp.pathname);
}

/** Keeps only what a Deno child needs from the parent environment. */
function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const v = Deno.env.get(name);
    if (v !== undefined) env[name] = v;
  }
  return env;
}

async function forwardLines(
  stream: ReadableStream<Uint8Array>,
  onLine: (line: string) => void,
): Promise<void> {
  let buffered = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffered += chunk;
    let nl: number;
    while ((nl = buffered.indexOf("\n")) >= 0) {
      onLine(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
    }
  }
  if (buffered !== "") onLine(buffered);
}

/**
 * Spawns one task process.
 *
 * @param spec What to run.
 * @returns The process handle.
 * @throws {Error} If the process cannot be spawned.
 */
export function spawnTask(spec: TaskProcessSpec): TaskProcess {
  const hosts = [...new Set(spec.listen.map((l) => l.hostname))].join(",");
  const env = {
    ...baseEnv(),
    ...spec.env,
    SIM_LISTEN: spec.listen.map((l) => `${l.hostname}:${l.port}`).join(","),
  };
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--no-config",
      "--no-lock",
      "--no-prompt",
      "--quiet",
      `--allow-net=${hosts}`,
      `--allow-env=${TASK_ENV_ALLOW}`,
      taskAppPath(spec.taskApp ?? DEFAULT_TASK_APP),
    ],
    env,
    clearEnv: true,
    // The child exits on stdin EOF: whoever holds this pipe keeps it alive.
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();

  const log = spec.log ?? (() => {});
  let alive = true;
  let resolveListening!: () => void;
  let rejectListening!: (err: Error) => void;
  const listening = new Promise<void>((resolve, reject) => {
    resolveListening = resolve;
    rejectListening = reject;
  });
  // Callers that never await `listening` must not see an unhandled rejection.
  listening.catch(() => {});

  const stdin = child.stdin.getWriter();
  const outDone = forwardLines(child.stdout, (line) => {
    if (line.startsWith("SIM_LISTENING")) resolveListening();
    else log(`${spec.taskId}: ${line}`);
  }).catch(() => {});
  const errDone = forwardLines(child.stderr, (line) => log(`${spec.taskId}: ${line}`)).catch(
    () => {},
  );

  const exited = child.status.then(async (status) => {
    alive = false;
    rejectListening(new Error(`task process exited with code ${status.code}`));
    await stdin.close().catch(() => {});
    await Promise.all([outDone, errDone]);
    return { code: status.code, signal: status.signal };
  });

  return {
    pid: child.pid,
    listening,
    exited,
    get alive() {
      return alive;
    },
    signal(signal) {
      if (!alive) return;
      try {
        child.kill(signal);
      } catch {
        // It died between the check and the signal.
      }
    },
  };
}
