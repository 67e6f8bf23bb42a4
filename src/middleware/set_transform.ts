/**
 * The request/response transforming middlewares of Traefik's HTTP set:
 * path rewrites, redirects, headers, compression, content-type detection,
 * buffering and error pages.
 * `builtins.ts` registers them (their names are the same in Traefik v2 and
 * v3, so none needs an alias).
 *
 * @module
 */
import type { PluginDefinition } from "../plugin/plugin.ts";
import addPrefix from "./add_prefix/mod.ts";
import buffering from "./buffering/mod.ts";
import compress from "./compress/mod.ts";
import contentType from "./content_type/mod.ts";
import errors from "./errors/mod.ts";
import headers from "./headers/mod.ts";
import redirectRegex from "./redirect_regex/mod.ts";
import redirectScheme from "./redirect_scheme/mod.ts";
import replacePath from "./replace_path/mod.ts";
import replacePathRegex from "./replace_path_regex/mod.ts";
import stripPrefix from "./strip_prefix/mod.ts";
import stripPrefixRegex from "./strip_prefix_regex/mod.ts";

/** The transforming middlewares, each with the other names it answers to. */
// deno-lint-ignore no-explicit-any
export const transformMiddlewares: { definition: PluginDefinition<any>; aliases?: string[] }[] = [
  { definition: addPrefix },
  { definition: stripPrefix },
  { definition: stripPrefixRegex },
  { definition: replacePath },
  { definition: replacePathRegex },
  { definition: headers },
  { definition: redirectScheme },
  { definition: redirectRegex },
  { definition: compress },
  { definition: contentType },
  { definition: buffering },
  { definition: errors },
];
