/**
 * The `constraints` expression of the Marathon provider (Traefik v2
 * `pkg/provider/constraints/constraints_labels.go`): a boolean Go expression
 * over the app's labels, e.g.
 * `` Label("env", "prod") && !LabelRegex(`team`, "^ops-") ``.
 *
 * - `Label(key, value)`: the label equals `value`; a missing label reads as
 *   `""`, so `Label("k", "")` matches apps without `k`.
 * - `LabelRegex(key, regex)`: an unanchored RE2 match; an invalid regex never
 *   matches (it is not an error, as in Traefik).
 * - `MarathonConstraint("field:OPERATOR:value")`: one of the app's Marathon
 *   constraints, parts joined with `:`, equals the string.
 * - `&&` (binds tighter), `||`, `!`, parentheses; Go string literals
 *   (interpreted with escapes, or raw in backquotes).
 *
 * The expression is compiled once into closures (regexes included), so
 * matching thousands of apps costs no parsing.
 *
 * @module
 */
import { compileGoRegexp, type GoRegexp } from "../../go/regexp.ts";
import { isIdentPart, isIdentStart, readGoString } from "./_go_literal.ts";

/**
 * Key prefix of the synthetic labels holding an app's Marathon constraints
 * (Traefik's exact value, since it is visible to templates as `.Labels`).
 */
export const MARATHON_CONSTRAINT_PREFIX = "Traefik-Marathon-505F9E15-BDC7-45E7-828D-C06C7BAB8091";

/** A compiled constraints expression. */
export type ConstraintMatcher = (labels: Readonly<Record<string, string>>) => boolean;

type Token =
  | { kind: "ident"; text: string; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "number"; text: string; at: number }
  | { kind: "char"; text: string; at: number }
  | { kind: "op"; text: string; at: number }
  | { kind: "eof"; at: number };

// Every operator Go's expression grammar knows, so that `a == b` fails with
// "'==' is not supported" rather than "unexpected character".
const OPERATORS = [
  "&&",
  "||",
  "==",
  "!=",
  "<=",
  ">=",
  "<<",
  ">>",
  "&^",
  "<-",
  "...",
  "!",
  "(",
  ")",
  ",",
  "+",
  "-",
  "*",
  "/",
  "%",
  "&",
  "|",
  "^",
  "<",
  ">",
  "[",
  "]",
  "{",
  "}",
  ".",
  ":",
  ";",
  "=",
];

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  outer: while (i < source.length) {
    const ch = source[i]!;
    if (ch === " " || ch === "\t" || ch === "\n" || ch === "\r") {
      i++;
      continue;
    }
    if (source.startsWith("//", i)) {
      const nl = source.indexOf("\n", i);
      i = nl < 0 ? source.length : nl + 1;
      continue;
    }
    if (source.startsWith("/*", i)) {
      const close = source.indexOf("*/", i + 2);
      if (close < 0) throw new SyntaxError(`comment not terminated at offset ${i}`);
      i = close + 2;
      continue;
    }
    if (ch === '"' || ch === "`") {
      const { value, end } = readGoString(source, i);
      tokens.push({ kind: "string", value, at: i });
      i = end;
      continue;
    }
    if (ch === "'") {
      const { end } = readGoString(source, i);
      tokens.push({ kind: "char", text: source.slice(i, end), at: i });
      i = end;
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === "." && /[0-9]/.test(source[i + 1] ?? ""))) {
      const m = /^(?:0[xX][0-9a-fA-F_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9_]+)?)/.exec(
        source.slice(i),
      )!;
      tokens.push({ kind: "number", text: m[0], at: i });
      i += m[0].length;
      continue;
    }
    if (isIdentStart(ch)) {
      let j = i + 1;
      while (j < source.length && isIdentPart(source[j]!)) j++;
      tokens.push({ kind: "ident", text: source.slice(i, j), at: i });
      i = j;
      continue;
    }
    for (const op of OPERATORS) {
      if (source.startsWith(op, i)) {
        tokens.push({ kind: "op", text: op, at: i });
        i += op.length;
        continue outer;
      }
    }
    throw new SyntaxError(`unexpected character ${JSON.stringify(ch)} at offset ${i}`);
  }
  tokens.push({ kind: "eof", at: source.length });
  return tokens;
}

/** A parsed node: either a predicate or a literal argument value. */
type Value =
  | { kind: "predicate"; fn: ConstraintMatcher }
  | { kind: "literal"; type: "string" | "int" | "float"; value: string | number; text: string };

interface FunctionDef {
  readonly arity: number;
  build(args: string[]): ConstraintMatcher;
}

const FUNCTIONS: Record<string, FunctionDef> = {
  Label: {
    arity: 2,
    build: ([name, value]) => (labels) => (labels[name!] ?? "") === value,
  },
  LabelRegex: {
    arity: 2,
    build: ([name, expr]) => {
      const re = compileGoRegex(expr!);
      if (!re) return () => false;
      return (labels) => re.test(labels[name!] ?? "");
    },
  },
  MarathonConstraint: {
    arity: 1,
    build: ([value]) => (labels) => {
      for (const key in labels) {
        if (key.startsWith(MARATHON_CONSTRAINT_PREFIX) && labels[key] === value) return true;
      }
      return false;
    },
  },
};

class Parser {
  #tokens: Token[];
  #pos = 0;

  constructor(tokens: Token[]) {
    this.#tokens = tokens;
  }

  get #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #isOp(text: string): boolean {
    const t = this.#peek;
    return t.kind === "op" && t.text === text;
  }

  #expectOp(text: string): void {
    if (!this.#isOp(text)) {
      throw new SyntaxError(
        `expected '${text}' at offset ${this.#peek.at}, found ${describe(this.#peek)}`,
      );
    }
    this.#pos++;
  }

  parse(): Value {
    const value = this.#or();
    const t = this.#peek;
    if (t.kind !== "eof") {
      if (t.kind === "op" && !["(", ")", ","].includes(t.text)) {
        throw new SyntaxError(`operator '${t.text}' is not supported (use &&, || and !)`);
      }
      throw new SyntaxError(`unexpected ${describe(t)} at offset ${t.at}`);
    }
    return value;
  }

  #or(): Value {
    let left = this.#and();
    while (this.#isOp("||")) {
      this.#pos++;
      const right = this.#and();
      const [a, b] = [predicate(left, "||"), predicate(right, "||")];
      left = { kind: "predicate", fn: (labels) => a(labels) || b(labels) };
    }
    return left;
  }

  #and(): Value {
    let left = this.#unary();
    while (this.#isOp("&&")) {
      this.#pos++;
      const right = this.#unary();
      const [a, b] = [predicate(left, "&&"), predicate(right, "&&")];
      left = { kind: "predicate", fn: (labels) => a(labels) && b(labels) };
    }
    return left;
  }

  #unary(): Value {
    if (this.#isOp("!")) {
      this.#pos++;
      const inner = predicate(this.#unary(), "!");
      return { kind: "predicate", fn: (labels) => !inner(labels) };
    }
    const t = this.#peek;
    if (t.kind === "op" && ["+", "-", "^", "*", "&", "<-"].includes(t.text)) {
      throw new SyntaxError(`operator '${t.text}' is not supported (use &&, || and !)`);
    }
    return this.#primary();
  }

  #primary(): Value {
    const t = this.#peek;
    if (this.#isOp("(")) {
      this.#pos++;
      const inner = this.#or();
      this.#expectOp(")");
      return inner;
    }
    if (t.kind === "ident") {
      this.#pos++;
      if (!this.#isOp("(")) {
        throw new SyntaxError(
          `'${t.text}' at offset ${t.at} must be called, as in ${t.text}("key", "value")`,
        );
      }
      this.#pos++;
      const args: Value[] = [];
      while (!this.#isOp(")")) {
        args.push(this.#argument());
        if (this.#isOp(",")) this.#pos++;
        else if (!this.#isOp(")")) {
          throw new SyntaxError(`expected ',' or ')' at offset ${this.#peek.at}`);
        }
      }
      this.#pos++;
      return call(t.text, args);
    }
    return this.#literal();
  }

  #argument(): Value {
    const t = this.#peek;
    if (t.kind === "string" || t.kind === "number" || t.kind === "char") return this.#literal();
    if (t.kind === "eof") throw new SyntaxError("unexpected end of expression in function call");
    // Traefik (vulcand/predicate) only accepts literals as arguments.
    throw new SyntaxError(`function arguments must be string literals, found ${describe(t)}`);
  }

  #literal(): Value {
    const t = this.#peek;
    this.#pos++;
    switch (t.kind) {
      case "string":
        return { kind: "literal", type: "string", value: t.value, text: JSON.stringify(t.value) };
      case "number": {
        const clean = t.text.replaceAll("_", "");
        const isFloat = /[.eE]/.test(clean) && !/^0[xX]/.test(clean);
        const value = Number(clean);
        if (Number.isNaN(value)) throw new SyntaxError(`invalid number ${t.text}`);
        return { kind: "literal", type: isFloat ? "float" : "int", value, text: t.text };
      }
      case "char":
        throw new SyntaxError(
          `unsupported function argument type: character literal ${t.text} (use a double-quoted string)`,
        );
      case "eof":
        throw new SyntaxError("unexpected end of expression");
      default:
        throw new SyntaxError(`unexpected ${describe(t)} at offset ${t.at}`);
    }
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case "eof":
      return "end of expression";
    case "string":
      return `string ${JSON.stringify(t.value)}`;
    case "ident":
    case "number":
    case "char":
    case "op":
      return `'${t.text}'`;
  }
}

function predicate(value: Value, operator: string): ConstraintMatcher {
  if (value.kind === "predicate") return value.fn;
  throw new SyntaxError(
    `operand of '${operator}' must be a Label, LabelRegex or MarathonConstraint call, not the literal ${value.text}`,
  );
}

function call(name: string, args: Value[]): Value {
  const def = Object.hasOwn(FUNCTIONS, name) ? FUNCTIONS[name] : undefined;
  if (!def) {
    throw new SyntaxError(
      `unsupported function: ${name} (use Label, LabelRegex or MarathonConstraint)`,
    );
  }
  if (args.length !== def.arity) {
    throw new SyntaxError(
      `${name} takes ${def.arity} argument${def.arity > 1 ? "s" : ""}, got ${args.length}`,
    );
  }
  const strings = args.map((arg, i) => {
    if (arg.kind !== "literal" || arg.type !== "string") {
      throw new SyntaxError(
        `argument ${i + 1} of ${name} must be a string, got ${
          arg.kind === "literal" ? arg.text : "a function call"
        }`,
      );
    }
    return arg.value as string;
  });
  return { kind: "predicate", fn: def.build(strings) };
}

/**
 * Compiles a constraints expression. The empty expression matches every app.
 *
 * @param expression The `providers.marathon.constraints` option.
 * @returns A matcher over an app's labels (synthetic constraint labels included).
 * @throws {SyntaxError} On a syntax error, an unknown function, a wrong
 *   argument count or type, or a top-level value that is not a predicate.
 *
 * @example
 * ```ts
 * const match = compileConstraints('Label("env", "prod") || MarathonConstraint("rack:LIKE:a")');
 * match({ env: "prod" }); // true
 * ```
 */
export function compileConstraints(expression: string): ConstraintMatcher {
  if (expression === "") return () => true;
  let value: Value;
  try {
    value = new Parser(tokenize(expression)).parse();
  } catch (error) {
    throw new SyntaxError(
      `Invalid constraints expression ${JSON.stringify(expression)}: ${(error as Error).message}`,
    );
  }
  if (value.kind !== "predicate") {
    throw new SyntaxError(
      `Invalid constraints expression ${
        JSON.stringify(expression)
      }: it must be a Label, LabelRegex or MarathonConstraint call, not a literal`,
    );
  }
  return value.fn;
}

/**
 * Compiles a Go (RE2) regular expression for an unanchored match, or returns
 * `undefined` if it is invalid (Traefik: an invalid regex matches nothing).
 */
function compileGoRegex(pattern: string): GoRegexp | undefined {
  try {
    return compileGoRegexp(pattern);
  } catch {
    return undefined;
  }
}
