/**
 * The v3 rule syntax: Traefik v3's `pkg/muxer/http/matcher.go`.
 *
 * Every matcher takes one value, except `Header`/`HeaderRegexp` (name,
 * value) and `Query`/`QueryRegexp` (key, or key and value). Regexps are Go
 * regexps matched anywhere in the value (anchor them with `^...$`); v2-style
 * `{name:regexp}` templates are plain regexp text here.
 *
 * @module
 */
import {
  clientIPLeaf,
  headerLeaf,
  hostLeaf,
  type MatcherSpec,
  regexpArg,
  requireASCII,
  requireSlash,
} from "./_matcher.ts";

const exactly = (n: number, what: string) => (count: number): string | undefined =>
  count === n ? undefined : `exactly ${n} argument${n === 1 ? "" : "s"} (${what})`;

const oneOrTwo = (what: string) => (count: number): string | undefined =>
  count === 1 || count === 2 ? undefined : `1 or 2 arguments (${what})`;

/** The v3 matchers, by canonical name. */
export const MATCHERS_V3: readonly MatcherSpec[] = [
  {
    name: "ClientIP",
    arity: exactly(1, "an IP or a CIDR"),
    build: (args, _call, fail) => clientIPLeaf(args, "ClientIP", fail),
  },
  {
    name: "Method",
    arity: exactly(1, "an HTTP method"),
    build(args) {
      // The rule is upper-cased, the request method is compared as sent.
      const method = args[0]!.value.toUpperCase();
      return { test: (ctx) => ctx.req.method === method };
    },
  },
  {
    name: "Host",
    arity: exactly(1, "a host name"),
    build(args, _call, fail) {
      requireASCII(args, "Host", fail);
      return hostLeaf([args[0]!.value.toLowerCase()]);
    },
  },
  {
    name: "HostRegexp",
    arity: exactly(1, "a regular expression"),
    build(args, _call, fail) {
      requireASCII(args, "HostRegexp", fail);
      const re = regexpArg(args[0]!, "HostRegexp", fail);
      return { test: (ctx) => re.test(ctx.host) };
    },
  },
  {
    name: "Path",
    arity: exactly(1, "a path"),
    build(args, _call, fail) {
      requireSlash(args[0]!, "Path", fail);
      const path = args[0]!.value;
      return { test: (ctx) => ctx.path === path, hints: { exact: [path] } };
    },
  },
  {
    name: "PathPrefix",
    arity: exactly(1, "a path prefix"),
    build(args, _call, fail) {
      requireSlash(args[0]!, "PathPrefix", fail);
      const prefix = args[0]!.value;
      return { test: (ctx) => ctx.path.startsWith(prefix), hints: { prefixes: [prefix] } };
    },
  },
  {
    name: "PathRegexp",
    arity: exactly(1, "a regular expression"),
    build(args, _call, fail) {
      const re = regexpArg(args[0]!, "PathRegexp", fail);
      return { test: (ctx) => re.test(ctx.path) };
    },
  },
  {
    name: "Header",
    arity: exactly(2, "a header name and a value"),
    build(args) {
      const value = args[1]!.value;
      return { test: headerLeaf(args[0]!.value, (v) => v === value) };
    },
  },
  {
    name: "HeaderRegexp",
    arity: exactly(2, "a header name and a regular expression"),
    build(args, _call, fail) {
      const re = regexpArg(args[1]!, "HeaderRegexp", fail);
      return { test: headerLeaf(args[0]!.value, (v) => re.test(v)) };
    },
  },
  {
    name: "Query",
    arity: oneOrTwo("a key, and optionally a value"),
    build(args) {
      // Without a value, the key must be present with an empty value (`?mobile`).
      const key = args[0]!.value;
      const value = args[1]?.value ?? "";
      return { test: (ctx) => ctx.req.query.getAll(key).includes(value) };
    },
  },
  {
    name: "QueryRegexp",
    arity: oneOrTwo("a key, and optionally a regular expression"),
    build(args, _call, fail) {
      const key = args[0]!.value;
      if (args.length === 1) return { test: (ctx) => ctx.req.query.getAll(key).includes("") };
      const re = regexpArg(args[1]!, "QueryRegexp", fail);
      return { test: (ctx) => ctx.req.query.getAll(key).some((v) => re.test(v)) };
    },
  },
];
