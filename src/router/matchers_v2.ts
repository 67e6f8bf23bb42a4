/**
 * The v2 rule syntax: Traefik v3's `pkg/muxer/http/matcher_v2.go`, which
 * keeps Traefik v2's matchers (on gorilla/mux) for routers with
 * `ruleSyntax: v2`. Marathon labels are written in it.
 *
 * Matchers take one or more values and match if any value does, except
 * `Headers`/`HeadersRegexp` (name/value pairs, all must match) and `Query`
 * (`key=value` items, all must match). `Path`, `PathPrefix`, `HostRegexp` and
 * `Query` values are mux templates with `{name}` / `{name:regexp}` variables.
 *
 * @module
 */
import {
  type BuiltLeaf,
  clientIPLeaf,
  type Fail,
  headerLeaf,
  hostLeaf,
  type Leaf,
  type MatcherSpec,
  regexpArg,
  requireASCII,
  requireSlash,
} from "./_matcher.ts";
import { compileTemplate, type Template, type TemplateKind } from "./mux_template.ts";
import type { Argument } from "./parser.ts";
import type { MatchContext } from "./request.ts";

const atLeastOne = (): string | undefined => undefined;

const pairs = (count: number): string | undefined =>
  count % 2 === 0 ? undefined : "name/value pairs (an even number of arguments)";

function template(arg: Argument, kind: TemplateKind, matcher: string, fail: Fail): Template {
  try {
    return compileTemplate(arg.value, kind);
  } catch (error) {
    return fail(`invalid template for ${matcher}`, arg.column, (error as Error).message);
  }
}

function any(tests: readonly Leaf[]): Leaf {
  if (tests.length === 1) return tests[0]!;
  return (ctx) => {
    for (const test of tests) if (test(ctx)) return true;
    return false;
  };
}

function all(tests: readonly Leaf[]): Leaf {
  if (tests.length === 1) return tests[0]!;
  return (ctx) => {
    for (const test of tests) if (!test(ctx)) return false;
    return true;
  };
}

/** Path or path prefix templates; hinted by their literal part. */
function pathLeaf(args: readonly Argument[], kind: "path" | "prefix", fail: Fail): BuiltLeaf {
  const matcher = kind === "path" ? "Path" : "PathPrefix";
  const exact: string[] = [];
  const prefixes: string[] = [];
  const tests: Leaf[] = args.map((arg) => {
    requireSlash(arg, matcher, fail);
    const t = template(arg, kind, matcher, fail);
    const literal = t.literal;
    if (literal === undefined) {
      // Any match starts with the text before the first variable.
      prefixes.push(t.leadingLiteral);
      const re = t.regexp;
      return (ctx) => re.test(ctx.path);
    }
    // Without variables the anchored regexp is a plain comparison.
    if (kind === "path") {
      exact.push(literal);
      return (ctx) => ctx.path === literal;
    }
    prefixes.push(literal);
    return (ctx) => ctx.path.startsWith(literal);
  });
  return { test: any(tests), hints: { exact, prefixes } };
}

/**
 * Name/value pairs as mux's `mapFromPairs`: a map keyed by the name as
 * written, so a repeated name keeps its last value.
 */
function headerPairs(args: readonly Argument[]): Map<string, Argument> {
  const map = new Map<string, Argument>();
  for (let i = 0; i < args.length; i += 2) map.set(args[i]!.value, args[i + 1]!);
  return map;
}

function host(args: readonly Argument[], matcher: string, fail: Fail): BuiltLeaf {
  requireASCII(args, matcher, fail);
  return hostLeaf(args.map((a) => a.value.toLowerCase()));
}

/** The v2 matchers, by canonical name. */
export const MATCHERS_V2: readonly MatcherSpec[] = [
  { name: "Host", arity: atLeastOne, build: (args, _call, fail) => host(args, "Host", fail) },
  {
    name: "HostHeader",
    arity: atLeastOne,
    build: (args, _call, fail) => host(args, "HostHeader", fail),
  },
  {
    name: "HostRegexp",
    arity: atLeastOne,
    build(args, _call, fail) {
      requireASCII(args, "HostRegexp", fail);
      const tests = args.map((arg) => {
        const re = template(arg, "host", "HostRegexp", fail).regexp;
        return (ctx: MatchContext) => re.test(ctx.host);
      });
      return { test: any(tests) };
    },
  },
  {
    name: "ClientIP",
    arity: atLeastOne,
    build: (args, _call, fail) => clientIPLeaf(args, "ClientIP", fail),
  },
  { name: "Path", arity: atLeastOne, build: (args, _call, fail) => pathLeaf(args, "path", fail) },
  {
    name: "PathPrefix",
    arity: atLeastOne,
    build: (args, _call, fail) => pathLeaf(args, "prefix", fail),
  },
  {
    name: "Method",
    arity: atLeastOne,
    build(args) {
      const methods = new Set(args.map((a) => a.value.toUpperCase()));
      return { test: (ctx) => methods.has(ctx.req.method) };
    },
  },
  {
    name: "Headers",
    arity: pairs,
    build(args) {
      const tests = [...headerPairs(args)].map(([name, value]) =>
        headerLeaf(name, (v) => v === value.value)
      );
      return { test: all(tests) };
    },
  },
  {
    name: "HeadersRegexp",
    arity: pairs,
    build(args, _call, fail) {
      const tests = [...headerPairs(args)].map(([name, value]) => {
        const re = regexpArg(value, "HeadersRegexp", fail);
        return headerLeaf(name, (v) => re.test(v));
      });
      return { test: all(tests) };
    },
  },
  {
    name: "Query",
    arity: atLeastOne,
    build(args, call, fail) {
      // Each argument is split at its first "=" and the pieces paired up, as
      // Traefik does before mux's Queries: `Query(`a`, `b`)` means `a=b`.
      const pieces: Argument[] = [];
      for (const arg of args) {
        const eq = arg.value.indexOf("=");
        if (eq < 0) pieces.push(arg);
        else {
          pieces.push({ value: arg.value.slice(0, eq), column: arg.column });
          pieces.push({ value: arg.value.slice(eq + 1), column: arg.column });
        }
      }
      if (pieces.length % 2 !== 0) {
        fail("Query needs key=value arguments", call.column, `got ${describeArgs(args)}`);
      }
      const seen = new Set<string>();
      const tests: Leaf[] = [];
      for (let i = 0; i < pieces.length; i += 2) {
        const key = pieces[i]!.value;
        const tpl = `${key}=${pieces[i + 1]!.value}`;
        const column = pieces[i]!.column;
        const t = template({ value: tpl, column }, "query", "Query", fail);
        for (const name of t.variables) {
          // mux refuses the same variable in two query templates of a route.
          if (seen.has(name)) fail("duplicate variable in Query", column, `"${name}"`);
          seen.add(name);
        }
        const re = t.regexp;
        // mux tests only the first value of the key, as `key=value`.
        tests.push((ctx) => {
          const value = ctx.req.query.get(key);
          return value !== null && re.test(`${key}=${value}`);
        });
      }
      return { test: all(tests) };
    },
  },
];

function describeArgs(args: readonly Argument[]): string {
  return args.map((a) => JSON.stringify(a.value)).join(", ");
}
