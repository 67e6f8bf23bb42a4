/**
 * Turns zod issues into messages a user can act on: `'a.b[0]': message`.
 *
 * @module
 */
import type { z } from "zod";

/** Renders an issue path as `a.b[0].c`. */
export function formatPath(path: readonly PropertyKey[], prefix = ""): string {
  let out = prefix;
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Renders one issue as `'path': message` (or just the message at the root). */
export function formatIssue(issue: z.core.$ZodIssue, prefix = ""): string {
  const path = formatPath(issue.path, prefix);
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    message = `unknown option${issue.keys.length > 1 ? "s" : ""} ${
      issue.keys.map((k) => `'${k}'`).join(", ")
    }`;
  }
  return path ? `'${path}': ${message}` : message;
}

/** Renders all issues, one per line segment joined by `; `. */
export function formatIssues(issues: readonly z.core.$ZodIssue[], prefix = ""): string {
  return issues.map((i) => formatIssue(i, prefix)).join("; ");
}
