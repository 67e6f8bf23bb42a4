/**
 * What the matcher tables of both syntaxes are made of, and the helpers they
 * share. Private to `src/router/`.
 *
 * @module
 */
import { compileGoRegexp, type GoRegexp } from "../go/regexp.ts";
import { IPChecker } from "../net/ip.ts";
import type { Argument, CallNode } from "./parser.ts";
import type { MatchContext } from "./request.ts";

/** A compiled matcher: never throws. */
export type Leaf = (ctx: MatchContext) => boolean;

/**
 * Necessary conditions a leaf puts on requests it accepts, for the index:
 * "the normalized host is one of `hosts`", "the routing path is one of
 * `exact` or starts with one of `prefixes`".
 */
export interface LeafHints {
  readonly hosts?: readonly string[];
  readonly exact?: readonly string[];
  readonly prefixes?: readonly string[];
}

/** A leaf and its hints. */
export interface BuiltLeaf {
  readonly test: Leaf;
  readonly hints?: LeafHints;
}

/** Reports a compile error located at `column`. */
export type Fail = (reason: string, column: number, detail?: string) => never;

/** One matcher of a syntax. */
export interface MatcherSpec {
  /** Canonical name (`PathPrefix`). */
  readonly name: string;
  /**
   * Checks the number of arguments (after Traefik's "no empty argument" check).
   *
   * @returns `undefined` if fine, else what was expected (`exactly 1 argument`).
   */
  arity(count: number): string | undefined;
  build(args: readonly Argument[], call: CallNode, fail: Fail): BuiltLeaf;
}

/**
 * Reports whether a string is ASCII (Traefik's `IsASCII`).
 *
 * @param s The string.
 * @returns `true` if every character is below U+0080.
 */
export function isASCII(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= 0x80) return false;
  return true;
}

/**
 * The request hosts a host rule value accepts (Traefik's `host` matcher):
 * itself, with a trailing dot added, and without its trailing dot.
 *
 * @param host The lower-cased rule value.
 * @returns Every accepted normalized request host.
 */
export function hostKeys(host: string): string[] {
  const keys = [host, host + "."];
  if (host.endsWith(".") && host.length > 1) keys.push(host.slice(0, -1));
  return keys;
}

/**
 * Builds a host leaf over several rule values (any may match).
 *
 * @param hosts Lower-cased, ASCII rule values.
 * @returns The leaf, hinted with its exact hosts.
 */
export function hostLeaf(hosts: readonly string[]): BuiltLeaf {
  const keys = hosts.flatMap(hostKeys);
  const accepted = new Set(keys);
  return { test: (ctx) => accepted.has(ctx.host), hints: { hosts: keys } };
}

/**
 * Fails unless every value is ASCII (Traefik rejects non-ASCII hosts).
 *
 * @param args The matcher's arguments.
 * @param matcher The matcher name, for the message.
 * @param fail Reports the error.
 * @throws {RuleSyntaxError} Through `fail`, at the first non-ASCII argument.
 */
export function requireASCII(args: readonly Argument[], matcher: string, fail: Fail): void {
  for (const arg of args) {
    if (!isASCII(arg.value)) {
      fail(
        `${matcher} needs an ASCII host (write internationalized names in punycode, e.g. xn--9t9h.com)`,
        arg.column,
        `got "${arg.value}"`,
      );
    }
  }
}

/**
 * Builds `ClientIP` (v2 and v3): the peer address is in one of the IPs or
 * CIDRs (Traefik's `ip.Checker`).
 *
 * @param args The IPs and CIDRs.
 * @param matcher The matcher name, for the message.
 * @param fail Reports the error.
 * @returns The leaf.
 * @throws {RuleSyntaxError} Through `fail`, at the first argument that is neither.
 */
export function clientIPLeaf(args: readonly Argument[], matcher: string, fail: Fail): BuiltLeaf {
  for (const arg of args) {
    try {
      new IPChecker([arg.value]);
    } catch (error) {
      fail(`invalid IP address or CIDR for ${matcher}`, arg.column, (error as Error).message);
    }
  }
  const checker = new IPChecker(args.map((a) => a.value));
  return {
    test: (ctx) => {
      const ip = ctx.clientIP;
      return ip !== null && checker.containsIP(ip);
    },
  };
}

/**
 * Fails unless the value starts with `/` (Traefik's path matchers).
 *
 * @param arg The path argument.
 * @param matcher The matcher name, for the message.
 * @param fail Reports the error.
 * @throws {RuleSyntaxError} Through `fail`, if the path is relative.
 */
export function requireSlash(arg: Argument, matcher: string, fail: Fail): void {
  if (!arg.value.startsWith("/")) {
    fail(`${matcher} needs a path starting with '/'`, arg.column, `got "${arg.value}"`);
  }
}

/**
 * Compiles a Go regexp argument, failing at its column.
 *
 * @param arg The pattern argument.
 * @param matcher The matcher name, for the message.
 * @param fail Reports the error.
 * @returns The compiled regexp.
 * @throws {RuleSyntaxError} Through `fail`, with Go's message, if the pattern is invalid.
 */
export function regexpArg(arg: Argument, matcher: string, fail: Fail): GoRegexp {
  try {
    return compileGoRegexp(arg.value);
  } catch (error) {
    return fail(`invalid regular expression for ${matcher}`, arg.column, (error as Error).message);
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Builds a test over the values of one header.
 *
 * Go keeps each header line as its own value; the fetch `Headers` class joins
 * repeated lines with ", ". So the joined value is tested first, then each
 * comma-separated element: ``Header(`X`, `https`)`` matches lines `http` and
 * `https` as in Traefik (it would also match a single line `http, https`,
 * where Traefik would not).
 *
 * @param name The header name; a name that is not an HTTP token never
 *   matches (Traefik accepts it and never matches it; `Headers.get` would throw).
 * @param test The test on one value.
 * @returns The leaf.
 */
export function headerLeaf(name: string, test: (value: string) => boolean): Leaf {
  if (!TOKEN.test(name)) return () => false;
  return (ctx) => {
    const joined = ctx.req.headers.get(name);
    if (joined === null) return false;
    if (test(joined)) return true;
    if (joined.indexOf(",") === -1) return false;
    for (const part of joined.split(",")) {
      if (test(part.trim())) return true;
    }
    return false;
  };
}
