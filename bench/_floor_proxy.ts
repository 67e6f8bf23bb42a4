/**
 * The floor: the minimal proxy (`_minimal_proxy.ts`) plus only what issue 2
 * requires of every forwarded request, written as cheaply as Deno allows.
 * No routing, no middleware chain, no load balancing. It shows how much of
 * Pacer's ratio to the minimal proxy the requirements alone cost:
 *
 * - incoming `X-Forwarded-*`/`X-Real-Ip` dropped (an untrusted client),
 *   hop-by-hop headers and those named in `Connection` dropped, in one pass;
 * - `X-Forwarded-For/-Proto/-Host/-Port/-Server` and `X-Real-Ip` added;
 * - an abort signal on the upstream request (Pacer aborts it when the client
 *   goes away, at the header timeout, or when the server is forgotten);
 * - hop-by-hop headers stripped from the response when it has any.
 *
 * Usage: deno run --allow-net bench/_floor_proxy.ts <port> <upstream-origin>
 * @module
 */
const port = Number(Deno.args[0] ?? 0);
const upstream = Deno.args[1]!;
const client = Deno.createHttpClient({ allowHost: true });
const HOP_BY_HOP = [
  "connection",
  "proxy-connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];
const DROPPED = new Set([
  ...HOP_BY_HOP,
  "x-forwarded-for",
  "x-forwarded-proto",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-server",
  "x-real-ip",
]);

Deno.serve(
  { hostname: "127.0.0.1", port, onListen: (a) => console.log(`listening ${a.port}`) },
  async (req, info) => {
    const url = new URL(req.url);
    const listed = req.headers.get("connection")?.toLowerCase().split(",").map((t) => t.trim());
    const headers: [string, string][] = [];
    req.headers.forEach((value, name) => {
      if (!DROPPED.has(name) && !listed?.includes(name)) headers.push([name, value]);
    });
    const ip = info.remoteAddr.hostname;
    headers.push(
      ["x-forwarded-for", ip],
      ["x-forwarded-proto", "http"],
      ["x-forwarded-host", url.host],
      ["x-forwarded-port", url.port || "80"],
      ["x-forwarded-server", "floor"],
      ["x-real-ip", ip],
    );
    const controller = new AbortController();
    const res = await fetch(upstream + url.pathname + url.search, {
      method: req.method,
      headers,
      body: req.body,
      signal: controller.signal,
      client,
    });
    if (!HOP_BY_HOP.some((name) => res.headers.has(name))) return res;
    const out: [string, string][] = [];
    res.headers.forEach((value, name) => {
      if (!HOP_BY_HOP.includes(name)) out.push([name, value]);
    });
    return new Response(res.body, { status: res.status, headers: out });
  },
);
