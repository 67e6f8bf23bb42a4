/**
 * Per-provider throttling (Traefik `pkg/provider/aggregator`): the first
 * message goes through at once, then at most one per interval; messages
 * arriving meanwhile overwrite each other, so the latest wins. `urgent`
 * messages (servers that must leave rotation now) go through at once.
 *
 * @module
 */
import type { ConfigMessage } from "./provider.ts";

/** A throttled sink: push messages in; `close()` drops any pending one. */
export interface Throttle {
  push(message: ConfigMessage): void;
  close(): void;
}

/**
 * Creates a throttle forwarding to `forward` at most once per `intervalMs`.
 * @param forward Receives the messages that go through.
 * @param intervalMs Minimum time between two forwarded messages; 0 = no throttling.
 */
export function createThrottle(
  forward: (message: ConfigMessage) => void,
  intervalMs: number,
): Throttle {
  let pending: ConfigMessage | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;

  function pass(message: ConfigMessage): void {
    forward(message);
    if (intervalMs <= 0) return;
    timer = setTimeout(() => {
      timer = undefined;
      const next = pending;
      pending = undefined;
      if (next && !closed) pass(next);
    }, intervalMs);
  }

  return {
    push(message) {
      if (closed) return;
      if (timer === undefined) return pass(message);
      if (message.urgent) {
        clearTimeout(timer);
        timer = undefined;
        pending = undefined;
        return pass(message);
      }
      pending = message;
    },
    close() {
      closed = true;
      pending = undefined;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
