/**
 * Traefik's `mirroring` service: every request goes to the main service,
 * which answers the client; a share of the requests (`percent`) is also sent
 * to each mirror, whose answers are read and thrown away. Shadow traffic for
 * trying a new version on real requests without exposing its answers.
 *
 * As in Traefik:
 * - which requests a mirror gets is counted, not drawn: after N requests a
 *   mirror at p percent has had ⌈N·p/100⌉ of them;
 * - with `mirrorBody` (the default) the body is read into memory before the
 *   main service is called, so all get the same bytes; a body larger than
 *   `maxBodySize` (-1: no limit) goes to the main service alone, streamed;
 * - mirrors are called one after the other, never cancelled by the client,
 *   and a request whose client left before the main service answered is not
 *   mirrored;
 * - the service is as available as its main service (its `healthCheck: {}`).
 *
 * Unlike Traefik, mirrors are sent once the main service's response headers
 * arrive rather than after its body was written (a long stream would delay
 * them indefinitely); WebSocket upgrades are not mirrored (a socket cannot
 * be copied); and with `mirrorBody: false` a mirror gets no body and no
 * `Content-Length`, rather than the drained original body.
 *
 * @module
 */
import type { Context } from "hono";
import "./context.ts";
import { failureResponse } from "./forward.ts";
import type { ServiceNode } from "./load_balancer.ts";
import type { UpstreamServer } from "./server.ts";
import type { Logger } from "../log/logger.ts";
import { isRequestBodyTimeout } from "../server/read_deadline.ts";
import { readAtMost } from "../util/body_head.ts";
import { derivedRequest } from "../util/derived_request.ts";
import { headerPairs } from "../util/headers.ts";

/**
 * Sends a request to a mirror service outside the client's request: a
 * fresh context, the caller's policies (health gate, drain), no delivery
 * promise, no access log record.
 */
export type MirrorCall = (request: Request, c: Context) => Promise<Response>;

/** One mirror of a {@linkcode MirroringService}. */
export interface Mirror {
  /** The mirror service (for its servers and its name in logs). */
  readonly service: ServiceNode;
  /** Share of requests mirrored to it, 0–100. */
  readonly percent: number;
  /** How a request reaches it. */
  readonly call: MirrorCall;
}

/** Options of a {@linkcode MirroringService}. */
export interface MirroringOptions {
  /** Whether mirrors get the request body (Traefik's default: true). */
  readonly mirrorBody: boolean;
  /** Largest body mirrored, in bytes; -1 for no limit (Traefik's default). */
  readonly maxBodySize: number;
  readonly log: Logger;
}

/** Headers that describe a body a mirror without one must not claim. */
const BODY_FRAMING = new Set(["content-length", "transfer-encoding"]);

/** Traefik's `mirroring` service. */
export class MirroringService implements ServiceNode {
  readonly name: string;
  readonly #main: ServiceNode;
  readonly #mirrors: readonly Mirror[];
  /** Requests each mirror has been sent, by index (Traefik's per-mirror `count`). */
  readonly #sent: number[];
  readonly #options: MirroringOptions;
  /** Requests seen (Traefik's `total`). */
  #total = 0;
  /** Mirror sends still running. */
  readonly #pending = new Set<Promise<void>>();

  constructor(
    name: string,
    main: ServiceNode,
    mirrors: readonly Mirror[],
    options: MirroringOptions,
  ) {
    this.name = name;
    this.#main = main;
    this.#mirrors = mirrors;
    this.#sent = mirrors.map(() => 0);
    this.#options = options;
  }

  servers(): readonly UpstreamServer[] {
    return [...this.#main.servers(), ...this.#mirrors.flatMap((m) => m.service.servers())];
  }

  available(c: Context, now: number): boolean {
    return this.#main.available(c, now);
  }

  /** Settles once every mirror request started so far has ended (for tests). */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.all(this.#pending);
  }

  async handle(c: Context): Promise<Response> {
    const mirrors = this.#activeMirrors();
    const request = c.req.raw;
    if (mirrors.length === 0 || request.headers.get("upgrade")?.toLowerCase() === "websocket") {
      return this.#main.handle(c);
    }
    let body: Uint8Array<ArrayBuffer> | null = null;
    if (this.#options.mirrorBody && request.body) {
      const read = await this.#readBody(c, request);
      if (read instanceof Response) return read;
      if (!read) return this.#main.handle(c);
      body = read;
      c.req.raw = derivedRequest(request, { body });
    }
    const template = c.req.raw;
    const response = await this.#main.handle(c);
    const client = c.get("upgradeRequest") ?? request;
    if (client.signal.aborted) {
      this.#options.log.debug("No mirroring: the client left before the main service answered", {
        service: this.name,
      });
      return response;
    }
    this.#track(this.#send(mirrors, template, body, c));
    return response;
  }

  /**
   * Which mirrors get this request: a mirror at p percent gets it while it
   * has had fewer than p% of all requests (Traefik's `getActiveMirrors`).
   */
  #activeMirrors(): Mirror[] {
    const total = ++this.#total;
    const active: Mirror[] = [];
    for (let i = 0; i < this.#mirrors.length; i++) {
      const mirror = this.#mirrors[i]!;
      if (this.#sent[i]! * 100 < total * mirror.percent) {
        this.#sent[i]!++;
        active.push(mirror);
      }
    }
    return active;
  }

  /**
   * Reads the body for the mirrors. Returns the bytes; `undefined` when it
   * is larger than `maxBodySize` (then `c.req.raw` streams it whole to the
   * main service alone); or the answer when the client failed to send it.
   */
  async #readBody(
    c: Context,
    request: Request,
  ): Promise<Uint8Array<ArrayBuffer> | Response | undefined> {
    const max = this.#options.maxBodySize < 0 ? Infinity : this.#options.maxBodySize;
    const declared = Number(request.headers.get("content-length") ?? NaN);
    if (declared > max) {
      this.#tooLarge(declared);
      return undefined;
    }
    try {
      const head = await readAtMost(request.body!, max);
      if (head.complete) return head.bytes;
      c.req.raw = derivedRequest(request, { body: head.body });
      this.#tooLarge(head.size);
      return undefined;
    } catch (error) {
      if (isRequestBodyTimeout(error)) {
        return failureResponse(408, "Request Timeout", { kind: "client-timeout", error }, {
          connection: "close",
        });
      }
      return failureResponse(499, "Client Closed Request", { kind: "client-gone", error });
    }
  }

  #tooLarge(size: number): void {
    this.#options.log.debug("No mirroring: the request body is larger than maxBodySize", {
      service: this.name,
      maxBodySize: this.#options.maxBodySize,
      bodySize: size,
    });
  }

  /** Sends the request to each mirror in turn, reading and dropping the answers. */
  async #send(
    mirrors: readonly Mirror[],
    template: Request,
    body: Uint8Array<ArrayBuffer> | null,
    c: Context,
  ): Promise<void> {
    const headers = body === null
      ? headerPairs(template.headers).filter(([name]) => !BODY_FRAMING.has(name))
      : headerPairs(template.headers);
    for (const mirror of mirrors) {
      const request = new Request(template.url, {
        method: template.method,
        headers,
        ...(body === null ? {} : { body }),
      });
      try {
        const response = await mirror.call(request, c);
        await response.body?.pipeTo(new WritableStream());
      } catch (error) {
        this.#options.log.debug("Mirror request failed", {
          service: this.name,
          mirror: mirror.service.name,
          error,
        });
      }
    }
  }

  #track(work: Promise<void>): void {
    this.#pending.add(work);
    work.finally(() => this.#pending.delete(work));
  }
}
