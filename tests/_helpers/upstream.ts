/**
 * Real upstream servers for tests: `Deno.serve` on 127.0.0.1, port 0,
 * closed by `await using`.
 *
 * @module
 */

/** A running test upstream. */
export interface Upstream extends AsyncDisposable {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Requests seen so far (method, path, headers). */
  readonly seen: { method: string; path: string; headers: Headers }[];
  close(): Promise<void>;
}

/**
 * Starts an upstream. The default handler answers `name` as text, so tests
 * can tell servers apart.
 */
export function upstream(
  name = "up",
  handler?: (request: Request) => Response | Promise<Response>,
  options: { hostname?: string } = {},
): Promise<Upstream> {
  const seen: Upstream["seen"] = [];
  return new Promise((resolve) => {
    const server = Deno.serve(
      {
        hostname: options.hostname ?? "127.0.0.1",
        port: 0,
        onListen(addr) {
          let closed: Promise<void> | undefined;
          const close = () => closed ??= server.shutdown();
          resolve({
            url: `http://${addr.hostname}:${addr.port}`,
            port: addr.port,
            seen,
            close,
            [Symbol.asyncDispose]: close,
          });
        },
      },
      (request) => {
        const url = new URL(request.url);
        seen.push({
          method: request.method,
          path: url.pathname + url.search,
          // Copied: a request's headers cannot be read once it has ended.
          headers: new Headers(request.headers),
        });
        return handler ? handler(request) : new Response(name);
      },
    );
  });
}

/** A port on 127.0.0.1 nothing listens on (bound, then released). */
export function closedPort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/**
 * An upstream handler that answers only once its request is aborted (or
 * "never aborted" after 3 s), calling `onAbort` first: for tests of a
 * client going away while Pacer waits for response headers.
 */
export function answerWhenAborted(
  onAbort: () => void,
): (request: Request) => Promise<Response> {
  return (request) =>
    new Promise<Response>((resolve) => {
      const giveUp = setTimeout(() => resolve(new Response("never aborted")), 3_000);
      request.signal.addEventListener("abort", () => {
        clearTimeout(giveUp);
        onAbort();
        resolve(new Response("gone"));
      });
    });
}
