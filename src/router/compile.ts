/**
 * Compiling a rule: parse, resolve matcher names for the rule's syntax, check
 * arguments as Traefik does, and build a matching function plus the
 * constraint the index uses.
 *
 * @module
 */
import type { BuiltLeaf, Fail, Leaf, MatcherSpec } from "./_matcher.ts";
import { type Constraint, constraintOf, type Shape } from "./constraints.ts";
import { RuleSyntaxError } from "./errors.ts";
import { MATCHERS_V2 } from "./matchers_v2.ts";
import { MATCHERS_V3 } from "./matchers_v3.ts";
import { type CallNode, parseRule, type RuleNode } from "./parser.ts";
import { MatchContext } from "./request.ts";
import type { CompiledRule, RequestFacts, RuleSyntax } from "./types.ts";

interface SyntaxTable {
  readonly syntax: RuleSyntax;
  /** Accepted spellings: each name as written, lower, UPPER and Title case (Traefik's parser). */
  readonly byName: ReadonlyMap<string, MatcherSpec>;
  readonly canonical: readonly string[];
}

function table(syntax: RuleSyntax, specs: readonly MatcherSpec[]): SyntaxTable {
  const byName = new Map<string, MatcherSpec>();
  for (const spec of specs) {
    const lower = spec.name.toLowerCase();
    for (
      const v of [
        spec.name,
        lower,
        spec.name.toUpperCase(),
        lower[0]!.toUpperCase() + lower.slice(1),
      ]
    ) {
      byName.set(v, spec);
    }
  }
  return { syntax, byName, canonical: specs.map((s) => s.name).sort() };
}

const TABLES: Record<RuleSyntax, SyntaxTable> = {
  v3: table("v3", MATCHERS_V3),
  v2: table("v2", MATCHERS_V2),
};

// What to write instead of a matcher of the other syntax.
const EQUIVALENTS: Record<RuleSyntax, Readonly<Record<string, string>>> = {
  v3: {
    Headers: "Header",
    HeadersRegexp: "HeaderRegexp",
    HostHeader: "Host",
  },
  v2: {
    Header: "Headers",
    HeaderRegexp: "HeadersRegexp",
    PathRegexp: "Path or PathPrefix with {name:regexp} variables",
    QueryRegexp: "Query with {name:regexp} variables",
  },
};

/** A compiled rule. The fields beyond {@linkcode CompiledRule} serve the index. */
export class Rule implements CompiledRule {
  readonly rule: string;
  readonly syntax: RuleSyntax;
  /** Evaluates the rule against a prepared context. Never throws. */
  readonly test: Leaf;
  /** Necessary conditions on matching requests. */
  readonly constraint: Constraint;

  /**
   * @param rule The rule as written.
   * @param syntax Its syntax.
   * @param test The compiled matching function.
   * @param constraint What matching requests must satisfy.
   */
  constructor(rule: string, syntax: RuleSyntax, test: Leaf, constraint: Constraint) {
    this.rule = rule;
    this.syntax = syntax;
    this.test = test;
    this.constraint = constraint;
  }

  /**
   * Tells whether the request matches the rule.
   *
   * @param req The request.
   * @returns `true` on a match.
   */
  match(req: RequestFacts): boolean {
    return this.test(scratch.reset(req));
  }
}

// Matching is synchronous and never re-entered, so one context serves all
// direct `Rule.match` calls without allocating.
const scratch = new MatchContext();

/**
 * Compiles a Traefik rule.
 *
 * @param rule The rule, e.g. ``Host(`example.com`) && PathPrefix(`/api`)``.
 * @param syntax `"v3"` (default) or `"v2"`, the router's `ruleSyntax`.
 * @returns The compiled rule.
 * @throws {RuleSyntaxError} If Traefik would reject the rule: bad syntax, an
 *   unknown matcher (or one of the other syntax), a missing, empty or extra
 *   argument, an invalid regexp, template, path, host or IP.
 * @throws {TypeError} If `syntax` is neither `"v3"` nor `"v2"`.
 */
export function compileRule(rule: string, syntax: RuleSyntax = "v3"): CompiledRule {
  // Own keys only: "constructor" or "toString" must not find Object's members.
  if (!Object.hasOwn(TABLES, syntax)) {
    throw new TypeError(
      `Cannot compile rule as 'syntax' must be "v3" or "v2": current value is ${
        JSON.stringify(syntax)
      }`,
    );
  }
  const tbl = TABLES[syntax];
  const ast = parseRule(rule);
  const fail: Fail = (reason, column, detail) => {
    throw new RuleSyntaxError(
      reason,
      detail === undefined ? { rule, column } : { rule, column, detail },
    );
  };
  // Traefik resolves every matcher name while parsing, before checking any
  // argument: report an unknown name first, wherever it is.
  const calls = collectCalls(ast);
  for (const call of calls) resolve(call, tbl, fail);
  const built = build(ast, tbl, fail);
  return new Rule(rule, syntax, built.test, constraintOf(built.shape));
}

/**
 * The default priority of a rule: its length in UTF-8 bytes, as Traefik's
 * `GetRulePriority` (Go's `len`). A router without priority, or with
 * priority 0, gets it.
 *
 * @param rule The rule as written.
 * @returns Its length in bytes.
 */
export function defaultPriority(rule: string): number {
  let bytes = 0;
  for (let i = 0; i < rule.length; i++) {
    const c = rule.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < rule.length) {
      // A surrogate pair is one 4-byte character.
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function collectCalls(root: RuleNode): CallNode[] {
  const calls: CallNode[] = [];
  const stack: RuleNode[] = [root];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node.kind === "call") calls.push(node);
    else if (node.kind === "not") stack.push(node.operand);
    else stack.push(node.right, node.left);
  }
  return calls.sort((a, b) => a.column - b.column);
}

function resolve(call: CallNode, tbl: SyntaxTable, fail: Fail): MatcherSpec {
  const spec = tbl.byName.get(call.name);
  if (spec !== undefined) return spec;
  const lower = call.name.toLowerCase();
  const sameLetters = [...tbl.byName.values()].find((s) => s.name.toLowerCase() === lower);
  if (sameLetters !== undefined) {
    const n = sameLetters.name;
    return fail(
      `unknown matcher '${call.name}'`,
      call.column,
      `names are case-sensitive, write ${n}, ${n.toLowerCase()} or ${n.toUpperCase()}`,
    );
  }
  const other: RuleSyntax = tbl.syntax === "v3" ? "v2" : "v3";
  const otherSpec = TABLES[other].byName.get(call.name);
  if (otherSpec !== undefined) {
    const instead = EQUIVALENTS[tbl.syntax][otherSpec.name];
    const advice = instead === undefined ? "" : `; in ${tbl.syntax} use ${instead}`;
    return fail(
      `unknown matcher '${call.name}' for ruleSyntax ${tbl.syntax}`,
      call.column,
      `it is a ${other} matcher${advice}`,
    );
  }
  return fail(
    `unknown matcher '${call.name}'`,
    call.column,
    `expected one of ${tbl.canonical.join(", ")}`,
  );
}

interface Built {
  readonly test: Leaf;
  readonly shape: Shape;
}

function build(node: RuleNode, tbl: SyntaxTable, fail: Fail): Built {
  switch (node.kind) {
    case "call":
      return buildCall(node, tbl, fail);
    case "not": {
      const inner = build(node.operand, tbl, fail);
      const t = inner.test;
      return { test: (ctx) => !t(ctx), shape: { kind: "not", part: inner.shape } };
    }
    default: {
      // Flatten chains of the same operator (left-deep in the tree) so deep
      // `a && b && c ...` rules neither recurse deeply nor nest closures.
      const operands: RuleNode[] = [];
      let cursor: RuleNode = node;
      while (cursor.kind === node.kind) {
        operands.push(cursor.right);
        cursor = cursor.left;
      }
      operands.push(cursor);
      operands.reverse();
      const parts = operands.map((o) => build(o, tbl, fail));
      const tests = parts.map((p) => p.test);
      const shape: Shape = { kind: node.kind, parts: parts.map((p) => p.shape) };
      return { test: node.kind === "and" ? every(tests) : some(tests), shape };
    }
  }
}

function every(tests: readonly Leaf[]): Leaf {
  if (tests.length === 2) {
    const [a, b] = tests as [Leaf, Leaf];
    return (ctx) => a(ctx) && b(ctx);
  }
  return (ctx) => {
    for (const t of tests) if (!t(ctx)) return false;
    return true;
  };
}

function some(tests: readonly Leaf[]): Leaf {
  if (tests.length === 2) {
    const [a, b] = tests as [Leaf, Leaf];
    return (ctx) => a(ctx) || b(ctx);
  }
  return (ctx) => {
    for (const t of tests) if (t(ctx)) return true;
    return false;
  };
}

function buildCall(call: CallNode, tbl: SyntaxTable, fail: Fail): Built {
  const spec = resolve(call, tbl, fail);
  // Traefik's CheckRule: at least one argument, none empty. Then the
  // matcher's own argument count.
  if (call.args.length === 0) {
    fail(`${spec.name} needs ${spec.arity(0) ?? "at least 1 argument"}, got none`, call.column);
  }
  const empty = call.args.find((a) => a.value === "");
  if (empty !== undefined) fail(`empty argument to ${spec.name}`, empty.column);
  const expected = spec.arity(call.args.length);
  if (expected !== undefined) {
    fail(`${spec.name} takes ${expected}, got ${call.args.length}`, call.column);
  }
  const leaf: BuiltLeaf = spec.build(call.args, call, fail);
  return { test: leaf.test, shape: { kind: "leaf", hints: leaf.hints } };
}
