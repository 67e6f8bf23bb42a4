import { deepEqual, equal, match, ok } from "node:assert/strict";
import { AccessLog, type AccessLogOptions, parseStatusRanges } from "../../src/log/access_log.ts";
import { startPacer } from "../_helpers/pacer.ts";
import { closedPort, upstream } from "../_helpers/upstream.ts";
import { delay } from "../../src/util/delay.ts";

const at = new Date("2026-11-24T10:00:00.000Z");

/** An access log writing into an array, with a fixed wall clock. */
function captured(options: AccessLogOptions = {}) {
  const lines: string[] = [];
  const writes: string[] = [];
  const log = new AccessLog(options, (text) => {
    writes.push(text);
    lines.push(...text.split("\n").filter(Boolean));
  }, () => at);
  return { log, lines, writes };
}

/** Waits until `lines` holds `n` lines (they are written once the client has the response). */
async function linesAfter(lines: string[], n: number): Promise<string[]> {
  for (let i = 0; i < 200 && lines.length < n; i++) await delay(10);
  return lines;
}

function service(...urls: string[]) {
  return { loadBalancer: { servers: urls.map((url) => ({ url })) } };
}

/**
 * Pacer with router `api` (Host a.test) to `server`, logging into `log`,
 * with `middlewares` (by name) in front of the service.
 */
function pacerLogging(
  log: AccessLog,
  server: string,
  middlewares: Record<string, Record<string, unknown>> = {},
) {
  const names = Object.keys(middlewares);
  return startPacer({
    web: { accessLog: log },
    config: {
      http: {
        routers: {
          api: {
            rule: "Host(`a.test`)",
            service: "s",
            ...(names.length ? { middlewares: names } : {}),
          },
        },
        services: { s: service(server) },
        middlewares,
      },
    },
  });
}

Deno.test("access log writes Traefik's Common Log Format once the response is delivered", async () => {
  await using up = await upstream("hello");
  const { log, lines } = captured();
  await using p = await pacerLogging(log, up.url);
  const res = await p.request("a.test", "/path?q=1", {
    headers: { "user-agent": "probe/1.0", referer: "http://from.example/" },
  });
  equal(await res.text(), "hello");
  await linesAfter(lines, 1);
  equal(lines.length, 1);
  match(
    lines[0]!,
    new RegExp(
      String.raw`^127\.0\.0\.1 - - \[24/Nov/2026:10:00:00 \+0000\] "GET /path\?q=1 -" 200 5 ` +
        String.raw`"http://from\.example/" "probe/1\.0" 1 "api@file" "${up.url}" \d+ms$`,
    ),
  );
});

Deno.test("access log names the user a client sent to basicAuth, authenticated or not", async () => {
  await using up = await upstream("hello");
  const { log, lines } = captured();
  await using p = await pacerLogging(log, up.url, {
    auth: { basicAuth: { users: ["test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"] } },
  });
  const as = async (user: string, password: string) => {
    const authorization = `Basic ${btoa(`${user}:${password}`)}`;
    const res = await p.request("a.test", "/", { headers: { authorization } });
    await res.body?.cancel();
    return res.status;
  };
  equal(await as("test", "test"), 200);
  equal(await as("test", "wrong"), 401);
  equal(await as('mallory "x" [', "nope"), 401);
  const anonymous = await p.request("a.test", "/");
  await anonymous.body?.cancel();
  await linesAfter(lines, 4);
  const users = lines.map((line) => /^127\.0\.0\.1 - (.*) \[24\/Nov/.exec(line)?.[1]);
  // A name that would break the line is quoted, so the fields can still be split.
  deepEqual(users, ["test", "test", '"mallory \\"x\\" ["', "-"]);
});

Deno.test("access log JSON takes ClientUsername from forwardAuth's headerField", async () => {
  await using up = await upstream("hello");
  await using auth = await upstream(
    "auth",
    () => new Response(null, { headers: { "x-user": "alice" } }),
  );
  const { log, lines } = captured({ format: "json" });
  await using p = await pacerLogging(log, up.url, {
    auth: { forwardAuth: { address: auth.url, headerField: "X-User" } },
  });
  equal(await (await p.request("a.test", "/")).text(), "hello");
  await linesAfter(lines, 1);
  equal(JSON.parse(lines[0]!).ClientUsername, "alice");
});

Deno.test("access log counts the bytes of a body without Content-Length and logs unrouted requests", async () => {
  await using up = await upstream("", () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("abc"));
          controller.enqueue(new TextEncoder().encode("defg"));
          controller.close();
        },
      }),
    ));
  const { log, lines } = captured();
  await using p = await pacerLogging(log, up.url);
  equal(await (await p.request("a.test", "/stream")).text(), "abcdefg");
  await linesAfter(lines, 1);
  const missing = await p.request("nowhere.test", "/");
  equal(missing.status, 404);
  await missing.body?.cancel();
  await linesAfter(lines, 2);
  match(lines[0]!, /"GET \/stream -" 200 7 "-" "[^"]*" 1 "api@file"/);
  match(lines[1]!, /"GET \/ -" 404 19 "-" "[^"]*" 2 "-" "-" \d+ms$/);
});

Deno.test("access log JSON names the service, the server and the retries", async () => {
  await using good = await upstream("good");
  const refused = `http://127.0.0.1:${closedPort()}`;
  const { log, lines } = captured({ format: "json" });
  await using p = await startPacer({
    web: { accessLog: log },
    config: {
      http: {
        routers: { api: { rule: "Host(`a.test`)", service: "s", middlewares: ["retry"] } },
        services: { s: service(refused, good.url) },
        middlewares: { retry: { retry: { attempts: 2, initialInterval: "1ms" } } },
      },
    },
  });
  equal(await (await p.request("a.test", "/x")).text(), "good");
  await linesAfter(lines, 1);
  const record = JSON.parse(lines[0]!);
  const { ClientPort, Duration, ...stable } = record;
  match(ClientPort, /^\d+$/);
  ok(Number.isInteger(Duration) && Duration > 0);
  deepEqual(stable, {
    ClientAddr: `127.0.0.1:${ClientPort}`,
    ClientHost: "127.0.0.1",
    ClientUsername: "-",
    DownstreamContentSize: 4,
    DownstreamStatus: 200,
    RequestAddr: "a.test",
    RequestCount: 1,
    RequestHost: "a.test",
    RequestMethod: "GET",
    RequestPath: "/x",
    RequestPort: "-",
    RequestProtocol: "-",
    RequestScheme: "http",
    RetryAttempts: 1,
    StartUTC: "2026-11-24T10:00:00.000Z",
    entryPointName: "web",
    RouterName: "api@file",
    ServiceName: "s@file",
    ServiceURL: good.url,
    ServiceAddr: new URL(good.url).host,
    level: "info",
    msg: "",
    time: "2026-11-24T10:00:00.000Z",
  });
});

Deno.test("access log JSON keeps, drops and redacts fields and request headers", async () => {
  await using up = await upstream("ok");
  const { log, lines } = captured({
    format: "json",
    fields: {
      defaultMode: "drop",
      names: { DownstreamStatus: "keep", RouterName: "redact" },
      headers: { defaultMode: "keep", names: { Authorization: "redact", "X-Secret": "drop" } },
    },
  });
  await using p = await pacerLogging(log, up.url);
  const res = await p.request("a.test", "/", {
    headers: { authorization: "Bearer t", "x-secret": "s", "user-agent": "probe" },
  });
  await res.body?.cancel();
  await linesAfter(lines, 1);
  const record = JSON.parse(lines[0]!);
  // Deno's fetch adds Accept, Accept-Encoding and Accept-Language of its own.
  deepEqual(Object.keys(record).filter((k) => !k.startsWith("request_Accept")), [
    "DownstreamStatus",
    "RouterName",
    "request_Authorization",
    "request_Host",
    "request_User-Agent",
    "level",
    "msg",
    "time",
  ]);
  equal(record.DownstreamStatus, 200);
  equal(record.RouterName, "REDACTED");
  equal(record.request_Authorization, "REDACTED");
  equal(record.request_Host, "a.test");
  equal(record["request_User-Agent"], "probe");
});

Deno.test("access log leaves out routers with observability.accessLogs: false", async () => {
  await using up = await upstream("ok");
  const { log, lines } = captured();
  await using p = await startPacer({
    web: { accessLog: log },
    config: {
      http: {
        routers: {
          quiet: {
            rule: "Host(`quiet.test`)",
            service: "s",
            observability: { accessLogs: false },
          },
          loud: { rule: "Host(`loud.test`)", service: "s", observability: { accessLogs: true } },
        },
        services: { s: service(up.url) },
      },
    },
  });
  for (const host of ["quiet.test", "loud.test", "quiet.test"]) {
    await (await p.request(host, "/")).body?.cancel();
  }
  await linesAfter(lines, 1);
  await delay(50); // a line for a quiet request would have come by now
  deepEqual(lines.map((l) => /"(\w+)@file"/.exec(l)?.[1]), ["loud"]);
});

Deno.test("access log filters keep a request that passes any of them (Traefik's keepAccessLog)", () => {
  const { log, lines } = captured({
    filters: { statusCodes: ["404", "500-503"], retryAttempts: true },
  });
  const arrival = { entryPoint: "web", remoteAddr: { hostname: "192.0.2.1", port: 1 }, tls: false };
  const request = new Request("http://a.test/p");
  for (const [status, retries] of [[200, 0], [404, 0], [502, 0], [504, 0], [200, 2]] as const) {
    const record = log.begin(request);
    record.retryAttempts = retries;
    log.end(record, new Response(null, { status }), arrival);
  }
  deepEqual(lines.map((l) => l.split('" ')[1]!.split(" ")[0]), ["404", "502", "200"]);
});

Deno.test("access log leaves @internal routers out unless addInternals", () => {
  const arrival = { entryPoint: "web", remoteAddr: { hostname: "192.0.2.1", port: 1 }, tls: false };
  for (const addInternals of [false, true]) {
    const { log, lines } = captured({ addInternals });
    const record = log.begin(new Request("http://a.test/ping"));
    record.router = "ping@internal";
    log.end(record, new Response("OK"), arrival);
    equal(lines.length, addInternals ? 1 : 0);
  }
});

Deno.test("access log buffers bufferingSize lines, and a second at most", async () => {
  const { log, writes } = captured({ bufferingSize: 2 });
  const arrival = { entryPoint: "web", remoteAddr: { hostname: "192.0.2.1", port: 1 }, tls: false };
  const one = () => log.end(log.begin(new Request("http://a.test/")), new Response("x"), arrival);
  one();
  equal(writes.length, 0);
  one();
  equal(writes.length, 1, "two lines, one write");
  equal(writes[0]!.split("\n").length, 3);
  one();
  equal(writes.length, 1);
  await delay(1100);
  equal(writes.length, 2, "the lone line is written within a second");
  one();
  log.flush();
  equal(writes.length, 3, "flush() writes what is left (at shutdown)");
});

Deno.test("parseStatusRanges() reads codes and ranges and explains the rest", () => {
  deepEqual(parseStatusRanges(["404", "500-599", " 200 - 204 "]), [[404, 404], [500, 599], [
    200,
    204,
  ]]);
  for (const bad of ["5xx", "600", "404-400", "abc", ""]) {
    match(String(parseStatusRanges([bad])), /is not a status code or range/, bad);
  }
});
