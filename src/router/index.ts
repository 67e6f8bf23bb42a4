/**
 * The router index: finds the first router, in priority order, whose rule
 * matches a request, without trying every router.
 *
 * ## Order
 *
 * Routers are tried by descending priority (explicit, else the rule's length
 * in bytes; an explicit 0 counts as unset), as Traefik's muxer. Traefik
 * breaks no ties: its `routes.Less` compares priorities only, `sort.Sort` is
 * not stable and routers arrive in Go map order, so two routers with the same
 * priority are tried in an order that can change from one configuration
 * reload to the next. Pacer makes it deterministic: equal priorities are
 * tried by router name (ascending, code unit order), then by position in the
 * input.
 *
 * ## Index
 *
 * Each rule's constraint (see `constraints.ts`) says which hosts and which
 * exact paths or path prefixes it can match. Rules are filed under every host
 * they require, less one trailing dot (rules that require none go to a shared
 * bucket), and within a
 * host bucket under their exact paths, in a radix tree of their path prefixes,
 * or in a remainder list. A request collects the lists of its host bucket and
 * of the shared bucket that apply to its routing path; every list is already
 * in priority order, and the lists are merged by order and the rules tried
 * until one matches. Since a rule outside the collected lists cannot match,
 * the result is the same as trying all routers in priority order.
 *
 * @module
 */
import type { Leaf } from "./_matcher.ts";
import { defaultPriority, Rule } from "./compile.ts";
import type { PathConstraint } from "./constraints.ts";
import { MatchContext } from "./request.ts";
import type { RequestFacts, RouteEntry } from "./types.ts";

interface Slot<T> {
  /** Rank in the global priority order (0 first). */
  readonly order: number;
  readonly entry: RouteEntry<T>;
  readonly test: Leaf;
}

interface RadixNode<T> {
  slots: Slot<T>[] | undefined;
  edges: Map<number, RadixEdge<T>> | undefined;
}

interface RadixEdge<T> {
  label: string;
  node: RadixNode<T>;
}

/** Rules of one host scope, filed by path. */
class PathBucket<T> {
  // Made on first use: most buckets of a large table hold one rule.
  #exact: Map<string, Slot<T>[]> | undefined;
  #prefixes: RadixNode<T> | undefined;
  #rest: Slot<T>[] | undefined;

  /** Files a slot; slots must arrive in priority order. */
  add(slot: Slot<T>, paths: PathConstraint | undefined): void {
    if (paths === undefined) {
      (this.#rest ??= []).push(slot);
      return;
    }
    for (const path of paths.exact) {
      const exact = this.#exact ??= new Map();
      const list = exact.get(path);
      if (list === undefined) exact.set(path, [slot]);
      else list.push(slot);
    }
    for (const prefix of paths.prefixes) {
      insert(this.#prefixes ??= { slots: undefined, edges: undefined }, prefix, slot);
    }
  }

  /** Appends the lists that may hold a rule matching this request. */
  collect(ctx: MatchContext, into: Slot<T>[][]): void {
    if (this.#rest !== undefined) into.push(this.#rest);
    const path = ctx.path;
    const exact = this.#exact?.get(path);
    if (exact !== undefined) into.push(exact);
    if (this.#prefixes !== undefined) lookup(this.#prefixes, path, into);
  }
}

/**
 * The bucket a host is filed under: the host without one trailing dot. A
 * rule's host hints come in pairs (`a` and `a.`, see `hostKeys`), so this
 * halves the buckets; and since a request host a rule accepts is among its
 * hints, the rule is always in the bucket of that host's key.
 */
function bucketKey(host: string): string {
  return host.length > 1 && host.charCodeAt(host.length - 1) === 46 ? host.slice(0, -1) : host;
}

function insert<T>(root: RadixNode<T>, key: string, slot: Slot<T>): void {
  let node = root;
  let i = 0;
  for (;;) {
    if (i === key.length) {
      (node.slots ??= []).push(slot);
      return;
    }
    const first = key.charCodeAt(i);
    const edge = node.edges?.get(first);
    if (edge === undefined) {
      (node.edges ??= new Map()).set(first, {
        label: key.slice(i),
        node: { slots: [slot], edges: undefined },
      });
      return;
    }
    const label = edge.label;
    let common = 0;
    while (
      common < label.length && i + common < key.length &&
      label.charCodeAt(common) === key.charCodeAt(i + common)
    ) common++;
    if (common < label.length) {
      // Split the edge where the new key leaves it.
      const rest: RadixEdge<T> = { label: label.slice(common), node: edge.node };
      edge.node = { slots: undefined, edges: new Map([[label.charCodeAt(common), rest]]) };
      edge.label = label.slice(0, common);
    }
    node = edge.node;
    i += common;
  }
}

function lookup<T>(root: RadixNode<T>, path: string, into: Slot<T>[][]): void {
  let node: RadixNode<T> = root;
  let i = 0;
  for (;;) {
    if (node.slots !== undefined) into.push(node.slots);
    if (i === path.length || node.edges === undefined) return;
    const edge = node.edges.get(path.charCodeAt(i));
    if (edge === undefined || !path.startsWith(edge.label, i)) return;
    i += edge.label.length;
    node = edge.node;
  }
}

/** How an entry's rule is evaluated: compiled rules directly, others through `match`. */
function testOf<T>(entry: RouteEntry<T>): Leaf {
  const rule = entry.rule;
  if (rule instanceof Rule) return rule.test;
  return (ctx) => {
    try {
      return rule.match(ctx.req) === true;
    } catch {
      return false;
    }
  };
}

/**
 * Routers of one entry point, indexed by host and path.
 *
 * @example
 * ```ts
 * const index = new RouterIndex([
 *   { name: "api@file", rule: compileRule("Host(`a.example`) && PathPrefix(`/api`)"), value: "api" },
 *   { name: "web@file", rule: compileRule("Host(`a.example`)"), value: "web" },
 * ]);
 * index.match(requestFacts(request, "192.0.2.1"))?.value; // "api" for /api/users
 * ```
 */
export class RouterIndex<T> {
  readonly #size: number;
  readonly #byHost = new Map<string, PathBucket<T>>();
  readonly #anyHost = new PathBucket<T>();
  readonly #ordered: readonly Slot<T>[];
  // Scratch state reused by every match (matching is synchronous).
  readonly #ctx = new MatchContext();
  readonly #lists: Slot<T>[][] = [];
  readonly #heads: number[] = [];

  /**
   * Indexes routers.
   *
   * @param entries The routers; names should be unique (they order equal priorities).
   */
  constructor(entries: Iterable<RouteEntry<T>>) {
    const ranked = [...entries].map((entry, position) => {
      const explicit = entry.priority ?? 0;
      const priority = explicit === 0 ? defaultPriority(entry.rule.rule) : explicit;
      return { entry, position, priority };
    });
    ranked.sort((a, b) =>
      b.priority - a.priority ||
      (a.entry.name < b.entry.name ? -1 : a.entry.name > b.entry.name ? 1 : 0) ||
      a.position - b.position
    );
    this.#size = ranked.length;
    this.#ordered = ranked.map(({ entry }, order) => ({ order, entry, test: testOf(entry) }));
    for (const slot of this.#ordered) {
      const rule = slot.entry.rule;
      const constraint = rule instanceof Rule ? rule.constraint : {};
      if (constraint.hosts === undefined) {
        this.#anyHost.add(slot, constraint.paths);
        continue;
      }
      // An empty host set never matches: the rule is filed nowhere.
      const keys = new Set<string>();
      for (const host of constraint.hosts) keys.add(bucketKey(host));
      for (const key of keys) {
        let bucket = this.#byHost.get(key);
        if (bucket === undefined) this.#byHost.set(key, bucket = new PathBucket<T>());
        bucket.add(slot, constraint.paths);
      }
    }
  }

  /** Number of routers indexed. */
  get size(): number {
    return this.#size;
  }

  /**
   * Finds the router that serves a request.
   *
   * @param req The request.
   * @returns The first matching router in priority order, or `undefined`.
   */
  match(req: RequestFacts): RouteEntry<T> | undefined {
    const ctx = this.#collect(req);
    const lists = this.#lists;
    if (lists.length === 0) return undefined;
    if (lists.length === 1) {
      for (const slot of lists[0]!) if (slot.test(ctx)) return slot.entry;
      return undefined;
    }
    return this.#merge(ctx, true);
  }

  /**
   * Diagnostics: the routers the index would try for a request, in order
   * (those whose host and path conditions the request meets).
   *
   * @param req The request.
   * @returns The candidate routers, highest priority first.
   */
  candidates(req: RequestFacts): RouteEntry<T>[] {
    const ctx = this.#collect(req);
    const found: RouteEntry<T>[] = [];
    this.#merge(ctx, false, found);
    return found;
  }

  #collect(req: RequestFacts): MatchContext {
    const ctx = this.#ctx.reset(req);
    const lists = this.#lists;
    lists.length = 0;
    if (ctx.host !== "") this.#byHost.get(bucketKey(ctx.host))?.collect(ctx, lists);
    this.#anyHost.collect(ctx, lists);
    return ctx;
  }

  /** Walks the collected lists in priority order, each router once. */
  #merge(ctx: MatchContext, test: boolean, found?: RouteEntry<T>[]): RouteEntry<T> | undefined {
    const lists = this.#lists;
    const heads = this.#heads;
    const n = lists.length;
    for (let i = 0; i < n; i++) heads[i] = 0;
    let last = -1;
    for (;;) {
      let best = -1;
      let bestOrder = Infinity;
      for (let i = 0; i < n; i++) {
        const list = lists[i]!;
        const head = heads[i]!;
        if (head < list.length && list[head]!.order < bestOrder) {
          bestOrder = list[head]!.order;
          best = i;
        }
      }
      if (best < 0) return undefined;
      const slot = lists[best]![heads[best]!++]!;
      // A rule filed under several collected lists comes up once per list.
      if (slot.order === last) continue;
      last = slot.order;
      if (!test) found?.push(slot.entry);
      else if (slot.test(ctx)) return slot.entry;
    }
  }
}
