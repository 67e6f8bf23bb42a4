import { deepEqual, equal, ok } from "node:assert/strict";
import { serversTransportSchema } from "../../src/config/dynamic.ts";
import {
  failureOf,
  forward,
  UPSTREAM_ERROR_HEADER,
  withoutForwardedHeaders,
} from "../../src/service/forward.ts";
import { UpstreamServer } from "../../src/service/server.ts";
import { createTransport } from "../../src/service/transport.ts";
import { editableResponse, hasEditableHeaders } from "../../src/util/editable_response.ts";
import { closedPort, upstream } from "../_helpers/upstream.ts";
import { within } from "../_helpers/within.ts";

const client = { ip: "10.1.2.3", tls: false, trusted: false };
const options = { passHostHeader: true, serverName: "pacer-test" };

function serverFor(url: string, transport: Record<string, unknown> = {}): UpstreamServer {
  return new UpstreamServer(
    "svc@test",
    url,
    createTransport("t", serversTransportSchema.parse(transport)),
  );
}

Deno.test("forward() keeps the client's Host and sets X-Forwarded-* and X-Real-Ip", async () => {
  await using up = await upstream();
  const server = serverFor(up.url);
  const res = await forward(
    new Request("http://app.example.com/a/b?x=1&y=%2F"),
    server,
    client,
    options,
  );
  equal(await res.text(), "up");
  const { path, headers } = up.seen[0]!;
  equal(path, "/a/b?x=1&y=%2F");
  equal(headers.get("host"), "app.example.com");
  equal(headers.get("x-forwarded-for"), "10.1.2.3");
  equal(headers.get("x-forwarded-proto"), "http");
  equal(headers.get("x-forwarded-host"), "app.example.com");
  equal(headers.get("x-forwarded-port"), "80");
  equal(headers.get("x-forwarded-server"), "pacer-test");
  equal(headers.get("x-real-ip"), "10.1.2.3");
  server.dispose();
});

Deno.test("forward() extends X-Forwarded-* already on the request and keeps X-Forwarded-Prefix", async () => {
  await using up = await upstream();
  const server = serverFor(up.url);
  const present = {
    "x-forwarded-for": "6.6.6.6",
    "x-forwarded-host": "front.example",
    "x-real-ip": "6.6.6.6",
    "x-forwarded-proto": "https",
    "x-forwarded-prefix": "/api",
  };
  await (await forward(
    new Request("http://a.test/", { headers: present }),
    server,
    client,
    options,
  ))
    .body?.cancel();
  const sent = up.seen[0]!.headers;
  equal(sent.get("x-forwarded-for"), "6.6.6.6, 10.1.2.3");
  equal(sent.get("x-forwarded-host"), "front.example");
  equal(sent.get("x-real-ip"), "6.6.6.6");
  equal(sent.get("x-forwarded-proto"), "https");
  equal(sent.get("x-forwarded-prefix"), "/api");
  server.dispose();
});

Deno.test("withoutForwardedHeaders() removes what an untrusted client sent, and nothing else", () => {
  const clean = new Request("http://a.test/", { headers: { "x-other": "1" } });
  equal(withoutForwardedHeaders(clean), clean, "no copy when there is nothing to remove");
  const spoofed = withoutForwardedHeaders(
    new Request("http://a.test/", {
      headers: { "x-forwarded-for": "6.6.6.6", "X-Real-Ip": "6.6.6.6", "x-other": "1" },
    }),
  );
  equal(spoofed.headers.get("x-forwarded-for"), null);
  equal(spoofed.headers.get("x-real-ip"), null);
  equal(spoofed.headers.get("x-other"), "1");
});

Deno.test("withoutForwardedHeaders() keeps the method, the body and the client's signal", async () => {
  for (const [method, body] of [["GET", null], ["POST", "payload"]] as const) {
    const client = new AbortController();
    const cleaned = withoutForwardedHeaders(
      new Request("http://a.test/p?q=1", {
        method,
        body,
        headers: { "x-forwarded-host": "evil.test" },
        signal: client.signal,
      }),
    );
    equal(cleaned.headers.get("x-forwarded-host"), null);
    equal(cleaned.method, method);
    equal(cleaned.url, "http://a.test/p?q=1");
    equal(await cleaned.text(), body ?? "");
    client.abort();
    equal(cleaned.signal.aborted, true, `${method}: the client leaving shows`);
  }
});

Deno.test("forward() strips hop-by-hop headers both ways, including those named in Connection", async () => {
  await using up = await upstream("up", () =>
    new Response("ok", {
      headers: {
        "keep-alive": "timeout=5",
        "x-internal": "1",
        connection: "x-internal, not a header",
        "x-kept": "yes",
      },
    }));
  const server = serverFor(up.url);
  const res = await forward(
    new Request("http://a.test/", {
      headers: {
        connection: "x-secret",
        "x-secret": "s",
        "proxy-authorization": "p",
        "x-kept": "k",
      },
    }),
    server,
    client,
    options,
  );
  await res.body?.cancel();
  const sent = up.seen[0]!.headers;
  equal(sent.get("x-secret"), null);
  equal(sent.get("proxy-authorization"), null);
  equal(sent.get("x-kept"), "k");
  equal(res.headers.get("x-internal"), null);
  equal(res.headers.get("keep-alive"), null);
  equal(res.headers.get("x-kept"), "yes");
  server.dispose();
});

Deno.test("forward() sends the server's host when passHostHeader is false", async () => {
  await using up = await upstream();
  const server = serverFor(up.url);
  await (await forward(new Request("http://a.test/"), server, client, {
    ...options,
    passHostHeader: false,
  })).body?.cancel();
  equal(up.seen[0]!.headers.get("host"), `127.0.0.1:${up.port}`);
  server.dispose();
});

Deno.test("forward() answers 502 and classifies a refused connection as never sent", async () => {
  const server = serverFor(`http://127.0.0.1:${closedPort()}`);
  const res = await forward(
    new Request("http://a.test/", { method: "POST", body: "x" }),
    server,
    client,
    options,
  );
  equal(res.status, 502);
  equal(await res.text(), "Bad Gateway");
  equal(failureOf(res)?.kind, "connect");
  equal(res.headers.get(UPSTREAM_ERROR_HEADER), "connect");
  server.dispose();
});

Deno.test("forward() answers 504 when response headers do not come in time", async () => {
  await using up = await upstream("slow", async () => {
    await new Promise((r) => setTimeout(r, 400));
    return new Response("late");
  });
  const server = serverFor(up.url, {
    forwardingTimeouts: { responseHeaderTimeout: "50ms", dialTimeout: "50ms" },
  });
  const started = performance.now();
  const res = await forward(new Request("http://a.test/"), server, client, options);
  equal(res.status, 504);
  equal(failureOf(res)?.kind, "timeout");
  ok(performance.now() - started < 350, "answered before the upstream did");
  await res.body?.cancel();
  server.dispose();
  await new Promise((r) => setTimeout(r, 400)); // let the upstream's late answer finish
});

Deno.test("forward() streams the response: the first chunk arrives before the last is produced", async () => {
  let release!: () => void;
  const gate = new Promise<void>((r) => release = r);
  await using up = await upstream("stream", () => {
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(new TextEncoder().encode("data: first\n\n"));
        await gate;
        controller.enqueue(new TextEncoder().encode("data: second\n\n"));
        controller.close();
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const server = serverFor(up.url);
  const res = await forward(new Request("http://a.test/events"), server, client, options);
  const reader = res.body!.getReader();
  const first = new TextDecoder().decode((await reader.read()).value);
  equal(first, "data: first\n\n");
  release();
  const rest: string[] = [];
  for (let r = await reader.read(); !r.done; r = await reader.read()) {
    rest.push(new TextDecoder().decode(r.value));
  }
  deepEqual(rest.join(""), "data: second\n\n");
  server.dispose();
});

Deno.test("forward() preserves the server URL path only with preservePath", async () => {
  await using up = await upstream();
  const server = serverFor(`${up.url}/base/`);
  await (await forward(new Request("http://a.test/x?q"), server, client, options)).body?.cancel();
  await (await forward(new Request("http://a.test/x?q"), server, client, {
    ...options,
    preservePath: true,
  }))
    .body?.cancel();
  deepEqual(up.seen.map((s) => s.path), ["/x?q", "/base/x?q"]);
  server.dispose();
});

Deno.test("forward() hands on a response with nothing to strip as is; editableResponse() copies it when edited", async () => {
  await using up = await upstream(
    "plain",
    () => new Response("plain", { headers: { "x-upstream": "1" } }),
  );
  const server = serverFor(up.url);
  const res = await forward(new Request("http://a.test/"), server, client, options);
  ok(!hasEditableHeaders(res), "the upstream's own response (fetch makes its headers immutable)");
  const edited = editableResponse(res);
  ok(edited !== res);
  edited.headers.set("x-added", "yes");
  equal(edited.headers.get("x-upstream"), "1");
  equal(await edited.text(), "plain", "the copy carries the body stream");
  equal(editableResponse(edited), edited, "an editable response is not copied again");
  server.dispose();
});

Deno.test("forward() ignores Connection tokens that are not header names", async () => {
  await using up = await upstream();
  const server = serverFor(up.url);
  const res = await forward(
    new Request("http://a.test/", { headers: { connection: "close, not a header, X-Gone" } }),
    server,
    client,
    options,
  );
  equal(res.status, 200);
  await res.body?.cancel();
  equal(up.seen[0]!.headers.get("x-gone"), null);
  server.dispose();
});

Deno.test("forward() lets a forgotten server cut a body still streaming until delivery", async () => {
  await using up = await upstream("endless", () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("tick\n"));
        }, // and never closes
      }),
    ));
  const server = serverFor(up.url);
  let delivered!: () => void;
  const res = await forward(new Request("http://a.test/"), server, client, options, {
    delivered: new Promise<void>((r) => delivered = r),
  });
  const reader = res.body!.getReader();
  equal(new TextDecoder().decode((await reader.read()).value), "tick\n");
  server.dispose(); // drain timeout: the server is forgotten mid-stream
  const cut = await within(reader.read().then(() => "still open", () => "cut"), 2000, "still open");
  await reader.cancel().catch(() => {}); // lets the upstream shut down either way
  equal(cut, "cut");
  delivered();
});

Deno.test("UpstreamServer.track() aborts running requests on dispose, and none that ended", () => {
  const server = serverFor("http://127.0.0.1:9");
  const running = new AbortController();
  const ended = new AbortController();
  server.track(running);
  server.track(ended)();
  server.dispose();
  ok(running.signal.aborted);
  ok(!ended.signal.aborted);
  const late = new AbortController();
  server.track(late);
  ok(late.signal.aborted, "a forgotten server cuts a new request at once");
});
