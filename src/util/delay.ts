/**
 * An abortable wait that never rejects: backoffs, smoothing delays and
 * probe intervals stop waiting when their request or generation ends, and
 * leave no timer or listener behind.
 *
 * Built on `setTimeout` (looked up at each call), so tests drive it with
 * fake timers.
 *
 * @module
 */

/**
 * Waits `ms` milliseconds, or less if `signal` aborts.
 *
 * Unlike std's `delay`, an abort resolves the promise instead of rejecting
 * it: callers check their own signal afterwards. Either way the timer and
 * the abort listener are removed.
 *
 * @param ms How long to wait (ms).
 * @param signal Ends the wait early.
 * @returns `true` if the time elapsed, `false` if `signal` aborted first
 *   (at once if it already had).
 */
export function delay(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
