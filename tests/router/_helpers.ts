/**
 * Request builders for the router tests.
 *
 * @module
 */
import { compileRule, requestFacts } from "../../src/router/mod.ts";
import type { RequestFacts, RuleSyntax } from "../../src/router/mod.ts";

/** Options of {@linkcode fromURL}. */
export interface RequestOptions {
  readonly method?: string;
  readonly headers?: Record<string, string | readonly string[]>;
  readonly clientIP?: string;
}

function headersOf(init: RequestOptions["headers"]): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(init ?? {})) {
    // Several values become several header lines, as a client sends them.
    for (const v of typeof value === "string" ? [value] : value) headers.append(name, v);
  }
  return headers;
}

/**
 * Facts of a request to `url`, built the way the engine builds them.
 *
 * @param url An absolute URL.
 * @param options Method, headers and client IP.
 * @returns The facts.
 */
export function fromURL(url: string, options: RequestOptions = {}): RequestFacts {
  const request = new Request(url, {
    method: options.method ?? "GET",
    headers: headersOf(options.headers),
  });
  return requestFacts(request, options.clientIP ?? "192.0.2.1");
}

/**
 * Facts given field by field, for inputs a `URL` would normalize away (a
 * non-punycode host, an invalid method case...).
 *
 * @param init Fields; the rest default to a GET of `/` on `example.com`.
 * @returns The facts.
 */
export function facts(
  init: Partial<Omit<RequestFacts, "headers" | "query">> & {
    headers?: RequestOptions["headers"];
    query?: string;
  } = {},
): RequestFacts {
  return {
    host: init.host ?? "example.com",
    path: init.path ?? "/",
    method: init.method ?? "GET",
    headers: headersOf(init.headers),
    query: new URLSearchParams(init.query ?? ""),
    clientIP: init.clientIP ?? "192.0.2.1",
  };
}

/** A row of a Traefik matcher test table. */
export interface MatcherCase {
  readonly desc: string;
  readonly rule: string;
  /** The rule must be rejected. */
  readonly error?: boolean;
  /** Request label to expected match. */
  readonly expected?: Readonly<Record<string, boolean>>;
}

/**
 * Runs a Traefik-style table: each rule must compile (or be rejected), and
 * each request must match or not.
 *
 * @param cases The table.
 * @param syntax The rule syntax.
 * @param request Builds the request for an `expected` key.
 * @returns Failures, one line each (empty when all rows pass).
 */
export function runTable(
  cases: readonly MatcherCase[],
  syntax: RuleSyntax,
  request: (key: string) => RequestFacts,
): string[] {
  const failures: string[] = [];
  for (const c of cases) {
    let rule;
    try {
      rule = compileRule(c.rule, syntax);
    } catch (error) {
      if (!c.error) failures.push(`${c.desc}: ${c.rule} rejected: ${(error as Error).message}`);
      continue;
    }
    if (c.error) {
      failures.push(`${c.desc}: ${c.rule} was accepted, Traefik rejects it`);
      continue;
    }
    for (const [key, want] of Object.entries(c.expected ?? {})) {
      const got = rule.match(request(key));
      if (got !== want) failures.push(`${c.desc}: ${c.rule} on ${key}: got ${got}, want ${want}`);
    }
  }
  return failures;
}
