/**
 * The access- and traffic-control middlewares of Traefik's HTTP set:
 * authentication (basicAuth, digestAuth, forwardAuth), client and request filtering
 * (ipAllowList and its v2 name ipWhiteList, encodedCharacters), and load
 * protection (rateLimit, inFlightReq, circuitBreaker). `builtins.ts`
 * registers them.
 *
 * ipWhiteList is its own definition rather than an alias of ipAllowList
 * because its options differ (no `rejectStatusCode`).
 *
 * @module
 */
import type { PluginDefinition } from "../plugin/plugin.ts";
import basicAuth from "./basic_auth/mod.ts";
import circuitBreaker from "./circuit_breaker/mod.ts";
import digestAuth from "./digest_auth/mod.ts";
import encodedCharacters from "./encoded_characters/mod.ts";
import forwardAuth from "./forward_auth/mod.ts";
import inFlightReq from "./in_flight_req/mod.ts";
import ipAllowList from "./ip_allow_list/mod.ts";
import ipWhiteList from "./ip_white_list/mod.ts";
import rateLimit from "./rate_limit/mod.ts";

/** The guarding middlewares, each with the other names it answers to. */
// deno-lint-ignore no-explicit-any
export const guardMiddlewares: { definition: PluginDefinition<any>; aliases?: string[] }[] = [
  { definition: basicAuth },
  { definition: digestAuth },
  { definition: forwardAuth },
  { definition: ipAllowList },
  { definition: ipWhiteList },
  { definition: rateLimit },
  { definition: inFlightReq },
  { definition: circuitBreaker },
  { definition: encodedCharacters },
];
