/**
 * Traefik's circuit-breaker expression language (vulcand/oxy `cbreaker`,
 * parsed there with vulcand/predicate as a Go expression):
 *
 * ```
 * expr    := and ("||" and)*
 * and     := cmp ("&&" cmp)*
 * cmp     := metric op number | number op metric | "(" expr ")"
 * op      := ">" | ">=" | "<" | "<=" | "==" | "!="
 * metric  := NetworkErrorRatio()
 *          | ResponseCodeRatio(fromA, toA, fromB, toB)   integers, [from, to)
 *          | LatencyAtQuantileMS(quantile)               0 < quantile <= 100
 * ```
 *
 * Differences from oxy, all accepting more: integer and decimal literals are
 * interchangeable (oxy requires `50.0` for the quantile and a decimal to
 * compare a ratio), and the number may stand left of the function.
 *
 * @module
 */

/** The measurements an expression reads. */
export interface Measurements {
  /** Network errors / all requests over the last 10 s (0 without requests). */
  networkErrorRatio(): number;
  /** count(codes in [fromA, toA)) / count(codes in [fromB, toB)) (0 if the latter is 0). */
  responseCodeRatio(fromA: number, toA: number, fromB: number, toB: number): number;
  /** The latency at `quantile` percent, in whole milliseconds (0 without data). */
  latencyAtQuantileMS(quantile: number): number;
}

/** A parsed expression. */
export interface Condition {
  /** Whether the breaker should trip for these measurements. */
  (m: Measurements): boolean;
  /** Whether the expression reads latencies (so they need recording). */
  readonly usesLatency: boolean;
}

type Token =
  | { kind: "num"; text: string; value: number; at: number }
  | { kind: "ident"; text: string; at: number }
  | { kind: "op"; text: string; at: number }
  | { kind: "end"; text: string; at: number };

type Metric = (m: Measurements) => number;
type Node =
  | { kind: "predicate"; fn: (m: Measurements) => boolean; at: number }
  | { kind: "metric"; fn: Metric; name: string; at: number }
  | { kind: "num"; value: number; integer: boolean; at: number };

const NUMBER = /(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const IDENT = /[A-Za-z_][A-Za-z0-9_]*/y;
const OPS = ["&&", "||", "==", "!=", "<=", ">=", "<", ">", "(", ")", ",", "!"];
const COMPARISONS = new Set(["==", "!=", "<", "<=", ">", ">="]);
const FUNCTIONS = ["NetworkErrorRatio", "ResponseCodeRatio", "LatencyAtQuantileMS"];

function fail(message: string, at: number): never {
  throw new SyntaxError(`${message} (at column ${at + 1})`);
}

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < source.length) {
    const ch = source[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    NUMBER.lastIndex = i;
    const num = NUMBER.exec(source);
    if (num && /[\d.]/.test(ch)) {
      tokens.push({ kind: "num", text: num[0], value: Number(num[0]), at: i });
      i += num[0].length;
      continue;
    }
    IDENT.lastIndex = i;
    const ident = IDENT.exec(source);
    if (ident) {
      tokens.push({ kind: "ident", text: ident[0], at: i });
      i += ident[0].length;
      continue;
    }
    const op = OPS.find((o) => source.startsWith(o, i));
    if (!op) fail(`unexpected character '${ch}'`, i);
    tokens.push({ kind: "op", text: op, at: i });
    i += op.length;
  }
  tokens.push({ kind: "end", text: "end of expression", at: source.length });
  return tokens;
}

function compare(op: string, metric: Metric, value: number): (m: Measurements) => boolean {
  switch (op) {
    case ">":
      return (m) => metric(m) > value;
    case ">=":
      return (m) => metric(m) >= value;
    case "<":
      return (m) => metric(m) < value;
    case "<=":
      return (m) => metric(m) <= value;
    case "==":
      return (m) => metric(m) === value;
    default:
      return (m) => metric(m) !== value;
  }
}

const FLIPPED: Record<string, string> = { ">": "<", ">=": "<=", "<": ">", "<=": ">=" };

class Parser {
  #tokens: Token[];
  #pos = 0;
  usesLatency = false;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #take(): Token {
    return this.#tokens[this.#pos++]!;
  }

  #expect(text: string): Token {
    const t = this.#take();
    if (t.text !== text || t.kind === "num") fail(`expected '${text}', found '${t.text}'`, t.at);
    return t;
  }

  parse(): (m: Measurements) => boolean {
    const node = this.#or();
    const rest = this.#peek();
    if (rest.kind !== "end") fail(`unexpected '${rest.text}'`, rest.at);
    return this.#predicate(node, "the expression").fn;
  }

  #predicate(node: Node, where: string): Extract<Node, { kind: "predicate" }> {
    if (node.kind === "predicate") return node;
    const what = node.kind === "metric" ? `${node.name}() alone` : "a number";
    return fail(
      `${where} must be a comparison such as NetworkErrorRatio() > 0.5, not ${what}`,
      node.at,
    );
  }

  #or(): Node {
    let left = this.#and();
    while (this.#peek().text === "||" && this.#peek().kind === "op") {
      const op = this.#take();
      const a = this.#predicate(left, "each side of ||").fn;
      const b = this.#predicate(this.#and(), "each side of ||").fn;
      left = { kind: "predicate", fn: (m) => a(m) || b(m), at: op.at };
    }
    return left;
  }

  #and(): Node {
    let left = this.#comparison();
    while (this.#peek().text === "&&" && this.#peek().kind === "op") {
      const op = this.#take();
      const a = this.#predicate(left, "each side of &&").fn;
      const b = this.#predicate(this.#comparison(), "each side of &&").fn;
      left = { kind: "predicate", fn: (m) => a(m) && b(m), at: op.at };
    }
    return left;
  }

  #comparison(): Node {
    const left = this.#primary();
    const op = this.#peek();
    if (op.kind !== "op" || !COMPARISONS.has(op.text)) return left;
    this.#take();
    const right = this.#primary();
    if (left.kind === "metric" && right.kind === "num") {
      return { kind: "predicate", fn: compare(op.text, left.fn, right.value), at: op.at };
    }
    if (left.kind === "num" && right.kind === "metric") {
      const flipped = FLIPPED[op.text] ?? op.text;
      return { kind: "predicate", fn: compare(flipped, right.fn, left.value), at: op.at };
    }
    return fail(
      `'${op.text}' compares a function such as NetworkErrorRatio() with a number`,
      op.at,
    );
  }

  #primary(): Node {
    const t = this.#take();
    if (t.kind === "num") {
      if (!Number.isFinite(t.value)) fail(`invalid number '${t.text}'`, t.at);
      return { kind: "num", value: t.value, integer: /^\d+$/.test(t.text), at: t.at };
    }
    if (t.kind === "op" && t.text === "(") {
      const inner = this.#or();
      this.#expect(")");
      return inner;
    }
    if (t.kind === "op" && t.text === "!") fail("'!' is not supported", t.at);
    if (t.kind === "ident") return this.#call(t);
    return fail(t.kind === "end" ? "unexpected end of expression" : `unexpected '${t.text}'`, t.at);
  }

  #call(name: Token): Node {
    if (this.#peek().text !== "(") {
      fail(`${name.text} is not defined (expected a call such as ${name.text}())`, name.at);
    }
    this.#take();
    const args: Extract<Node, { kind: "num" }>[] = [];
    if (this.#peek().text !== ")") {
      for (;;) {
        const arg = this.#primary();
        if (arg.kind !== "num") fail(`arguments of ${name.text} must be numbers`, arg.at);
        args.push(arg);
        if (this.#peek().text !== ",") break;
        this.#take();
      }
    }
    this.#expect(")");
    const arity = (n: number) => {
      if (args.length !== n) {
        fail(`${name.text} takes ${n} argument${n === 1 ? "" : "s"}, got ${args.length}`, name.at);
      }
    };
    switch (name.text) {
      case "NetworkErrorRatio":
        arity(0);
        return { kind: "metric", name: name.text, at: name.at, fn: (m) => m.networkErrorRatio() };
      case "ResponseCodeRatio": {
        arity(4);
        const bad = args.find((a) => !a.integer);
        if (bad) fail("ResponseCodeRatio takes integer status codes", bad.at);
        const [a, b, c, d] = args.map((x) => x.value) as [number, number, number, number];
        return {
          kind: "metric",
          name: name.text,
          at: name.at,
          fn: (m) => m.responseCodeRatio(a, b, c, d),
        };
      }
      case "LatencyAtQuantileMS": {
        arity(1);
        const q = args[0]!.value;
        if (!(q > 0 && q <= 100)) {
          fail("LatencyAtQuantileMS takes a quantile in (0, 100]", args[0]!.at);
        }
        this.usesLatency = true;
        return {
          kind: "metric",
          name: name.text,
          at: name.at,
          fn: (m) => m.latencyAtQuantileMS(q),
        };
      }
      default:
        return fail(
          `unsupported function: ${name.text} (use one of ${FUNCTIONS.join(", ")})`,
          name.at,
        );
    }
  }
}

/**
 * Parses a circuit-breaker expression.
 *
 * @example
 * ```ts
 * const trip = parseExpression("NetworkErrorRatio() > 0.5 || LatencyAtQuantileMS(50.0) > 100");
 * trip.usesLatency; // true
 * ```
 * @throws {SyntaxError} Naming the problem and its column.
 */
export function parseExpression(source: string): Condition {
  const parser = new Parser(tokenize(source));
  const fn = parser.parse();
  return Object.assign((m: Measurements) => fn(m), { usesLatency: parser.usesLatency });
}
