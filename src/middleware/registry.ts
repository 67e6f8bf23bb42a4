/**
 * The middleware registry: every middleware type Pacer knows, built-ins and
 * loaded plugins, each a {@linkcode PluginDefinition}. Resolves a raw
 * middleware entry (`{ stripPrefix: {...} }`, `{ plugin: { name: {...} } }`)
 * to its definition and validated options.
 *
 * @module
 */
import { z } from "zod";
import type { PluginDefinition } from "../plugin/plugin.ts";
import { canonicalizeKeys } from "../config/schema_walk.ts";
import { formatIssues } from "../config/issues.ts";

/** A registered middleware type. */
export interface RegisteredType {
  /** Canonical type name (`stripPrefix`) or plugin name. */
  readonly type: string;
  // deno-lint-ignore no-explicit-any
  readonly definition: PluginDefinition<any>;
  /** `builtin`, or the module specifier a plugin was loaded from. */
  readonly source: string;
}

/** A middleware entry resolved to its type and validated options. */
export type ResolvedMiddleware =
  | {
    ok: true;
    type: string;
    kind: "builtin" | "plugin";
    registered: RegisteredType;
    options: unknown;
  }
  | { ok: false; error: string };

/** Options of {@linkcode MiddlewareRegistry.register}. */
export interface RegisterOptions {
  /** Other accepted type names (Traefik v2's `ipWhiteList` for `ipAllowList`). */
  readonly aliases?: readonly string[];
}

/** The set of middleware types a configuration may use. */
export class MiddlewareRegistry {
  readonly #builtins = new Map<string, RegisteredType>();
  readonly #plugins = new Map<string, RegisteredType>();
  #schema: z.ZodType | undefined;

  /**
   * Registers a built-in type, addressed as `<type>: {...}` in configuration.
   * @throws {TypeError} If the name is taken.
   */
  // deno-lint-ignore no-explicit-any
  register(definition: PluginDefinition<any>, options: RegisterOptions = {}): this {
    for (const name of [definition.name, ...(options.aliases ?? [])]) {
      const key = name.toLowerCase();
      if (this.#builtins.has(key) || key === "plugin") {
        throw new TypeError(`Cannot register middleware '${name}': the name is taken`);
      }
      this.#builtins.set(key, { type: name, definition, source: "builtin" });
    }
    this.#schema = undefined;
    return this;
  }

  /**
   * Registers a plugin, addressed as `plugin: { <name>: {...} }`.
   * @throws {TypeError} If a plugin of that name is already registered.
   */
  // deno-lint-ignore no-explicit-any
  registerPlugin(name: string, definition: PluginDefinition<any>, source: string): this {
    const key = name.toLowerCase();
    if (this.#plugins.has(key)) {
      throw new TypeError(`Cannot register plugin '${name}': the name is taken`);
    }
    this.#plugins.set(key, { type: name, definition, source });
    this.#schema = undefined;
    return this;
  }

  /** Built-in types, in registration order (aliases included). */
  builtins(): RegisteredType[] {
    return [...this.#builtins.values()];
  }

  /** Loaded plugins. */
  plugins(): RegisteredType[] {
    return [...this.#plugins.values()];
  }

  /** Looks a built-in type up, case-insensitively. */
  get(type: string): RegisteredType | undefined {
    return this.#builtins.get(type.toLowerCase());
  }

  /** Looks a plugin up, case-insensitively. */
  getPlugin(name: string): RegisteredType | undefined {
    return this.#plugins.get(name.toLowerCase());
  }

  /**
   * A schema of a whole middleware entry (every type as an optional key, and
   * `plugin`), used to canonicalize option names and to type Marathon labels.
   */
  schema(): z.ZodType {
    if (this.#schema) return this.#schema;
    const shape: Record<string, z.ZodType> = {};
    for (const { type, definition } of this.#builtins.values()) {
      shape[type] = definition.config.optional();
    }
    const plugins: Record<string, z.ZodType> = {};
    for (const { type, definition } of this.#plugins.values()) {
      plugins[type] = definition.config.optional();
    }
    shape.plugin = z.strictObject(plugins).optional();
    return this.#schema = z.strictObject(shape);
  }

  /** Resolves and validates one raw middleware entry. Never throws. */
  resolve(entry: unknown): ResolvedMiddleware {
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) {
      return { ok: false, error: "a middleware must be an object with one key naming its type" };
    }
    const keys = Object.keys(entry);
    if (keys.length !== 1) {
      return {
        ok: false,
        error: keys.length === 0
          ? "a middleware needs a type, e.g. stripPrefix: {prefixes: [/api]}"
          : `a middleware must have exactly one type, got ${keys.join(", ")}`,
      };
    }
    const key = keys[0]!;
    const raw = (entry as Record<string, unknown>)[key];
    if (key.toLowerCase() === "plugin") {
      if (typeof raw !== "object" || raw === null || Object.keys(raw).length !== 1) {
        return { ok: false, error: "plugin must have exactly one key: the plugin's name" };
      }
      const [name, options] = Object.entries(raw)[0]!;
      const registered = this.getPlugin(name);
      if (!registered) {
        const known = this.plugins().map((p) => p.type);
        return {
          ok: false,
          error: `unknown plugin '${name}'` +
            (known.length
              ? ` (loaded plugins: ${known.join(", ")})`
              : " (no plugins are loaded; declare it under 'plugins' in the static configuration)"),
        };
      }
      return this.#validate(registered, "plugin", options, `plugin.${registered.type}`);
    }
    const registered = this.get(key);
    if (!registered) {
      const unsupported = UNSUPPORTED_TRAEFIK_TYPES.get(key.toLowerCase());
      return {
        ok: false,
        error: unsupported
          ? `Traefik's '${key}' middleware is not supported by Pacer: ${unsupported}`
          : `unknown middleware type '${key}'${suggest(key, this.builtins().map((b) => b.type))}`,
      };
    }
    return this.#validate(registered, "builtin", raw, registered.type);
  }

  #validate(
    registered: RegisteredType,
    kind: "builtin" | "plugin",
    raw: unknown,
    prefix: string,
  ): ResolvedMiddleware {
    const schema = registered.definition.config;
    let result;
    try {
      result = schema.safeParse(canonicalizeKeys(schema, raw ?? {}));
    } catch (error) {
      // A plugin's schema (a transform, a refinement) threw instead of reporting an issue.
      return {
        ok: false,
        error: `${prefix}: the plugin's option schema failed: ${
          (error as Error)?.message ?? error
        }`,
      };
    }
    if (!result.success) {
      return { ok: false, error: formatIssues(result.error.issues, prefix) };
    }
    return { ok: true, type: registered.type, kind, registered, options: result.data };
  }
}

/**
 * Traefik middlewares Pacer knowingly lacks, by lower-cased type, with why:
 * a Traefik user's configuration should say so, not "unknown".
 */
const UNSUPPORTED_TRAEFIK_TYPES = new Map([
  [
    "passtlsclientcert",
    "Deno's server cannot ask clients for certificates, so there are none to pass",
  ],
  [
    "grpcweb",
    "Pacer does not proxy gRPC (Deno's HTTP client and server carry no trailers)",
  ],
]);

function suggest(name: string, known: string[]): string {
  const lower = name.toLowerCase();
  const close = known.find((k) => {
    const kl = k.toLowerCase();
    return kl.startsWith(lower.slice(0, 4)) || lower.startsWith(kl.slice(0, 4));
  });
  return close ? ` (did you mean '${close}'?)` : "";
}
