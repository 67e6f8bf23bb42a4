/**
 * The entrypoint's `readTimeout`: a client has this long, from the arrival
 * of its request, to send the whole body. A client that is slower gets
 * `408 Request Timeout` and `Connection: close`, as from nginx's
 * `client_body_timeout`, and the upstream request is cut.
 *
 * Deno's server has no socket deadlines, so the body is wrapped in a stream
 * with one timer per request. When it fires, the wrapper fails with
 * {@linkcode RequestBodyTimeout}:
 * - a middleware reading the body (retry's replay buffer, buffering, a
 *   plugin) throws it, and the chain answers with its 408 (it is a Hono
 *   `HTTPException`);
 * - `fetch`, sending the body upstream, rejects with its message as the
 *   cause, which the forwarder recognises ({@linkcode isRequestBodyTimeout})
 *   and answers 408. It is the client's fault, not the server's: the health
 *   gate does not count it.
 *
 * A wrapped body goes through JavaScript: Deno can no longer hand the
 * client's body to the upstream connection by itself. That roughly doubles
 * the CPU an upload costs (`deno task bench:upload`); `readTimeout: 0`
 * passes bodies through untouched, without a deadline.
 *
 * @module
 */
import { HTTPException } from "hono/http-exception";

const MESSAGE = "request body not received within readTimeout";

/** The client did not send its request body within the entrypoint's `readTimeout`. */
export class RequestBodyTimeout extends HTTPException {
  constructor() {
    super(408, { message: MESSAGE });
    this.name = "RequestBodyTimeout";
  }

  /** A fresh `408 Request Timeout` that closes the connection (the body was not read to its end). */
  override getResponse(): Response {
    return new Response("Request Timeout", {
      status: 408,
      headers: { "content-type": "text/plain; charset=utf-8", connection: "close" },
    });
  }
}

/**
 * Whether `error` is, or was caused by, a {@linkcode RequestBodyTimeout}.
 * `fetch` does not keep the error's class: its cause is a plain `Error`
 * with the message, so the message is what is compared.
 */
export function isRequestBodyTimeout(error: unknown): boolean {
  let e = error;
  for (let depth = 0; depth < 4 && e instanceof Error; depth++, e = e.cause) {
    if (e instanceof RequestBodyTimeout || e.message === MESSAGE) return true;
  }
  return false;
}

/**
 * The request with its body under a deadline of `ms` from now. The timer
 * stops when the body ends or is cancelled. When `settled` settles (the
 * response was delivered) the timer stops too, and a body nobody read to
 * its end is cancelled, so Deno can let go of it.
 *
 * @param request The request as it arrived (returned as is without a body, or with `ms <= 0`).
 * @param ms The deadline, in milliseconds.
 * @param settled Settles once the exchange is over (without it, only the body's end stops the timer).
 */
export function withReadDeadline(request: Request, ms: number, settled?: Promise<void>): Request {
  if (!request.body || ms <= 0) return request;
  const reader = request.body.getReader();
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  /** Stops the timer; with a reason, the client's body is cancelled and whoever reads this one gets `reason`. */
  const end = (reason?: unknown, controller?: ReadableStreamDefaultController<Uint8Array>) => {
    if (ended) return;
    ended = true;
    clearTimeout(timer);
    if (reason === undefined) return;
    controller?.error(reason);
    reader.cancel(reason).catch(() => {});
  };
  let over = () => {};
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      timer = setTimeout(() => end(new RequestBodyTimeout(), controller), ms);
      over = () =>
        end(new Error("request body no longer needed: the exchange is over"), controller);
    },
    async pull(controller) {
      try {
        const chunk = await reader.read();
        if (ended) return;
        if (chunk.done) {
          end();
          controller.close();
        } else {
          controller.enqueue(chunk.value);
        }
      } catch (error) {
        if (ended) return;
        end();
        controller.error(error);
      }
    },
    cancel(reason) {
      end(reason ?? new Error("request body cancelled"));
    },
  });
  settled?.then(() => over(), () => over());
  return new Request(request, { body, duplex: "half" } as RequestInit);
}
