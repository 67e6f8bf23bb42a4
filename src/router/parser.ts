/**
 * Parser for Traefik rules: tokens to an abstract syntax tree.
 *
 * The grammar is the subset of Go expressions that vulcand/predicate turns
 * into a Traefik rule tree:
 *
 * ```
 * rule    = or [newline] eof
 * or      = and { "||" and }
 * and     = unary { "&&" unary }
 * unary   = "!" unary | "(" or ")" | call
 * call    = ident "(" [ string { "," string } [ "," ] ] ")"
 * ```
 *
 * `&&` binds tighter than `||`, both associate to the left, and arguments must
 * be string literals (Go accepts a trailing comma). Matcher names are not
 * resolved here: that depends on the rule syntax (see `compile.ts`).
 *
 * @module
 */
import { RuleSyntaxError } from "./errors.ts";
import { type Token, tokenize } from "./lexer.ts";

/** One argument of a matcher call. */
export interface Argument {
  /** The unquoted string value. */
  readonly value: string;
  /** 1-based column of the string literal. */
  readonly column: number;
}

/** A matcher call such as ``Host(`example.com`)``. */
export interface CallNode {
  readonly kind: "call";
  /** The matcher name as written. */
  readonly name: string;
  /** 1-based column of the name. */
  readonly column: number;
  readonly args: readonly Argument[];
}

/** `!operand`. */
export interface NotNode {
  readonly kind: "not";
  readonly operand: RuleNode;
}

/** `left && right` or `left || right`. */
export interface BinaryNode {
  readonly kind: "and" | "or";
  readonly left: RuleNode;
  readonly right: RuleNode;
}

/** A parsed rule. */
export type RuleNode = CallNode | NotNode | BinaryNode;

/** Parentheses and `!` nest at most this deep; deeper rules are rejected, not overflowed. */
const MAX_DEPTH = 1000;

const EXAMPLE = "a matcher such as Host(`example.com`)";

/**
 * Parses a rule into its syntax tree.
 *
 * @param rule The rule as written.
 * @returns The root node.
 * @throws {RuleSyntaxError} If the rule is not a well-formed expression.
 */
export function parseRule(rule: string): RuleNode {
  return new Parser(rule, tokenize(rule)).parse();
}

function describe(token: Token): string {
  switch (token.kind) {
    case "eof":
      return "end of rule";
    case "newline":
      return "a line break";
    case "string":
      return `string ${token.text}`;
    case "number":
      return `number ${token.text}`;
    case "char":
      return `single-quoted ${token.text} (Go rune literal)`;
    default:
      return `'${token.text}'`;
  }
}

class Parser {
  readonly #rule: string;
  readonly #tokens: Token[];
  #pos = 0;
  #depth = 0;

  constructor(rule: string, tokens: Token[]) {
    this.#rule = rule;
    this.#tokens = tokens;
  }

  parse(): RuleNode {
    if (this.#peek().kind === "eof") this.#fail(`expected ${EXAMPLE}`, this.#peek());
    const node = this.#or();
    // Go consumes one inserted semicolon (the rule's last line break) before EOF.
    if (this.#peek().kind === "newline") this.#pos++;
    const next = this.#peek();
    if (next.kind !== "eof") {
      const previous = this.#tokens[this.#pos - 1]!;
      if (previous.kind === "newline") {
        this.#fail(
          "unexpected line break: a rule continues on the next line only after '&&', '||', '(' or ','",
          previous,
        );
      }
      this.#fail(`expected '&&', '||' or end of rule, found ${describe(next)}${hint(next)}`, next);
    }
    return node;
  }

  #peek(): Token {
    return this.#tokens[this.#pos]!;
  }

  #next(): Token {
    return this.#tokens[this.#pos++]!;
  }

  #fail(reason: string, at: Token): never {
    throw new RuleSyntaxError(reason, { rule: this.#rule, column: at.column });
  }

  #or(): RuleNode {
    let left = this.#and();
    while (this.#peek().kind === "or") {
      this.#pos++;
      left = { kind: "or", left, right: this.#and("'||'") };
    }
    return left;
  }

  #and(after?: string): RuleNode {
    let left = this.#unary(after);
    while (this.#peek().kind === "and") {
      this.#pos++;
      left = { kind: "and", left, right: this.#unary("'&&'") };
    }
    return left;
  }

  #unary(after?: string): RuleNode {
    const token = this.#peek();
    if (token.kind === "not" || token.kind === "lparen") {
      if (++this.#depth > MAX_DEPTH) {
        this.#fail(`rule nests deeper than ${MAX_DEPTH} levels`, token);
      }
      this.#pos++;
      let node: RuleNode;
      if (token.kind === "not") {
        node = { kind: "not", operand: this.#unary("'!'") };
      } else {
        node = this.#or();
        const close = this.#peek();
        if (close.kind !== "rparen") {
          this.#fail(
            `expected ')' to close '(' at column ${token.column}, found ${describe(close)}`,
            close,
          );
        }
        this.#pos++;
      }
      this.#depth--;
      return node;
    }
    if (token.kind === "ident") return this.#call();
    const where = after === undefined ? "" : ` after ${after}`;
    this.#fail(`expected ${EXAMPLE}${where}, found ${describe(token)}`, token);
  }

  #call(): CallNode {
    const name = this.#next();
    const open = this.#peek();
    if (open.kind !== "lparen") {
      this.#fail(`expected '(' after matcher name '${name.text}', found ${describe(open)}`, open);
    }
    this.#pos++;
    const args: Argument[] = [];
    if (this.#peek().kind === "rparen") {
      this.#pos++;
      return { kind: "call", name: name.text, column: name.column, args };
    }
    for (;;) {
      const arg = this.#next();
      if (arg.kind !== "string") {
        this.#fail(
          `expected a string argument in backquotes or double quotes, found ${describe(arg)}`,
          arg,
        );
      }
      args.push({ value: arg.value, column: arg.column });
      const sep = this.#next();
      if (sep.kind === "rparen") break;
      if (sep.kind === "comma") {
        // Go allows a trailing comma before the closing parenthesis.
        if (this.#peek().kind === "rparen") {
          this.#pos++;
          break;
        }
        continue;
      }
      this.#fail(
        `expected ',' or ')' after argument ${args.length} of ${name.text}, found ${describe(sep)}`,
        sep,
      );
    }
    return { kind: "call", name: name.text, column: name.column, args };
  }
}

/** Suggests the Go operator for common mistakes (`and`, `&`, `|`). */
function hint(token: Token): string {
  const word = token.text.toLowerCase();
  if (word === "and" || token.text === "&") return " (write '&&')";
  if (word === "or" || token.text === "|") return " (write '||')";
  return "";
}
