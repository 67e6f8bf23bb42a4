/**
 * The buffering middleware's `retryExpression` language (oxy's predicate
 * syntax, as in Traefik): functions `IsNetworkError()`, `Attempts()`,
 * `ResponseCode()` and `RequestMethod()`, integer and string literals,
 * `==`, `!=`, `<`, `>`, `<=`, `>=`, `&&`, `||` and parentheses.
 *
 * `IsNetworkError()` is true when the attempt got no answer from the
 * upstream: Pacer's forwarder then answers 502 (connect, reset) or 504
 * (timeout) itself and marks it (`X-Pacer-Upstream-Error`). A 502 sent by
 * the upstream is a response: match it with `ResponseCode() == 502`. (oxy
 * counts every 502/504; the circuit breaker's `NetworkErrorRatio()` uses the
 * same rule as here.) `Attempts()` counts attempts made so far, from 1.
 *
 * @example
 * ```ts
 * const retry = parseRetryExpression("IsNetworkError() && Attempts() < 2");
 * retry({ attempts: 1, responseCode: 502, method: "GET", networkError: true }); // true
 * ```
 *
 * @module
 */

/** What an expression can ask about the attempt that just ended. */
export interface RetryFacts {
  /** Attempts made so far (1 after the first). */
  readonly attempts: number;
  /** Status of the last attempt's response. */
  readonly responseCode: number;
  /** The request method. */
  readonly method: string;
  /** Whether the attempt got no answer from the upstream (see the module doc). */
  readonly networkError: boolean;
}

/** A compiled expression: whether to try again. */
export type RetryPredicate = (facts: RetryFacts) => boolean;

type Type = "bool" | "int" | "string";
type Value = boolean | number | string;
interface Node {
  readonly type: Type;
  eval(facts: RetryFacts): Value;
}

const FUNCTIONS: Record<string, Node> = {
  IsNetworkError: {
    type: "bool",
    eval: (f) => f.networkError,
  },
  Attempts: { type: "int", eval: (f) => f.attempts },
  ResponseCode: { type: "int", eval: (f) => f.responseCode },
  RequestMethod: { type: "string", eval: (f) => f.method },
};

const COMPARE: Record<string, (a: Value, b: Value) => boolean> = {
  "==": (a, b) => a === b,
  "!=": (a, b) => a !== b,
  "<": (a, b) => a < b,
  ">": (a, b) => a > b,
  "<=": (a, b) => a <= b,
  ">=": (a, b) => a >= b,
};

interface Token {
  readonly kind: "ident" | "int" | "string" | "op" | "end";
  readonly text: string;
  readonly at: number;
}

const TOKEN =
  /\s*(?:([A-Za-z_]\w*)|(\d+)|("(?:[^"\\]|\\.)*"|`[^`]*`)|(&&|\|\||==|!=|<=|>=|<|>|\(|\)))/y;

function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  TOKEN.lastIndex = 0;
  let at = 0;
  while (at < source.length) {
    if (/^\s*$/.test(source.slice(at))) break;
    TOKEN.lastIndex = at;
    const m = TOKEN.exec(source);
    if (!m) {
      const pos = at + (source.slice(at).length - source.slice(at).trimStart().length);
      throw new SyntaxError(`unexpected '${source[pos]}' at position ${pos + 1}`);
    }
    const start = TOKEN.lastIndex - m[0].trimStart().length;
    if (m[1]) tokens.push({ kind: "ident", text: m[1], at: start });
    else if (m[2]) tokens.push({ kind: "int", text: m[2], at: start });
    else if (m[3]) tokens.push({ kind: "string", text: m[3], at: start });
    else tokens.push({ kind: "op", text: m[4]!, at: start });
    at = TOKEN.lastIndex;
  }
  tokens.push({ kind: "end", text: "end of expression", at: source.length });
  return tokens;
}

/**
 * Compiles a retry expression.
 * @throws {SyntaxError} With the position and the problem.
 */
export function parseRetryExpression(source: string): RetryPredicate {
  const tokens = tokenize(source);
  let i = 0;
  const peek = () => tokens[i]!;
  const fail = (token: Token, message: string): never => {
    throw new SyntaxError(`${message} at position ${token.at + 1}`);
  };
  const expect = (text: string) => {
    const token = tokens[i++]!;
    if (token.text !== text || (token.kind !== "op")) {
      fail(token, `expected '${text}', got '${token.text}'`);
    }
  };

  function primary(): Node {
    const token = tokens[i++]!;
    switch (token.kind) {
      case "int": {
        const value = Number(token.text);
        return { type: "int", eval: () => value };
      }
      case "string": {
        const value = token.text.startsWith("`")
          ? token.text.slice(1, -1)
          : JSON.parse(token.text) as string;
        return { type: "string", eval: () => value };
      }
      case "ident": {
        const fn = FUNCTIONS[token.text];
        if (!fn) {
          fail(
            token,
            `unknown function '${token.text}' (known: ${Object.keys(FUNCTIONS).join(", ")})`,
          );
        }
        expect("(");
        expect(")");
        return fn!;
      }
      case "op":
        if (token.text === "(") {
          const inner = or();
          expect(")");
          return inner;
        }
    }
    return fail(token, `unexpected '${token.text}'`);
  }

  function comparison(): Node {
    const left = primary();
    const op = peek();
    const compare = op.kind === "op" ? COMPARE[op.text] : undefined;
    if (!compare) return left;
    i++;
    const right = primary();
    if (left.type !== right.type || left.type === "bool") {
      fail(op, `cannot compare ${left.type} and ${right.type} with '${op.text}'`);
    }
    if (left.type === "string" && op.text !== "==" && op.text !== "!=") {
      fail(op, `strings can only be compared with == or !=`);
    }
    return { type: "bool", eval: (f) => compare(left.eval(f), right.eval(f)) };
  }

  function logical(next: () => Node, text: "&&" | "||"): Node {
    let left = next();
    while (peek().kind === "op" && peek().text === text) {
      const op = tokens[i++]!;
      const right = next();
      if (left.type !== "bool" || right.type !== "bool") {
        fail(op, `'${text}' needs true/false operands`);
      }
      const l = left;
      left = text === "&&"
        ? { type: "bool", eval: (f) => l.eval(f) === true && right.eval(f) === true }
        : { type: "bool", eval: (f) => l.eval(f) === true || right.eval(f) === true };
    }
    return left;
  }

  function and(): Node {
    return logical(comparison, "&&");
  }
  function or(): Node {
    return logical(and, "||");
  }

  const root = or();
  if (peek().kind !== "end") fail(peek(), `unexpected '${peek().text}'`);
  if (root.type !== "bool") {
    throw new SyntaxError("the expression must be true or false, e.g. Attempts() < 2");
  }
  return (facts) => root.eval(facts) === true;
}
