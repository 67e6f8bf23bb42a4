/**
 * The router: Traefik's rule language (v3 and v2 syntax) and fast matching.
 *
 * ```ts
 * import { compileRule, requestFacts, RouterIndex } from "./router/mod.ts";
 *
 * const index = new RouterIndex([
 *   { name: "api@marathon", rule: compileRule("Host(`api.example`)"), value: apiChain },
 *   { name: "legacy@marathon", rule: compileRule("PathPrefix(`/{v:v[12]}`)", "v2"), value: oldChain },
 * ]);
 * const router = index.match(requestFacts(request, remoteIP)); // undefined: 404
 * ```
 *
 * - {@linkcode compileRule} parses and checks a rule exactly as Traefik v3
 *   accepts it for the router's `ruleSyntax`, throwing a located
 *   {@linkcode RuleSyntaxError} otherwise.
 * - {@linkcode RouterIndex} finds the first matching router by priority
 *   ({@linkcode defaultPriority} unless set; ties by name), looking only at
 *   routers whose hosts and paths fit the request.
 * - {@linkcode requestFacts} extracts what rules look at from a `Request`.
 *
 * Matching follows Traefik: hosts compare case-insensitively without port,
 * with or without one trailing dot; paths match the routing path (the URL
 * path with non-reserved percent-escapes decoded); regexps are Go regexps
 * (linear time); `ClientIP` takes IPv4/IPv6 addresses and CIDRs.
 *
 * @module
 */
export { compileRule, defaultPriority } from "./compile.ts";
export { RuleSyntaxError, type RuleSyntaxErrorOptions } from "./errors.ts";
export { RouterIndex } from "./index.ts";
export { normalizeHost, requestFacts, routingPath } from "./request.ts";
export type { CompiledRule, RequestFacts, RouteEntry, RuleSyntax } from "./types.ts";
