/**
 * Marathon readiness during deployments (`respectReadinessChecks`),
 * TRAEFIK_PROVIDER.md §5.3 (Traefik `pkg/provider/marathon/readiness.go`).
 *
 * Readiness matters only while a deployment runs; afterwards Traefik's (and
 * Pacer's) own health checks take over. Marathon *health* check results are
 * never read (Traefik issue 653: they vanish on leader election).
 *
 * @module
 */
import type { MarathonApp, MarathonTask } from "./types.ts";

/** Window used when the first readiness check has no `timeoutSeconds`. */
export const READINESS_DEFAULT_TIMEOUT_MS = 10_000;
/** Margin added to a readiness check's own timeout. */
export const READINESS_SAFETY_MARGIN_MS = 5_000;

/** The verdict for one task. */
export interface Readiness {
  /** Whether the task may receive traffic. */
  readonly ready: boolean;
  /** Why, in words for a diagnostic. */
  readonly reason: string;
  /** Set when `startedAt` could not be parsed (Traefik logs a warning). */
  readonly warning?: string;
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 timestamp as Go's `time.Parse(time.RFC3339, s)` does
 * (fractional seconds allowed, `Z` or a numeric offset required).
 *
 * @returns Milliseconds since the epoch (fractional), or `undefined`.
 */
export function parseRfc3339(text: string): number | undefined {
  const m = RFC3339.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return undefined;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (day < 1 || day > daysInMonth) return undefined;
  let offsetMin = 0;
  if (m[9]) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 23 || om > 59) return undefined;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const base = Date.UTC(year, month - 1, day, hour, minute, second);
  // Date.UTC maps years 0-99 to 1900-1999; set the year explicitly.
  const date = new Date(base);
  date.setUTCFullYear(year);
  const fraction = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  return date.getTime() + fraction - offsetMin * 60_000;
}

/**
 * Judges a running task's readiness (§5.3), in Traefik's order: no deployment
 * → ready; no readiness checks → ready; a result for the task decides (first
 * match); otherwise a task younger than the window (first check's
 * `timeoutSeconds` + 5 s, or 10 s without a timeout) is unready, an older one
 * ready; an unparseable `startedAt` is unready.
 *
 * One refinement over Traefik (NOTES.md §1.2): before the age guess, a task
 * whose `version` differs from the app's current `version` was started from
 * an earlier definition — an old task that Marathon keeps until the new ones
 * are ready — so it is ready. Traefik's age guess alone drops young old tasks
 * (an app deployed twice within seconds), and with them the whole app: 404s
 * in the middle of a rolling deploy.
 *
 * @param now The current time (injected so tests need no clock).
 */
export function taskReadiness(app: MarathonApp, task: MarathonTask, now: Date): Readiness {
  if (app.deployments === 0) return { ready: true, reason: "no deployment in progress" };
  const first = app.readinessChecks[0];
  if (!first) return { ready: true, reason: "the app has no readiness checks" };
  const result = app.readinessCheckResults.find((r) => r.taskId === task.id);
  if (result) {
    return {
      ready: result.ready,
      reason: result.ready
        ? "its readiness check passed"
        : "its readiness check has not passed yet",
    };
  }
  if (task.version !== undefined && app.version !== undefined && task.version !== app.version) {
    return { ready: true, reason: "it runs an earlier version of the app (an old task)" };
  }
  const windowMs = first.timeoutSeconds === 0
    ? READINESS_DEFAULT_TIMEOUT_MS
    : first.timeoutSeconds * 1000 + READINESS_SAFETY_MARGIN_MS;
  const started = task.startedAt === undefined ? undefined : parseRfc3339(task.startedAt);
  if (started === undefined) {
    const warning = `cannot parse the start time ${
      JSON.stringify(task.startedAt ?? "")
    } of task ${task.id} (expected RFC 3339); treating it as unready`;
    return { ready: false, reason: warning, warning };
  }
  const since = now.getTime() - started;
  if (since < windowMs) {
    return {
      ready: false,
      reason: `it started ${Math.max(0, Math.round(since / 1000))}s ago, within the ${
        windowMs / 1000
      }s readiness window, and has no readiness result yet`,
    };
  }
  return {
    ready: true,
    reason: "it predates the deployment (no readiness result, started before the window)",
  };
}
