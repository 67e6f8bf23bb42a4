/**
 * The baseline: the smallest sensible Deno forwarding proxy — `Deno.serve`
 * plus `fetch` with a pooled client, method, headers and body passed through.
 * Usage: deno run --allow-net bench/_minimal_proxy.ts <port> <upstream-origin>
 * @module
 */
const port = Number(Deno.args[0] ?? 0);
const upstream = Deno.args[1]!;
const client = Deno.createHttpClient({ allowHost: true });
Deno.serve(
  { hostname: "127.0.0.1", port, onListen: (a) => console.log(`listening ${a.port}`) },
  (req) => {
    const url = new URL(req.url);
    return fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers: req.headers,
      body: req.body,
      client,
    });
  },
);
