/**
 * The provider contract (Traefik `pkg/provider/provider.go`): a provider
 * watches a source and emits **whole** dynamic configurations. It never
 * patches; the watcher diffs, merges and builds.
 *
 * @module
 */
import type { DynamicConfig } from "../config/dynamic.ts";

/** Something a provider skipped or wants a user to see. */
export interface Diagnostic {
  readonly severity: "error" | "warning" | "info";
  /** What to do about it, in words a user can act on. */
  readonly message: string;
  /** Marathon app id, when about an app. */
  readonly appId?: string;
  /** Marathon task id, when about a task. */
  readonly taskId?: string;
  /** Router, service or middleware name (unqualified), when about one. */
  readonly item?: string;
  /** File and position (`dynamic.yaml:12:5`), when about a file. */
  readonly location?: string;
}

/** One configuration from one provider. */
export interface ConfigMessage {
  /** Provider name; qualifies names as `name@provider`. */
  readonly provider: string;
  /** The whole configuration this provider wants live now. */
  readonly config: DynamicConfig;
  /** What the provider skipped while building it (shown in `/api/rawdata`). */
  readonly diagnostics?: readonly Diagnostic[];
  /**
   * Routers (unqualified names) whose rule came from a provider's default
   * rule: Pacer guards them against routing a request to themselves
   * (Traefik's `X-Traefik-Router` recursion check, answered with 400).
   */
  readonly recursionGuard?: readonly string[];
  /**
   * Removes servers that must stop receiving traffic now (a task left
   * `TASK_RUNNING`): skips the throttle's wait. Latest still wins.
   */
  readonly urgent?: boolean;
}

/** Emits a configuration to the watcher. */
export type Emit = (message: ConfigMessage) => void;

/** A source of dynamic configuration. */
export interface Provider {
  /** Unique name: `file`, `marathon`, ... */
  readonly name: string;
  /**
   * Watches the source and calls `emit` with each new whole configuration,
   * until `signal` aborts. Resolves once stopped. Must not throw for source
   * errors (log them, keep the last configuration, retry); a rejection is a
   * bug and is logged by the watcher.
   */
  run(emit: Emit, signal: AbortSignal): Promise<void>;
}
