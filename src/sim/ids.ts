/**
 * Identifiers and timestamps in Marathon's formats.
 *
 * @module
 */

/** Marathon's timestamp format: ISO-8601 UTC with milliseconds. */
export function isoTime(ms: number = Date.now()): string {
  return new Date(ms).toISOString();
}

/**
 * Hands out app versions: timestamps that strictly increase, because two
 * changes within one millisecond must still get distinct versions (clients
 * compare them as strings).
 */
export class VersionClock {
  #last = 0;

  /** The next version timestamp. */
  next(): string {
    const now = Math.max(Date.now(), this.#last + 1);
    this.#last = now;
    return isoTime(now);
  }
}

/** The "safe" form of an app id: no leading `/`, other `/` become `_`. */
export function safeId(appId: string): string {
  return appId.replace(/^\//, "").replaceAll("/", "_");
}

/** Ids of one task and its instance. */
export interface TaskIds {
  /** The Mesos task id (`task.id`). */
  readonly taskId: string;
  /** The Marathon instance id (`healthCheckResults[].instanceId`, `instance_changed_event`). */
  readonly instanceId: string;
}

/**
 * Creates ids the way the simulated Marathon version does.
 *
 * - 1.8+ (`legacy` false): instance `app.instance-<uuid>`, task `app.instance-<uuid>._app.1`.
 * - 1.4-1.7 (`legacy` true): instance `app.marathon-<uuid>`, task `app.<uuid>`.
 *
 * @param appId Absolute app id.
 * @param legacy Whether to use the 1.4-1.7 formats.
 */
export function newTaskIds(appId: string, legacy: boolean): TaskIds {
  const safe = safeId(appId);
  const uuid = crypto.randomUUID();
  if (legacy) return { taskId: `${safe}.${uuid}`, instanceId: `${safe}.marathon-${uuid}` };
  const instanceId = `${safe}.instance-${uuid}`;
  return { taskId: `${instanceId}._app.1`, instanceId };
}
