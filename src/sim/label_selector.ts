/**
 * Marathon's `label` query selector for `GET /v2/apps`.
 *
 * Grammar (comma = AND): `key`, `key==value`, `key!=value`,
 * `key in (a,b)`, `key notin (a,b)`. Characters outside `-A-Za-z0-9_.` must
 * be escaped with `\`. As in Marathon, every form except existence also
 * requires the label to be present (`key!=v` does not match an app without
 * `key`).
 *
 * @module
 */

/** One parsed selector. */
export type LabelSelector =
  | { readonly key: string; readonly op: "exists" }
  | { readonly key: string; readonly op: "==" | "!="; readonly value: string }
  | { readonly key: string; readonly op: "in" | "notin"; readonly values: readonly string[] };

const TERM_CHAR = /[-A-Za-z0-9_.]/;

/**
 * Parses a selector list.
 *
 * @param input The raw `label` query value.
 * @returns The selectors, all of which must match.
 * @throws {SyntaxError} If the input does not follow the grammar.
 */
export function parseLabelSelector(input: string): LabelSelector[] {
  let i = 0;
  const fail = (why: string): never => {
    throw new SyntaxError(`Cannot parse label selector '${input}': ${why} at position ${i}`);
  };
  const skipSpace = () => {
    while (i < input.length && /\s/.test(input[i]!)) i++;
  };
  const term = (): string => {
    skipSpace();
    let out = "";
    while (i < input.length) {
      const ch = input[i]!;
      if (ch === "\\") {
        if (i + 1 >= input.length) fail("dangling escape");
        out += input[i + 1];
        i += 2;
      } else if (TERM_CHAR.test(ch)) {
        out += ch;
        i++;
      } else break;
    }
    if (out === "") fail("expected a label key or value");
    return out;
  };
  const expect = (token: string) => {
    skipSpace();
    if (!input.startsWith(token, i)) fail(`expected '${token}'`);
    i += token.length;
  };

  const selectors: LabelSelector[] = [];
  for (;;) {
    const key = term();
    skipSpace();
    if (input.startsWith("==", i) || input.startsWith("!=", i)) {
      const op = input.slice(i, i + 2) as "==" | "!=";
      i += 2;
      selectors.push({ key, op, value: term() });
    } else {
      const word = /^(notin|in)\s*\(/.exec(input.slice(i));
      if (word) {
        i += word[1]!.length;
        expect("(");
        const values = [term()];
        skipSpace();
        while (input[i] === ",") {
          i++;
          values.push(term());
          skipSpace();
        }
        expect(")");
        selectors.push({ key, op: word[1] as "in" | "notin", values });
      } else {
        selectors.push({ key, op: "exists" });
      }
    }
    skipSpace();
    if (i >= input.length) return selectors;
    if (input[i] !== ",") fail("expected ','");
    i++;
  }
}

/**
 * Whether a label map satisfies every selector.
 *
 * @param labels The app's labels.
 * @param selectors Parsed selectors.
 */
export function matchesLabels(
  labels: Readonly<Record<string, string>>,
  selectors: readonly LabelSelector[],
): boolean {
  return selectors.every((s) => {
    if (!Object.hasOwn(labels, s.key)) return false;
    const v = labels[s.key]!;
    switch (s.op) {
      case "exists":
        return true;
      case "==":
        return v === s.value;
      case "!=":
        return v !== s.value;
      case "in":
        return s.values.includes(v);
      case "notin":
        return !s.values.includes(v);
    }
  });
}
