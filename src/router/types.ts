/**
 * Public types of the router: what a request looks like to a rule, what a
 * compiled rule offers, and what an index entry holds.
 *
 * @module
 */

/**
 * Rule syntaxes, per router: Traefik v3's default and v2's (Marathon labels
 * use it). Mirrors `RuleSyntax` in `src/config/dynamic.ts`; a test keeps the
 * two identical.
 */
export type RuleSyntax = "v3" | "v2";

/** The parts of a request that rules look at. Built by {@linkcode requestFacts}. */
export interface RequestFacts {
  /**
   * Host the client asked for: lower-cased, without port or IPv6 brackets
   * (the engine takes it from the request URL, because HTTP/2 has no Host
   * header). Matchers normalize it again if it is not.
   */
  readonly host: string;
  /** URL pathname as received (percent-encoded form). */
  readonly path: string;
  /** Request method as sent (compared case-sensitively, as Traefik). */
  readonly method: string;
  /** Request headers. */
  readonly headers: Headers;
  /** Decoded query parameters. */
  readonly query: URLSearchParams;
  /** Socket peer IP (a `host:port` or `[v6]:port` form loses its port). */
  readonly clientIP: string;
}

/** A rule ready to match requests. Built by {@linkcode compileRule}. */
export interface CompiledRule {
  /** The rule as written. */
  readonly rule: string;
  /** The syntax it was compiled with. */
  readonly syntax: RuleSyntax;
  /**
   * Tells whether the request matches. Never throws.
   *
   * @param req The request.
   * @returns `true` on a match.
   */
  match(req: RequestFacts): boolean;
}

/** One router in a {@linkcode RouterIndex}. */
export interface RouteEntry<T> {
  /** Unique name (`name@provider`); breaks ties between equal priorities. */
  readonly name: string;
  /** The router's compiled rule. */
  readonly rule: CompiledRule;
  /**
   * Higher wins. Unset or `0` means the default: the rule's length in UTF-8
   * bytes ({@linkcode defaultPriority}), as Traefik.
   */
  readonly priority?: number;
  /** What the caller wants back on a match (a handler, a router record...). */
  readonly value: T;
}
