/**
 * A subset of Go's `text/template` with the sprig functions Traefik users put
 * in `providers.marathon.defaultRule`, e.g.
 * `` Host(`{{ normalize .Name }}.example.com`) `` or
 * `Host("{{ .Name | trimPrefix "/" | splitList "/" | strsToItfs | reverse | join "." }}.marathon")`.
 *
 * Supported syntax: text and `{{ }}` actions with `-` trim markers and
 * `/* *\/` comments; pipelines (`|`), parenthesized pipelines, fields and
 * field chains (`.Name`, `.Labels.env`, `$x.y`), variables (`$`, `$x :=`,
 * `$x =`), string (interpreted and raw), number, boolean and `nil` literals;
 * `if` / `else if` / `else` / `end`, `range` (with `$i, $e :=` and `else`)
 * and `with`. Not supported: `define`, `template`, `block`, `break`,
 * `continue`, and the built-in `call`; they are parse errors.
 *
 * Functions: Go's built-ins `and or not len index print printf println eq ne
 * lt le gt ge html js urlquery slice`; Traefik's `normalize` and the Marathon
 * provider's `strsToItfs`; sprig's `trim trimAll trimPrefix trimSuffix lower
 * upper title untitle replace contains hasPrefix hasSuffix nospace repeat
 * substr trunc quote squote cat splitList split splitn join list first last
 * rest initial reverse default empty coalesce ternary toString`. Any other
 * function is a parse error, as in Go ("function "x" not defined").
 *
 * Values follow Go: a missing map key prints `<no value>` and is falsy,
 * `index` of a missing key gives the map's zero value (`""` for labels), and
 * passing a missing value where a string is expected is an execution error.
 *
 * @module
 */
import { isIdentPart, isIdentStart, readGoString } from "./_go_literal.ts";

// ---------------------------------------------------------------------------
// Values

/** A Go map in a template model (`map[string]V`); ranged in key order. */
export class GoMap {
  /** The map's entries. */
  readonly entries: ReadonlyMap<string, unknown>;
  /** The element type's zero value, returned by `index` for missing keys. */
  readonly zero: unknown;

  /** Wraps `entries`; `zero` is what `index` returns for a missing key. */
  constructor(
    entries: ReadonlyMap<string, unknown> | Record<string, unknown>,
    zero: unknown = null,
  ) {
    this.entries = entries instanceof Map ? entries : new Map(Object.entries(entries));
    this.zero = zero;
  }
}

/** A Go struct in a template model: fixed fields, unknown ones are errors. */
export class GoStruct {
  /** Type name used in error messages. */
  readonly typeName: string;
  /** Field values by name. */
  readonly fields: Readonly<Record<string, unknown>>;

  /** A struct value of type `typeName` with `fields`. */
  constructor(typeName: string, fields: Record<string, unknown>) {
    this.typeName = typeName;
    this.fields = fields;
  }
}

/** What a missing map key evaluates to (Go's invalid `reflect.Value`). */
const MISSING: unique symbol = Symbol("no value");
/** Marks "no piped value" for a command. */
const NONE: unique symbol = Symbol("none");

/** An error raised while executing a template. */
export class TemplateExecError extends Error {
  /** Error class name. */
  override name = "TemplateExecError";
}

function typeOf(v: unknown): string {
  if (v === MISSING) return "<no value>";
  if (v === null) return "nil";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return Number.isInteger(v) ? "int" : "float64";
  if (typeof v === "boolean") return "bool";
  if (Array.isArray(v)) return "[]interface {}";
  if (v instanceof GoMap) return "map[string]interface {}";
  if (v instanceof GoStruct) return v.typeName;
  return typeof v;
}

/** Formats a value as Go's `fmt.Sprint` (`%v`) does. */
function formatValue(v: unknown): string {
  if (v === MISSING) return "<no value>";
  if (v === null || v === undefined) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(" ")}]`;
  if (v instanceof GoMap) {
    const keys = [...v.entries.keys()].sort();
    return `map[${keys.map((k) => `${k}:${formatValue(v.entries.get(k))}`).join(" ")}]`;
  }
  if (v instanceof GoStruct) return `{${Object.values(v.fields).map(formatValue).join(" ")}}`;
  return String(v);
}

/** Go's truth: false, 0, nil, and empty strings, slices and maps are false. */
function isTrue(v: unknown): boolean {
  if (v === MISSING || v === null || v === undefined) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  return true;
}

// ---------------------------------------------------------------------------
// Lexer

type TokKind =
  | "field"
  | "variable"
  | "ident"
  | "string"
  | "char"
  | "number"
  | "bool"
  | "nil"
  | "dot"
  | "pipe"
  | "lparen"
  | "rparen"
  | "comma"
  | "declare"
  | "assign"
  | "keyword"
  | "end"; // end of action

interface Tok {
  kind: TokKind;
  text: string;
  value?: string | number | boolean;
  /** Preceded by white space (fields chain only when adjacent). */
  spaced: boolean;
  at: number;
}

type Piece = { kind: "text"; text: string } | { kind: "action"; tokens: Tok[]; at: number };

const KEYWORDS = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "define",
  "template",
  "block",
  "break",
  "continue",
]);

function isSpace(ch: string | undefined): boolean {
  return ch === " " || ch === "\t" || ch === "\r" || ch === "\n";
}

function lex(source: string): Piece[] {
  const pieces: Piece[] = [];
  let i = 0;
  let trimNext = false;
  while (i <= source.length) {
    const open = source.indexOf("{{", i);
    let text = source.slice(i, open < 0 ? source.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    trimNext = false;
    if (open < 0) {
      if (text) pieces.push({ kind: "text", text });
      break;
    }
    let j = open + 2;
    if (source[j] === "-" && isSpace(source[j + 1])) {
      text = text.replace(/[ \t\r\n]+$/, "");
      j += 2;
    }
    if (text) pieces.push({ kind: "text", text });
    // Comments: {{/* ... */}}, possibly with trim markers.
    if (source.startsWith("/*", j)) {
      const close = source.indexOf("*/", j + 2);
      if (close < 0) throw new SyntaxError(`unclosed comment at offset ${open}`);
      let after = close + 2;
      if (source.startsWith(" -}}", after)) {
        trimNext = true;
        after += 4;
      } else if (source.startsWith("}}", after)) {
        after += 2;
      } else {
        throw new SyntaxError(`comment ends before closing delimiter at offset ${close}`);
      }
      i = after;
      continue;
    }
    const { tokens, end, trim } = lexAction(source, j);
    pieces.push({ kind: "action", tokens, at: open });
    trimNext = trim;
    i = end;
  }
  return pieces;
}

function lexAction(source: string, start: number): { tokens: Tok[]; end: number; trim: boolean } {
  const tokens: Tok[] = [];
  let i = start;
  let spaced = true;
  const push = (tok: Omit<Tok, "spaced">) => {
    tokens.push({ ...tok, spaced });
    spaced = false;
  };
  for (;;) {
    if (i >= source.length) {
      throw new SyntaxError(`unclosed action starting at offset ${start - 2}`);
    }
    if (isSpace(source[i])) {
      // " -}}" closes the action and trims the following text.
      let k = i;
      while (isSpace(source[k])) k++;
      if (source[k] === "-" && source.startsWith("}}", k + 1) && k > i) {
        tokens.push({ kind: "end", text: "}}", spaced: true, at: k });
        return { tokens, end: k + 3, trim: true };
      }
      i = k;
      spaced = true;
      continue;
    }
    if (source.startsWith("}}", i)) {
      tokens.push({ kind: "end", text: "}}", spaced, at: i });
      return { tokens, end: i + 2, trim: false };
    }
    const ch = source[i]!;
    const at = i;
    if (ch === "|") {
      push({ kind: "pipe", text: "|", at });
      i++;
    } else if (ch === "(") {
      push({ kind: "lparen", text: "(", at });
      i++;
    } else if (ch === ")") {
      push({ kind: "rparen", text: ")", at });
      i++;
    } else if (ch === ",") {
      push({ kind: "comma", text: ",", at });
      i++;
    } else if (source.startsWith(":=", i)) {
      push({ kind: "declare", text: ":=", at });
      i += 2;
    } else if (ch === "=") {
      push({ kind: "assign", text: "=", at });
      i++;
    } else if (ch === '"' || ch === "`") {
      const { value, end } = readGoString(source, i);
      push({ kind: "string", text: source.slice(i, end), value, at });
      i = end;
    } else if (ch === "'") {
      const { value, end } = readGoString(source, i);
      // A Go character constant is a number (its code point).
      push({ kind: "char", text: source.slice(i, end), value: value.codePointAt(0)!, at });
      i = end;
    } else if (ch === "$" || ch === ".") {
      let j = i + 1;
      while (j < source.length && isIdentPart(source[j]!)) j++;
      const name = source.slice(i, j);
      if (ch === "$") push({ kind: "variable", text: name, at });
      else if (name === ".") {
        if (/[0-9]/.test(source[j] ?? "")) {
          const m = /^\.[0-9]+(?:[eE][+-]?[0-9]+)?/.exec(source.slice(i))!;
          push({ kind: "number", text: m[0], value: Number(m[0]), at });
          j = i + m[0].length;
        } else push({ kind: "dot", text: ".", at });
      } else push({ kind: "field", text: name, at });
      i = j;
    } else if (
      /[0-9]/.test(ch) || ((ch === "-" || ch === "+") && /[0-9.]/.test(source[i + 1] ?? ""))
    ) {
      const m =
        /^[+-]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*\.?[0-9_]*(?:[eE][+-]?[0-9]+)?)/
          .exec(source.slice(i))!;
      const value = parseGoNumber(m[0]);
      if (value === undefined) throw new SyntaxError(`bad number syntax: "${m[0]}"`);
      push({ kind: "number", text: m[0], value, at });
      i += m[0].length;
    } else if (isIdentStart(ch)) {
      let j = i + 1;
      while (j < source.length && isIdentPart(source[j]!)) j++;
      const word = source.slice(i, j);
      if (word === "true" || word === "false") {
        push({ kind: "bool", text: word, value: word === "true", at });
      } else if (word === "nil") push({ kind: "nil", text: word, at });
      else if (KEYWORDS.has(word)) push({ kind: "keyword", text: word, at });
      else push({ kind: "ident", text: word, at });
      i = j;
    } else {
      throw new SyntaxError(`unexpected ${JSON.stringify(ch)} in action at offset ${i}`);
    }
  }
}

function parseGoNumber(text: string): number | undefined {
  const clean = text.replaceAll("_", "");
  let sign = 1;
  let body = clean;
  if (body.startsWith("-") || body.startsWith("+")) {
    sign = body.startsWith("-") ? -1 : 1;
    body = body.slice(1);
  }
  let value: number;
  if (/^0[xX][0-9a-fA-F]+$/.test(body)) value = parseInt(body.slice(2), 16);
  else if (/^0[bB][01]+$/.test(body)) value = parseInt(body.slice(2), 2);
  else if (/^0[oO][0-7]+$/.test(body)) value = parseInt(body.slice(2), 8);
  else if (/^(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/.test(body)) value = Number(body);
  else return undefined;
  return Number.isFinite(value) ? sign * value : undefined;
}

// ---------------------------------------------------------------------------
// Parse tree

type Arg =
  | { kind: "field"; chain: string[] } // .A.B on dot
  | { kind: "variable"; name: string; chain: string[] }
  | { kind: "chain"; node: Arg; chain: string[] } // (pipe).A
  | { kind: "ident"; name: string }
  | { kind: "literal"; value: string | number | boolean; text: string }
  | { kind: "nil" }
  | { kind: "dot" }
  | { kind: "pipe"; pipe: Pipeline };

interface Command {
  args: Arg[];
  at: number;
}

interface Pipeline {
  decl: string[];
  assign: boolean;
  cmds: Command[];
}

type Node =
  | { kind: "text"; text: string }
  | { kind: "action"; pipe: Pipeline }
  | {
    kind: "if" | "with" | "range";
    pipe: Pipeline;
    list: Node[];
    elseList: Node[] | undefined;
  };

type Builtin = (args: unknown[]) => unknown;

interface FuncDef {
  /** Fixed parameter kinds; `variadic` takes the rest. */
  params: ParamKind[];
  variadic?: ParamKind;
  fn: Builtin;
}

type ParamKind = "string" | "int" | "bool" | "any" | "strings";

class TemplateParser {
  #pieces: Piece[];
  #pi = 0;
  #toks: Tok[] = [];
  #ti = 0;
  #funcs: ReadonlyMap<string, FuncDef>;
  #vars: string[][] = [["$"]];

  constructor(pieces: Piece[], funcs: ReadonlyMap<string, FuncDef>) {
    this.#pieces = pieces;
    this.#funcs = funcs;
  }

  parse(): Node[] {
    const { list, stop } = this.#list();
    if (stop) throw new SyntaxError(`unexpected {{${stop}}}`);
    return list;
  }

  /** Parses nodes until `{{end}}`/`{{else}}` (returned as `stop`) or EOF. */
  #list(): { list: Node[]; stop?: "end" | "else" } {
    const list: Node[] = [];
    while (this.#pi < this.#pieces.length) {
      const piece = this.#pieces[this.#pi++]!;
      if (piece.kind === "text") {
        list.push({ kind: "text", text: piece.text });
        continue;
      }
      this.#toks = piece.tokens;
      this.#ti = 0;
      const first = this.#peek();
      if (first.kind === "keyword") {
        this.#ti++;
        switch (first.text) {
          case "end":
            this.#expectEnd("end");
            return { list, stop: "end" };
          case "else":
            return { list, stop: "else" };
          case "if":
          case "with":
          case "range":
            list.push(this.#control(first.text));
            continue;
          default:
            throw new SyntaxError(
              `{{${first.text}}} is not supported in Pacer's default-rule templates`,
            );
        }
      }
      list.push({ kind: "action", pipe: this.#pipeline("command", true) });
    }
    return { list };
  }

  #control(kind: "if" | "with" | "range"): Node {
    this.#vars.push([]);
    const pipe = this.#pipeline(kind, true);
    const body = this.#list();
    let elseList: Node[] | undefined;
    if (body.stop === undefined) {
      throw new SyntaxError(`unexpected EOF: {{${kind}}} has no {{end}}`);
    }
    if (body.stop === "else") {
      // {{else if ...}} is a nested if whose {{end}} also closes this one.
      const next = this.#peek();
      if (next.kind === "keyword" && next.text === "if" && kind !== "range") {
        this.#ti++;
        this.#vars.pop();
        this.#vars.push([]);
        elseList = [this.#control("if")];
        this.#vars.pop();
        return { kind, pipe, list: body.list, elseList };
      }
      this.#expectEnd("else");
      const rest = this.#list();
      if (rest.stop !== "end") {
        throw new SyntaxError(
          rest.stop
            ? "expected {{end}}, found {{else}}"
            : `unexpected EOF: {{${kind}}} has no {{end}}`,
        );
      }
      elseList = rest.list;
    }
    this.#vars.pop();
    return { kind, pipe, list: body.list, elseList };
  }

  #peek(): Tok {
    return this.#toks[this.#ti]!;
  }

  #next(): Tok {
    return this.#toks[this.#ti++]!;
  }

  #expectEnd(context: string): void {
    const t = this.#next();
    if (t.kind !== "end") {
      throw new SyntaxError(`unexpected ${JSON.stringify(t.text)} in ${context}`);
    }
  }

  #declared(name: string): boolean {
    return this.#vars.some((scope) => scope.includes(name));
  }

  #pipeline(context: string, topLevel: boolean): Pipeline {
    const pipe: Pipeline = { decl: [], assign: false, cmds: [] };
    // Declarations: $x := ..., $x = ..., range $i, $e := ...
    if (topLevel && this.#peek().kind === "variable") {
      const save = this.#ti;
      const names = [this.#next().text];
      if (context === "range" && this.#peek().kind === "comma") {
        this.#ti++;
        const second = this.#next();
        if (second.kind !== "variable") {
          throw new SyntaxError("range can only initialize variables");
        }
        names.push(second.text);
      }
      const op = this.#peek();
      if (op.kind === "declare" || (op.kind === "assign" && names.length === 1)) {
        this.#ti++;
        pipe.decl = names;
        pipe.assign = op.kind === "assign";
        if (pipe.assign && !this.#declared(names[0]!)) {
          throw new SyntaxError(`undefined variable "${names[0]}"`);
        }
      } else {
        this.#ti = save;
      }
    }
    const closer: TokKind = topLevel ? "end" : "rparen";
    for (;;) {
      const t = this.#peek();
      if (t.kind === closer) {
        this.#ti++;
        break;
      }
      if (t.kind === "end" || t.kind === "rparen") {
        throw new SyntaxError(`unexpected ${JSON.stringify(t.text)} in ${context}`);
      }
      pipe.cmds.push(this.#command());
      if (this.#peek().kind === "pipe") {
        this.#ti++;
        const after = this.#peek();
        if (after.kind === "end" || after.kind === "rparen" || after.kind === "pipe") {
          throw new SyntaxError(`missing command after '|' in ${context}`);
        }
      }
    }
    if (pipe.cmds.length === 0) throw new SyntaxError(`missing value for ${context}`);
    pipe.cmds.slice(1).forEach((cmd, i) => {
      const k = cmd.args[0]!.kind;
      if (k === "literal" || k === "dot" || k === "nil") {
        throw new SyntaxError(`non executable command in pipeline stage ${i + 2}`);
      }
    });
    // Variables become visible after their declaration.
    for (const name of pipe.decl) {
      if (!pipe.assign) this.#vars[this.#vars.length - 1]!.push(name);
    }
    return pipe;
  }

  #command(): Command {
    const args: Arg[] = [];
    const at = this.#peek().at;
    for (;;) {
      const t = this.#peek();
      if (t.kind === "pipe" || t.kind === "end" || t.kind === "rparen") break;
      if (args.length > 0 && !t.spaced && t.kind !== "field") {
        throw new SyntaxError(`missing space before ${JSON.stringify(t.text)}`);
      }
      args.push(this.#operand());
    }
    if (args.length === 0) throw new SyntaxError("empty command");
    return { args, at };
  }

  #operand(): Arg {
    const term = this.#term();
    const chain: string[] = [];
    while (this.#peek().kind === "field" && !this.#peek().spaced) {
      chain.push(this.#next().text.slice(1));
    }
    if (chain.length === 0) return term;
    switch (term.kind) {
      case "field":
        return { kind: "field", chain: [...term.chain, ...chain] };
      case "variable":
        return { kind: "variable", name: term.name, chain: [...term.chain, ...chain] };
      case "literal":
      case "nil":
      case "dot":
        throw new SyntaxError(`unexpected . after term`);
      default:
        return { kind: "chain", node: term, chain };
    }
  }

  #term(): Arg {
    const t = this.#next();
    switch (t.kind) {
      case "field":
        return { kind: "field", chain: [t.text.slice(1)] };
      case "variable":
        if (!this.#declared(t.text)) throw new SyntaxError(`undefined variable "${t.text}"`);
        return { kind: "variable", name: t.text, chain: [] };
      case "ident":
        if (!this.#funcs.has(t.text)) throw new SyntaxError(`function "${t.text}" not defined`);
        return { kind: "ident", name: t.text };
      case "string":
      case "number":
      case "bool":
      case "char":
        return { kind: "literal", value: t.value!, text: t.text };
      case "nil":
        return { kind: "nil" };
      case "dot":
        return { kind: "dot" };
      case "lparen":
        return { kind: "pipe", pipe: this.#pipeline("parenthesized pipeline", false) };
      case "keyword":
        throw new SyntaxError(`unexpected keyword "${t.text}" in operand`);
      default:
        throw new SyntaxError(`unexpected ${JSON.stringify(t.text)} in operand`);
    }
  }
}

// ---------------------------------------------------------------------------
// Execution

class Executor {
  #funcs: ReadonlyMap<string, FuncDef>;
  #vars: Array<[string, unknown]> = [];
  #out: string[] = [];

  constructor(funcs: ReadonlyMap<string, FuncDef>, data: unknown) {
    this.#funcs = funcs;
    this.#vars.push(["$", data]);
  }

  run(nodes: Node[], dot: unknown): string {
    this.#walk(nodes, dot);
    return this.#out.join("");
  }

  #walk(nodes: Node[], dot: unknown): void {
    for (const node of nodes) {
      switch (node.kind) {
        case "text":
          this.#out.push(node.text);
          break;
        case "action": {
          const value = this.#pipeline(node.pipe, dot);
          if (node.pipe.decl.length === 0) this.#out.push(formatValue(value));
          break;
        }
        case "if":
        case "with": {
          const mark = this.#vars.length;
          const value = this.#pipeline(node.pipe, dot);
          if (isTrue(value)) this.#walk(node.list, node.kind === "with" ? value : dot);
          else if (node.elseList) this.#walk(node.elseList, dot);
          this.#vars.length = mark;
          break;
        }
        case "range":
          this.#range(node, dot);
          break;
      }
    }
  }

  #range(node: Extract<Node, { list: Node[] }>, dot: unknown): void {
    const mark = this.#vars.length;
    const decl = node.pipe.decl;
    const value = this.#pipeline({ ...node.pipe, decl: [] }, dot);
    let items: Array<[unknown, unknown]>;
    if (Array.isArray(value)) items = value.map((v, i) => [i, v]);
    else if (value instanceof GoMap) {
      items = [...value.entries.keys()].sort().map((k) => [k, value.entries.get(k)]);
    } else if (value === MISSING || value === null) items = [];
    else throw new TemplateExecError(`range can't iterate over ${formatValue(value)}`);
    if (items.length === 0) {
      if (node.elseList) this.#walk(node.elseList, dot);
      this.#vars.length = mark;
      return;
    }
    for (const [key, elem] of items) {
      this.#vars.length = mark;
      if (decl.length === 1) this.#vars.push([decl[0]!, elem]);
      else if (decl.length === 2) this.#vars.push([decl[0]!, key], [decl[1]!, elem]);
      this.#walk(node.list, elem);
    }
    this.#vars.length = mark;
  }

  #pipeline(pipe: Pipeline, dot: unknown): unknown {
    let value: unknown = NONE;
    for (const cmd of pipe.cmds) value = this.#command(cmd, dot, value);
    for (const name of pipe.decl) {
      if (pipe.assign) {
        for (let i = this.#vars.length - 1; i >= 0; i--) {
          if (this.#vars[i]![0] === name) {
            this.#vars[i]![1] = value;
            break;
          }
        }
      } else {
        this.#vars.push([name, value]);
      }
    }
    return value;
  }

  #command(cmd: Command, dot: unknown, final: unknown): unknown {
    const [first, ...rest] = cmd.args;
    const hasArgs = rest.length > 0 || final !== NONE;
    switch (first!.kind) {
      case "ident":
        return this.#call(first!.name, rest, dot, final);
      case "field":
      case "variable":
      case "chain": {
        if (hasArgs) {
          throw new TemplateExecError(`can't give argument to non-function ${describeArg(first!)}`);
        }
        return this.#arg(first!, dot);
      }
      case "nil":
        throw new TemplateExecError("nil is not a command");
      default:
        if (hasArgs) {
          throw new TemplateExecError(`can't give argument to non-function ${describeArg(first!)}`);
        }
        return this.#arg(first!, dot);
    }
  }

  #arg(arg: Arg, dot: unknown): unknown {
    switch (arg.kind) {
      case "field":
        return this.#fields(dot, arg.chain);
      case "variable":
        return this.#fields(this.#variable(arg.name), arg.chain);
      case "chain":
        return this.#fields(this.#arg(arg.node, dot), arg.chain);
      case "literal":
        return arg.value;
      case "nil":
        return null;
      case "dot":
        return dot;
      case "pipe":
        return this.#pipeline(arg.pipe, dot);
      case "ident":
        return this.#call(arg.name, [], dot, NONE);
    }
  }

  #variable(name: string): unknown {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i]![0] === name) return this.#vars[i]![1];
    }
    throw new TemplateExecError(`undefined variable: ${name}`);
  }

  #fields(receiver: unknown, chain: string[]): unknown {
    let value = receiver;
    for (const name of chain) {
      if (value instanceof GoStruct) {
        if (!Object.hasOwn(value.fields, name)) {
          throw new TemplateExecError(`can't evaluate field ${name} in type ${value.typeName}`);
        }
        value = value.fields[name];
      } else if (value instanceof GoMap) {
        value = value.entries.has(name) ? value.entries.get(name) : MISSING;
      } else if (value === null || value === MISSING) {
        throw new TemplateExecError(`nil pointer evaluating ${typeOf(value)}.${name}`);
      } else {
        throw new TemplateExecError(`can't evaluate field ${name} in type ${typeOf(value)}`);
      }
    }
    return value;
  }

  #call(name: string, argNodes: Arg[], dot: unknown, final: unknown): unknown {
    // and/or evaluate lazily and return the deciding operand (Go 1.18+).
    if (name === "and" || name === "or") {
      const nodes: Array<Arg | typeof NONE> = [...argNodes];
      if (final !== NONE) nodes.push(NONE);
      if (nodes.length === 0) {
        throw new TemplateExecError(`wrong number of args for ${name}: want at least 1 got 0`);
      }
      let value: unknown;
      for (const node of nodes) {
        value = node === NONE ? final : this.#arg(node, dot);
        if (isTrue(value) === (name === "or")) return value;
      }
      return value;
    }
    const def = this.#funcs.get(name)!;
    const values = argNodes.map((a) => this.#arg(a, dot));
    if (final !== NONE) values.push(final);
    const fixed = def.params.length;
    if (values.length < fixed || (!def.variadic && values.length !== fixed)) {
      throw new TemplateExecError(
        `wrong number of args for ${name}: want ${
          def.variadic ? "at least " : ""
        }${fixed} got ${values.length}`,
      );
    }
    const converted = values.map((v, i) => convertArg(name, v, def.params[i] ?? def.variadic!));
    try {
      return def.fn(converted);
    } catch (error) {
      if (error instanceof TemplateExecError) throw error;
      throw new TemplateExecError(`error calling ${name}: ${(error as Error).message}`);
    }
  }
}

function describeArg(arg: Arg): string {
  switch (arg.kind) {
    case "field":
      return `.${arg.chain.join(".")}`;
    case "variable":
      return [arg.name, ...arg.chain].join(".");
    case "literal":
      return arg.text;
    default:
      return arg.kind;
  }
}

function convertArg(fn: string, value: unknown, kind: ParamKind): unknown {
  switch (kind) {
    case "any":
      return value === MISSING ? null : value;
    case "string":
      if (typeof value === "string") return value;
      break;
    case "int":
      if (typeof value === "number" && Number.isInteger(value)) return value;
      break;
    case "bool":
      if (typeof value === "boolean") return value;
      break;
    case "strings":
      if (Array.isArray(value) && value.every((v) => typeof v === "string")) return value;
      break;
  }
  const expected = kind === "strings" ? "[]string" : kind;
  throw new TemplateExecError(
    value === MISSING
      ? `error calling ${fn}: invalid value; expected ${expected}`
      : `wrong type for value in ${fn}; expected ${expected}; got ${typeOf(value)}`,
  );
}

// ---------------------------------------------------------------------------
// Functions

/** Traefik's `normalize`: non-letter/digit runs become `-`, ends trimmed. */
export function normalize(name: string): string {
  return name.split(/[^\p{L}\p{N}]+/u).filter((s) => s !== "").join("-");
}

/** sprig's strval / strslice conversions. */
function strval(v: unknown): string {
  return typeof v === "string" ? v : formatValue(v);
}

function strslice(v: unknown): string[] {
  if (Array.isArray(v)) return v.filter((x) => x !== null && x !== MISSING).map(strval);
  if (v === null || v === MISSING) return [];
  return [strval(v)];
}

function asList(fn: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  throw new Error(`Cannot find ${fn} on type ${typeOf(v)}`);
}

function empty(v: unknown): boolean {
  return !isTrue(v) && !(v instanceof GoStruct);
}

function goTitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isTitleSeparator(prev) ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function goUntitle(s: string): string {
  let prev = " ";
  let out = "";
  for (const ch of s) {
    out += isTitleSeparator(prev) ? ch.toLowerCase() : ch;
    prev = ch;
  }
  return out;
}

function isTitleSeparator(ch: string): boolean {
  if (/[A-Za-z0-9_]/.test(ch)) return false;
  if (ch.charCodeAt(0) < 0x80) return true;
  if (/[\p{L}\p{Nd}]/u.test(ch)) return false;
  return /\s/u.test(ch);
}

function goQuote(s: string): string {
  return JSON.stringify(s).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u00${c.charCodeAt(0).toString(16)}`,
  );
}

function splitToMap(parts: string[]): GoMap {
  const m = new Map<string, unknown>();
  parts.forEach((p, i) => m.set(`_${i}`, p));
  return new GoMap(m, "");
}

function goSplitN(s: string, sep: string, n: number): string[] {
  if (n === 0) return [];
  const all = s.split(sep);
  if (n < 0 || all.length <= n) return all;
  return [...all.slice(0, n - 1), all.slice(n - 1).join(sep)];
}

function basicCompare(fn: string, a: unknown, b: unknown): number {
  if (a === MISSING) a = null;
  if (b === MISSING) b = null;
  if (typeof a !== typeof b || (typeof a !== "string" && typeof a !== "number")) {
    if (fn === "eq" || fn === "ne") {
      if (typeof a === typeof b && (typeof a === "boolean" || a === null)) return a === b ? 0 : 1;
    }
    throw new Error(`incompatible types for comparison`);
  }
  return a === b ? 0 : (a as string | number) < (b as string | number) ? -1 : 1;
}

function sprint(values: unknown[], spaces: boolean): string {
  let out = "";
  values.forEach((v, i) => {
    if (i > 0 && (spaces || (typeof v !== "string" && typeof values[i - 1] !== "string"))) {
      out += " ";
    }
    out += formatValue(v);
  });
  return out;
}

function sprintf(format: string, args: unknown[]): string {
  let n = 0;
  const out = format.replace(
    /%([-+# 0]*)(\d*)(?:\.(\d+))?([a-zA-Z%])/g,
    (_m, _flags, _w, _p, verb: string) => {
      if (verb === "%") return "%";
      if (n >= args.length) return `%!${verb}(MISSING)`;
      const v = args[n++];
      switch (verb) {
        case "s":
        case "v":
          return formatValue(v);
        case "q":
          return typeof v === "string" ? goQuote(v) : formatValue(v);
        case "d":
          return typeof v === "number"
            ? String(Math.trunc(v))
            : `%!d(${typeOf(v)}=${formatValue(v)})`;
        case "t":
          return typeof v === "boolean" ? String(v) : `%!t(${typeOf(v)}=${formatValue(v)})`;
        case "x":
          return typeof v === "number"
            ? v.toString(16)
            : [...new TextEncoder().encode(strval(v))].map((b) => b.toString(16).padStart(2, "0"))
              .join("");
        default:
          return formatValue(v);
      }
    },
  );
  return n < args.length ? `${out}%!(EXTRA ${args.slice(n).map(formatValue).join(", ")})` : out;
}

function htmlEscape(s: string): string {
  return s.replace(
    /[<>&'"\0]/g,
    (c) =>
      ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", "'": "&#39;", '"': "&#34;", "\0": "\uFFFD" })[c]!,
  );
}

function jsEscape(s: string): string {
  return s.replace(/[\\'"<>&=\n\r\t]/g, (c) =>
    ({
      "\\": "\\\\",
      "'": "\\'",
      '"': '\\"',
      "<": "\\u003C",
      ">": "\\u003E",
      "&": "\\u0026",
      "=": "\\u003D",
      "\n": "\\n",
      "\r": "\\r",
      "\t": "\\t",
    })[c]!);
}

function queryEscape(s: string): string {
  return encodeURIComponent(s).replace(/%20/g, "+").replace(
    /[!'()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

const FUNCS: Record<string, FuncDef> = {
  // Go built-ins (and/or are special-cased by the executor).
  and: { params: [], variadic: "any", fn: () => null },
  or: { params: [], variadic: "any", fn: () => null },
  not: { params: ["any"], fn: ([v]) => !isTrue(v) },
  len: {
    params: ["any"],
    fn: ([v]) => {
      if (typeof v === "string") return new TextEncoder().encode(v).length;
      if (Array.isArray(v)) return v.length;
      if (v instanceof GoMap) return v.entries.size;
      throw new Error(`len of type ${typeOf(v)}`);
    },
  },
  index: {
    params: ["any"],
    variadic: "any",
    fn: ([item, ...keys]) => {
      let v = item;
      for (const key of keys) {
        if (v instanceof GoMap) {
          if (typeof key !== "string") {
            throw new Error(`value has type ${typeOf(key)}; should be string`);
          }
          v = v.entries.has(key) ? v.entries.get(key) : v.zero;
        } else if (Array.isArray(v) || typeof v === "string") {
          if (typeof key !== "number" || !Number.isInteger(key)) {
            throw new Error("cannot index slice/array with non-integer");
          }
          if (key < 0 || key >= v.length) throw new Error(`index out of range: ${key}`);
          v = typeof v === "string" ? new TextEncoder().encode(v)[key] : v[key];
        } else if (v === null) {
          throw new Error("index of untyped nil");
        } else {
          throw new Error(`can't index item of type ${typeOf(v)}`);
        }
      }
      return v;
    },
  },
  slice: {
    params: ["any"],
    variadic: "int",
    fn: ([item, ...idx]) => {
      if (typeof item !== "string" && !Array.isArray(item)) {
        throw new Error(`can't slice item of type ${typeOf(item)}`);
      }
      if (idx.length > 2) throw new Error("too many slice indexes");
      const [from = 0, to = item.length] = idx as number[];
      if (from < 0 || to > item.length || from > to) throw new Error(`slice index out of range`);
      return item.slice(from, to);
    },
  },
  print: { params: [], variadic: "any", fn: (args) => sprint(args, false) },
  println: { params: [], variadic: "any", fn: (args) => sprint(args, true) + "\n" },
  printf: { params: ["string"], variadic: "any", fn: ([f, ...args]) => sprintf(f as string, args) },
  html: { params: [], variadic: "any", fn: (args) => htmlEscape(sprint(args, false)) },
  js: { params: [], variadic: "any", fn: (args) => jsEscape(sprint(args, false)) },
  urlquery: { params: [], variadic: "any", fn: (args) => queryEscape(sprint(args, false)) },
  eq: {
    params: ["any"],
    variadic: "any",
    fn: ([a, ...rest]) => {
      if (rest.length === 0) throw new Error("missing argument for comparison");
      return rest.some((b) => basicCompare("eq", a, b) === 0);
    },
  },
  ne: { params: ["any", "any"], fn: ([a, b]) => basicCompare("ne", a, b) !== 0 },
  lt: { params: ["any", "any"], fn: ([a, b]) => basicCompare("lt", a, b) < 0 },
  le: { params: ["any", "any"], fn: ([a, b]) => basicCompare("le", a, b) <= 0 },
  gt: { params: ["any", "any"], fn: ([a, b]) => basicCompare("gt", a, b) > 0 },
  ge: { params: ["any", "any"], fn: ([a, b]) => basicCompare("ge", a, b) >= 0 },

  // Traefik / the Marathon provider.
  normalize: { params: ["string"], fn: ([s]) => normalize(s as string) },
  strsToItfs: { params: ["strings"], fn: ([l]) => [...(l as string[])] },

  // sprig string functions.
  trim: { params: ["string"], fn: ([s]) => (s as string).trim() },
  trimAll: {
    params: ["string", "string"],
    fn: ([cut, s]) => {
      const set = new Set(cut as string);
      const chars = [...(s as string)];
      let a = 0;
      let b = chars.length;
      while (a < b && set.has(chars[a]!)) a++;
      while (b > a && set.has(chars[b - 1]!)) b--;
      return chars.slice(a, b).join("");
    },
  },
  trimPrefix: {
    params: ["string", "string"],
    fn: ([p, s]) =>
      (s as string).startsWith(p as string) ? (s as string).slice((p as string).length) : s,
  },
  trimSuffix: {
    params: ["string", "string"],
    fn: ([p, s]) =>
      (s as string).endsWith(p as string) && (p as string).length > 0
        ? (s as string).slice(0, -(p as string).length)
        : s,
  },
  lower: { params: ["string"], fn: ([s]) => (s as string).toLowerCase() },
  upper: { params: ["string"], fn: ([s]) => (s as string).toUpperCase() },
  title: { params: ["string"], fn: ([s]) => goTitle(s as string) },
  untitle: { params: ["string"], fn: ([s]) => goUntitle(s as string) },
  replace: {
    params: ["string", "string", "string"],
    fn: ([o, n, s]) => (s as string).replaceAll(o as string, n as string),
  },
  contains: {
    params: ["string", "string"],
    fn: ([sub, s]) => (s as string).includes(sub as string),
  },
  hasPrefix: {
    params: ["string", "string"],
    fn: ([p, s]) => (s as string).startsWith(p as string),
  },
  hasSuffix: { params: ["string", "string"], fn: ([p, s]) => (s as string).endsWith(p as string) },
  nospace: { params: ["string"], fn: ([s]) => (s as string).replace(/\s/gu, "") },
  repeat: {
    params: ["int", "string"],
    fn: ([n, s]) => {
      if ((n as number) < 0) throw new Error("negative Repeat count");
      return (s as string).repeat(n as number);
    },
  },
  substr: {
    params: ["int", "int", "string"],
    fn: ([start, end, s]) => {
      const str = s as string;
      if ((start as number) < 0) return str.slice(0, end as number);
      if ((end as number) < 0 || (end as number) > str.length) return str.slice(start as number);
      return str.slice(start as number, end as number);
    },
  },
  trunc: {
    params: ["int", "string"],
    fn: ([c, s]) => {
      const str = s as string;
      const n = c as number;
      if (n < 0 && str.length + n > 0) return str.slice(str.length + n);
      if (n >= 0 && str.length > n) return str.slice(0, n);
      return str;
    },
  },
  quote: {
    params: [],
    variadic: "any",
    fn: (args) => args.filter((a) => a !== null).map((a) => goQuote(strval(a))).join(" "),
  },
  squote: {
    params: [],
    variadic: "any",
    fn: (args) => args.filter((a) => a !== null).map((a) => `'${strval(a)}'`).join(" "),
  },
  cat: {
    params: [],
    variadic: "any",
    fn: (args) => args.filter((a) => a !== null).map(formatValue).join(" "),
  },
  splitList: { params: ["string", "string"], fn: ([sep, s]) => (s as string).split(sep as string) },
  split: {
    params: ["string", "string"],
    fn: ([sep, s]) => splitToMap((s as string).split(sep as string)),
  },
  splitn: {
    params: ["string", "int", "string"],
    fn: ([sep, n, s]) => splitToMap(goSplitN(s as string, sep as string, n as number)),
  },
  join: { params: ["string", "any"], fn: ([sep, v]) => strslice(v).join(sep as string) },

  // sprig list and default functions.
  list: { params: [], variadic: "any", fn: (args) => args },
  first: { params: ["any"], fn: ([l]) => asList("first", l)[0] ?? null },
  last: {
    params: ["any"],
    fn: ([l]) => {
      const list = asList("last", l);
      return list.length ? list[list.length - 1] : null;
    },
  },
  rest: {
    params: ["any"],
    fn: ([l]) => {
      const list = asList("rest", l);
      return list.length ? list.slice(1) : null;
    },
  },
  initial: {
    params: ["any"],
    fn: ([l]) => {
      const list = asList("initial", l);
      return list.length ? list.slice(0, -1) : null;
    },
  },
  reverse: { params: ["any"], fn: ([l]) => [...asList("reverse", l)].reverse() },
  default: {
    params: ["any"],
    variadic: "any",
    fn: ([d, ...given]) => (given.length === 0 || empty(given[0]) ? d : given[0]),
  },
  empty: { params: ["any"], fn: ([v]) => empty(v) },
  coalesce: { params: [], variadic: "any", fn: (args) => args.find((a) => !empty(a)) ?? null },
  ternary: { params: ["any", "any", "bool"], fn: ([t, f, c]) => (c ? t : f) },
};

const FUNC_MAP: ReadonlyMap<string, FuncDef> = new Map([
  ...Object.entries(FUNCS),
  // Declared here: an object literal key named toString confuses type inference.
  ["toString", { params: ["any"], fn: ([v]) => strval(v) }],
]);

/** A parsed template, ready to execute many times. */
export interface CompiledTemplate {
  /** The template source. */
  readonly source: string;
  /**
   * Executes the template with `data` as `.` (and `$`).
   * @throws {TemplateExecError} On an execution error (wrong argument type,
   *   unknown struct field, failing function).
   */
  execute(data: unknown): string;
}

/**
 * Parses a Go template.
 *
 * @param source The template text.
 * @returns The compiled template.
 * @throws {SyntaxError} On a syntax error or an unknown function or variable.
 *
 * @example
 * ```ts
 * const t = compileTemplate('Host(`{{ normalize .Name }}`)');
 * t.execute(new GoStruct("model", { Name: "/a/b" })); // "Host(`a-b`)"
 * ```
 */
export function compileTemplate(source: string): CompiledTemplate {
  let nodes: Node[];
  try {
    nodes = new TemplateParser(lex(source), FUNC_MAP).parse();
  } catch (error) {
    throw new SyntaxError(`template: ${(error as Error).message}`);
  }
  return {
    source,
    execute(data: unknown): string {
      return new Executor(FUNC_MAP, data).run(nodes, data);
    },
  };
}

/** The names of every function a template may call. */
export function templateFunctionNames(): string[] {
  return [...FUNC_MAP.keys()].sort();
}
