/**
 * Holds the live generation and swaps it atomically (Traefik
 * `pkg/middlewares/handler_switcher.go`): a request is dispatched to
 * whichever generation is live when it arrives and finishes there, even if
 * another one is swapped in meanwhile.
 *
 * @module
 */
import type { ServerPool } from "../service/pool.ts";
import type { Arrival, Generation } from "./generation.ts";

/** Dispatches requests to the live generation. */
export class HandlerSwitcher {
  #current: Generation | undefined;
  readonly #pool: ServerPool;

  constructor(pool: ServerPool) {
    this.#pool = pool;
  }

  /** The live generation, if any configuration was applied yet. */
  get current(): Generation | undefined {
    return this.#current;
  }

  /** Makes `next` live; servers it drops start draining; the old generation retires. */
  swap(next: Generation): void {
    const previous = this.#current;
    this.#current = next;
    next.activate(this.#pool);
    previous?.retire();
  }

  /** Routes a request on the live generation (404 before any configuration). */
  handle(request: Request, arrival: Arrival): Promise<Response> {
    const generation = this.#current;
    if (!generation) {
      return Promise.resolve(
        new Response("404 page not found\n", {
          status: 404,
          headers: { "content-type": "text/plain; charset=utf-8" },
        }),
      );
    }
    return generation.handle(request, arrival);
  }

  /** Retires the live generation (Pacer is stopping). */
  close(): void {
    this.#current?.retire();
  }
}
