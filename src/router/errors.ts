/**
 * The one error type rule compilation throws.
 *
 * @module
 */

/** Options of {@linkcode RuleSyntaxError}. */
export interface RuleSyntaxErrorOptions {
  /** The whole rule as written. */
  readonly rule: string;
  /** 1-based position, in characters (code points), of the offending token. */
  readonly column: number;
  /** Extra information appended after the column (e.g. the regexp engine's message). */
  readonly detail?: string;
  /** The underlying error, if any. */
  readonly cause?: unknown;
}

/**
 * A rule that cannot be compiled: a syntax error, an unknown matcher, a wrong
 * number of arguments, an invalid regexp, IP or path.
 *
 * The message says what was expected and where, e.g.
 * `Cannot parse rule: expected ')' at column 17`. `column` counts characters
 * (code points) from 1 at the start of the rule; for a rule written on several
 * lines it is still counted from the start of the whole rule.
 */
export class RuleSyntaxError extends SyntaxError {
  /** 1-based position of the offending token in {@linkcode RuleSyntaxError.rule}. */
  readonly column: number;
  /** The rule as written. */
  readonly rule: string;
  /** The message without the `Cannot parse rule: ` prefix and the position. */
  readonly reason: string;

  /**
   * Builds the error and its message.
   *
   * @param reason What is wrong, worded as what was expected (`expected ')'`).
   * @param options The rule, the column and optional detail and cause.
   */
  constructor(reason: string, options: RuleSyntaxErrorOptions) {
    const detail = options.detail === undefined ? "" : `: ${options.detail}`;
    super(
      `Cannot parse rule: ${reason} at column ${options.column}${detail}`,
      options.cause === undefined ? undefined : { cause: options.cause },
    );
    this.name = "RuleSyntaxError";
    this.column = options.column;
    this.rule = options.rule;
    this.reason = reason;
  }
}
