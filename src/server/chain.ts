/**
 * A router's middleware chain, composed with Hono's semantics (a handler's
 * returned Response becomes `c.res`; an error is turned into a response at
 * the level that threw, so outer middlewares still run) but without a Hono
 * app per router: no route matching is needed once the router index chose.
 *
 * A middleware that declares `replaysDownstream` splits the chain: what
 * follows it is compiled as its own segment, and the middleware gets a
 * {@linkcode Downstream} that runs that segment with a **fresh** context
 * per call, inheriting the caller's variables. That is how retry re-runs
 * health-gate, drain and the service for each attempt, which Hono's
 * `next()` (callable once) cannot.
 *
 * @module
 */
import { Context, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { Logger } from "../log/logger.ts";
import type { Downstream } from "../plugin/plugin.ts";
import type { PacerEnv } from "./env.ts";

/** The env a chain segment receives: connection facts plus inherited variables. */
export interface ChainEnv extends PacerEnv {
  /** Context variables copied into the segment's fresh context. */
  readonly vars: Readonly<Record<string, unknown>>;
}

/** A compiled chain segment. */
export type ChainHandler = (request: Request, env: ChainEnv) => Promise<Response>;

/**
 * The downstream segments of the **live** generation, by key. A replaying
 * middleware (retry) built by an older generation looks its segment up here
 * on every call, so an attempt made after a reload runs on the newest
 * configuration — a request that started while a task was dying is retried
 * on the servers that replaced it. Falls back to its own segment when the
 * live generation has no such segment (the router or its retry is gone).
 */
export class LiveSegments {
  #segments: ReadonlyMap<string, ChainHandler> = new Map();

  /** The live segment for `key`, if any. */
  get(key: string): ChainHandler | undefined {
    return this.#segments.get(key);
  }

  /** Makes a generation's segments the live ones (at activation). */
  replace(segments: ReadonlyMap<string, ChainHandler>): void {
    this.#segments = segments;
  }
}

/** Where a compiled chain registers its replayable segments. */
export interface SegmentRegistry {
  /** Segments of the generation being built, by key. */
  readonly own: Map<string, ChainHandler>;
  /** The live generation's segments (absent: always use the own segment). */
  readonly live?: LiveSegments;
  /** Prefix of this chain's keys: router and entrypoint-middleware variant. */
  readonly prefix: string;
}

/** One middleware of a chain, as built for one router. */
export interface ChainLink {
  /** Qualified middleware instance name (for logs). */
  readonly middleware: string;
  /** Plugin/type name (for logs). */
  readonly plugin: string;
  /** Creates the handler; `downstream` is given to replaying middlewares. */
  create(downstream?: Downstream): Promise<MiddlewareHandler>;
  readonly replaysDownstream: boolean;
}

/** The raw path of a URL string, without query (what Hono's `c.req.path` holds). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  let end = url.indexOf("?", start);
  if (end < 0) end = url.indexOf("#", start);
  return end < 0 ? url.slice(start) : url.slice(start, end);
}

/**
 * Hono's `Context` with its variables in a plain object instead of a `Map`:
 * handing them to a downstream segment through `c.var` would rebuild them
 * with `Object.fromEntries` on every retried request (about 2 µs).
 * `set`, `get` and `var` behave as Hono's do.
 */
class ChainContext extends Context {
  readonly #vars: Record<string, unknown>;

  constructor(request: Request, env: ChainEnv) {
    super(request, { env, path: pathOf(request.url) });
    this.#vars = Object.assign(Object.create(null), env.vars);
  }

  override set = ((key: string, value: unknown) => {
    this.#vars[key] = value;
  }) as unknown as Context["set"];

  override get = ((key: string) => this.#vars[key]) as unknown as Context["get"];

  override get var(): Context["var"] {
    return { ...this.#vars } as Context["var"];
  }

  /** The variables themselves, not a copy (the next segment copies them). */
  variables(): Readonly<Record<string, unknown>> {
    return this.#vars;
  }
}

/** The variables a downstream segment inherits from `c`. */
function variablesOf(c: Context): Readonly<Record<string, unknown>> {
  return c instanceof ChainContext ? c.variables() : c.var as Record<string, unknown>;
}

function errorResponse(error: unknown): Response | undefined {
  if (error instanceof HTTPException) return error.getResponse();
  return undefined;
}

/** A middleware of a compiled segment, with the names its errors are logged under. */
interface Step {
  readonly handler: MiddlewareHandler;
  readonly middleware: string;
  readonly plugin: string;
}

/** Who failed when the service (the segment's terminal) throws. */
const SERVICE = { middleware: "(service)", plugin: "service" } as const;

/** Shared by every segment without middlewares (most, in a large table). */
const NO_STEPS: readonly Step[] = Object.freeze([]);

/**
 * One compiled segment: `steps` in order, then `terminal`, with Hono's
 * `compose` semantics. A class, not a closure per router: a table of 10,000
 * routers holds 20,000 of these.
 */
class Segment {
  readonly #steps: readonly Step[];
  readonly #terminal: (c: Context) => Promise<Response>;
  readonly #router: string;
  readonly #log: Logger;

  constructor(
    steps: readonly Step[],
    terminal: (c: Context) => Promise<Response>,
    fields: { router: string; log: Logger },
  ) {
    this.#steps = steps.length === 0 ? NO_STEPS : steps;
    this.#terminal = terminal;
    this.#router = fields.router;
    this.#log = fields.log;
  }

  async run(c: Context): Promise<Response> {
    const steps = this.#steps;
    let index = -1;
    const dispatch = async (i: number): Promise<void> => {
      if (i <= index) throw new Error("next() called multiple times");
      index = i;
      let res: Response | void;
      let isError = false;
      const step = steps[i];
      try {
        res = step ? await step.handler(c, () => dispatch(i + 1)) : await this.#terminal(c);
      } catch (error) {
        res = this.#fail(error, c, step ?? SERVICE);
        isError = true;
      }
      if (res && (c.finalized === false || isError)) c.res = res;
    };
    await dispatch(0);
    return c.res;
  }

  #fail(error: unknown, c: Context, who: { middleware: string; plugin: string }): Response {
    const known = errorResponse(error);
    if (known) return known;
    this.#log.error("Middleware failed while handling a request", {
      router: this.#router,
      middleware: who.middleware,
      plugin: who.plugin,
      method: c.req.method,
      path: c.req.path,
      error,
    });
    return new Response("Internal Server Error", {
      status: 500,
      headers: { "content-type": "text/plain; charset=utf-8" },
    });
  }
}

/** The handler of a segment (made here so it holds the segment and nothing else). */
function segmentHandler(segment: Segment): ChainHandler {
  return (request, env) => segment.run(new ChainContext(request, env));
}

/**
 * The {@linkcode Downstream} of a replaying middleware: runs the live
 * generation's segment under `key` (else `rest`) with a fresh context that
 * inherits the caller's variables.
 */
function downstreamOf(rest: ChainHandler, key: string, live?: LiveSegments): Downstream {
  return (c, request) =>
    (live?.get(key) ?? rest)(request, { ...(c.env as ChainEnv), vars: variablesOf(c) });
}

/** If the replaying middleware calls next() anyway, the rest runs once. */
function runOnce(downstream: Downstream): (c: Context) => Promise<Response> {
  return (c) => downstream(c, c.req.raw);
}

/**
 * Compiles a chain: `links` in order, then `terminal` (the service).
 * Returns the handler the router index dispatches to.
 */
export async function compileChain(
  links: readonly ChainLink[],
  terminal: (c: Context) => Promise<Response>,
  fields: { router: string; log: Logger },
  segments?: SegmentRegistry,
): Promise<ChainHandler> {
  const split = links.findIndex((l) => l.replaysDownstream);
  let segmentTerminal = terminal;
  let own = links;
  let tailHandlers: Awaited<ReturnType<ChainLink["create"]>>[] = [];
  if (split >= 0) {
    const rest = await compileChain(links.slice(split + 1), terminal, fields, segments);
    // Keyed by the replaying middleware and what follows it, so only an equivalent segment is used.
    const key = `${segments?.prefix}|${links.slice(split).map((l) => l.middleware).join(">")}`;
    segments?.own.set(key, rest);
    const downstream = downstreamOf(rest, key, segments?.live);
    own = links.slice(0, split);
    tailHandlers = [await links[split]!.create(downstream)];
    segmentTerminal = runOnce(downstream);
  }
  const steps: Step[] = [];
  for (const link of own) {
    steps.push({ handler: await link.create(), middleware: link.middleware, plugin: link.plugin });
  }
  if (split >= 0) {
    const link = links[split]!;
    steps.push({ handler: tailHandlers[0]!, middleware: link.middleware, plugin: link.plugin });
  }
  return segmentHandler(new Segment(steps, segmentTerminal, fields));
}
