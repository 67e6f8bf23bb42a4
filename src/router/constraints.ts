/**
 * What a whole rule requires of a request, for the router index.
 *
 * A rule's leaves carry hints ("the host is one of these", "the path equals
 * or starts with one of these"). Combining them through `&&`, `||` and `!`
 * gives necessary conditions for the rule to match: a request that fails them
 * cannot match, so the index never needs to try the rule for it. Negations
 * are pushed down to the leaves first (De Morgan, as Traefik's rule tree
 * does), and a negated leaf requires nothing.
 *
 * @module
 */
import type { LeafHints } from "./_matcher.ts";

/** The structure of a compiled rule, with each leaf's hints. */
export type Shape =
  | { readonly kind: "leaf"; readonly hints: LeafHints | undefined }
  | { readonly kind: "not"; readonly part: Shape }
  | { readonly kind: "and" | "or"; readonly parts: readonly Shape[] };

/** Path requirement: the routing path equals one of `exact` or starts with one of `prefixes`. */
export interface PathConstraint {
  readonly exact: ReadonlySet<string>;
  readonly prefixes: ReadonlySet<string>;
}

/**
 * Necessary conditions for a rule to match; an absent field requires nothing.
 * An empty `hosts` set means the rule can never match.
 */
export interface Constraint {
  readonly hosts?: ReadonlySet<string>;
  readonly paths?: PathConstraint;
}

/**
 * Computes the conditions a rule's shape puts on matching requests.
 *
 * @param shape The rule's shape.
 * @returns Its constraint.
 */
export function constraintOf(shape: Shape): Constraint {
  return analyze(shape, false);
}

function analyze(shape: Shape, negated: boolean): Constraint {
  switch (shape.kind) {
    case "leaf":
      return negated || shape.hints === undefined ? {} : fromHints(shape.hints);
    case "not":
      return analyze(shape.part, !negated);
    default: {
      const parts = shape.parts.map((p) => analyze(p, negated));
      // !(a && b) == !a || !b and !(a || b) == !a && !b.
      const conjunction = (shape.kind === "and") !== negated;
      return conjunction ? both(parts) : either(parts);
    }
  }
}

function fromHints(hints: LeafHints): Constraint {
  const c: { hosts?: ReadonlySet<string>; paths?: PathConstraint } = {};
  if (hints.hosts !== undefined) c.hosts = new Set(hints.hosts);
  if (hints.exact !== undefined || hints.prefixes !== undefined) {
    c.paths = { exact: new Set(hints.exact ?? []), prefixes: new Set(hints.prefixes ?? []) };
  }
  return c;
}

/** All parts must hold: intersect the hosts, keep the most selective path condition. */
function both(parts: readonly Constraint[]): Constraint {
  let hosts: Set<string> | undefined;
  let paths: PathConstraint | undefined;
  for (const part of parts) {
    if (part.hosts !== undefined) {
      hosts = hosts === undefined
        ? new Set(part.hosts)
        : new Set([...hosts].filter((h) => part.hosts!.has(h)));
    }
    if (
      part.paths !== undefined &&
      (paths === undefined || selectivity(part.paths) > selectivity(paths))
    ) {
      paths = part.paths;
    }
  }
  const c: { hosts?: ReadonlySet<string>; paths?: PathConstraint } = {};
  if (hosts !== undefined) c.hosts = hosts;
  if (paths !== undefined) c.paths = paths;
  return c;
}

/** One part must hold: a condition survives only if every part has one. */
function either(parts: readonly Constraint[]): Constraint {
  const c: { hosts?: ReadonlySet<string>; paths?: PathConstraint } = {};
  if (parts.every((p) => p.hosts !== undefined)) {
    c.hosts = new Set(parts.flatMap((p) => [...p.hosts!]));
  }
  if (parts.every((p) => p.paths !== undefined)) {
    c.paths = {
      exact: new Set(parts.flatMap((p) => [...p.paths!.exact])),
      prefixes: new Set(parts.flatMap((p) => [...p.paths!.prefixes])),
    };
  }
  return c;
}

/** Exact paths beat prefixes; among prefixes, the shortest one decides. */
function selectivity(p: PathConstraint): number {
  if (p.prefixes.size === 0) return Number.MAX_SAFE_INTEGER;
  let shortest = Infinity;
  for (const prefix of p.prefixes) shortest = Math.min(shortest, prefix.length);
  return shortest;
}
