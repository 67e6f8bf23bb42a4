/**
 * Bounded waits for tests that must fail, not hang, when something never
 * happens.
 *
 * @module
 */

/**
 * `promise`'s value, or `late` when it takes longer than `ms`. The timer is
 * cleared either way, so the test's timer sanitizer stays quiet.
 */
export async function within<T, U>(promise: Promise<T>, ms: number, late: U): Promise<T | U> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<U>((resolve) => timer = setTimeout(() => resolve(late), ms)),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
