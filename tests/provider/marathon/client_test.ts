import assert from "node:assert/strict";
import FakeTimers from "@sinonjs/fake-timers";
import {
  APPS_PATH,
  authorizationFor,
  errorDetail,
  MarathonClient,
  type MarathonClientOptions,
  MarathonRequestError,
  parseEndpoints,
  readTlsMaterial,
} from "../../../src/provider/marathon/client.ts";
import { memoryLogger, silentLogger } from "../../../src/log/logger.ts";
import { closedPort, upstream } from "../../_helpers/upstream.ts";

const TLS_DIR = new URL("./_tls/", import.meta.url).pathname;

function options(
  endpoint: string,
  extra: Partial<MarathonClientOptions["options"]> = {},
): MarathonClientOptions["options"] {
  return {
    endpoint,
    dialerTimeout: 1_000,
    responseHeaderTimeout: 3_000,
    trace: false,
    ...extra,
  };
}

/** A fetch answering from a table of URL → response factories; records every call. */
function fakeFetch(handler: (url: string, init: RequestInit) => Response | Promise<Response>) {
  const calls: { url: string; headers: Headers }[] = [];
  const fn: typeof fetch = (input, init = {}) => {
    const url = String(input);
    calls.push({ url, headers: new Headers(init.headers) });
    return Promise.resolve().then(() => handler(url, init));
  };
  return { fetch: fn, calls };
}

async function failure(promise: Promise<unknown>): Promise<MarathonRequestError> {
  const error = await promise.then(() => undefined, (e) => e);
  assert.ok(error instanceof MarathonRequestError, `expected a MarathonRequestError, got ${error}`);
  return error;
}

Deno.test("parseEndpoints(): first URL needs a scheme, later ones inherit it; DC/OS gets /marathon", () => {
  const cases: [string, boolean, string[]][] = [
    ["http://m1:8080", false, ["http://m1:8080"]],
    ["http://m1:8080,m2:8080, m3:8081 ", false, [
      "http://m1:8080",
      "http://m2:8080",
      "http://m3:8081",
    ]],
    ["https://m1,m2", false, ["https://m1", "https://m2"]],
    ["https://m1,http://m2", false, ["https://m1", "http://m2"]],
    ["HTTP://M1:8080/", false, ["http://m1:8080"]],
    ["http://m1:8080/", true, ["http://m1:8080/marathon"]],
    ["https://master.mesos", true, ["https://master.mesos/marathon"]],
    ["https://master.mesos/service/marathon/", true, ["https://master.mesos/service/marathon"]],
    ["https://a,b/custom", true, ["https://a/marathon", "https://b/custom"]],
    ["https://a/custom", false, ["https://a/custom"]],
  ];
  for (const [endpoint, dcos, expected] of cases) {
    assert.deepEqual(parseEndpoints(endpoint, { dcos }).map((m) => m.url), expected, endpoint);
  }
  const [withUser] = parseEndpoints("http://me:p%40ss@m1:8080");
  assert.deepEqual(withUser, { url: "http://m1:8080", userAuth: `Basic ${btoa("me:p@ss")}` });
});

Deno.test("parseEndpoints() rejects what go-marathon rejects, with the option's name", () => {
  const cases: [string, RegExp][] = [
    ["m1:8080", /the first URL must start with http:\/\/ or https:\/\//],
    ["127.0.0.1:8080,http://m2", /the first URL must start/],
    ["", /URL number 1 is empty/],
    ["http://m1,,m2", /URL number 2 is empty/],
    ["http://m1,ftp://m2", /"ftp:\/\/m2" must use http or https/],
    ["http://", /not a URL|no host/],
  ];
  for (const [endpoint, message] of cases) {
    assert.throws(() => parseEndpoints(endpoint), (e: Error) => {
      assert.ok(e instanceof TypeError, endpoint);
      assert.match(e.message, /^Cannot use providers\.marathon\.endpoint /);
      assert.match(e.message, message);
      return true;
    });
  }
});

Deno.test("authorizationFor(): basic only with user and password; the DC/OS token as 'token='", () => {
  assert.equal(authorizationFor({}), undefined);
  assert.equal(
    authorizationFor({ basic: { httpBasicAuthUser: "u", httpBasicPassword: "p:w" } }),
    `Basic ${btoa("u:p:w")}`,
  );
  // UTF-8, as Go's SetBasicAuth sends it.
  assert.equal(
    authorizationFor({ basic: { httpBasicAuthUser: "jürgen", httpBasicPassword: "ß" } }),
    "Basic asO8cmdlbjrDnw==",
  );
  assert.equal(authorizationFor({ basic: { httpBasicAuthUser: "u" } }), undefined);
  assert.equal(authorizationFor({ basic: { httpBasicPassword: "p" } }), undefined);
  assert.equal(
    authorizationFor({ basic: { httpBasicAuthUser: "", httpBasicPassword: "p" } }),
    undefined,
  );
  assert.equal(authorizationFor({ dcosToken: "eyJ0" }), "token=eyJ0");
  assert.equal(
    authorizationFor({
      dcosToken: "eyJ0",
      basic: { httpBasicAuthUser: "u", httpBasicPassword: "p" },
    }),
    "token=eyJ0",
  );
});

Deno.test("errorDetail() keeps Marathon's message: JSON message, Jetty's <pre> reason, or short text", () => {
  assert.equal(errorDetail('{"message":"App is locked"}'), "App is locked");
  assert.equal(
    errorDetail(
      "<html><body><h2>HTTP ERROR 502</h2><p>Problem accessing /v2/apps. Reason:\n<pre>    Could not determine the current leader</pre></p></body></html>",
    ),
    "Could not determine the current leader",
  );
  assert.equal(errorDetail("  plain\n text "), "plain text");
  assert.equal(errorDetail(""), "");
  assert.equal(errorDetail("x".repeat(500)).length, 201);
});

Deno.test("GET /v2/apps: the exact request (embeds, Accept, DC/OS path and token)", async () => {
  const f = fakeFetch(() => Response.json({ apps: [{ id: "/a" }] }));
  const client = new MarathonClient({
    options: options("https://master.mesos", { dcosToken: "T" }),
    log: silentLogger,
    fetch: f.fetch,
  });
  try {
    assert.deepEqual(await client.fetchApps(new AbortController().signal), [{ id: "/a" }]);
    assert.equal(f.calls.length, 1);
    assert.equal(f.calls[0]!.url, `https://master.mesos/marathon${APPS_PATH}`);
    assert.equal(
      APPS_PATH,
      "/v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness",
    );
    assert.equal(f.calls[0]!.headers.get("accept"), "application/json");
    assert.equal(f.calls[0]!.headers.get("authorization"), "token=T");
  } finally {
    await client.close();
  }
});

Deno.test("GET /v2/apps: malformed JSON, a wrong shape, 5xx and 401 are failures, never crashes", async () => {
  const cases: [() => Response, string, RegExp][] = [
    [() => new Response('{"apps":[{"id":"/trunc', { status: 200 }), "malformed", /not valid JSON/],
    [() => Response.json({ apps: {} }), "malformed", /'apps' array/],
    [() => Response.json([{ id: "/a" }]), "malformed", /'apps' array/],
    [() => Response.json(null), "malformed", /'apps' array/],
    [
      () =>
        new Response("<html><pre>Could not determine the current leader</pre></html>", {
          status: 502,
          headers: { "content-type": "text/html" },
        }),
      "status:502",
      /HTTP 502: Could not determine the current leader/,
    ],
    [
      () =>
        Response.json({ message: "Invalid username or password." }, {
          status: 401,
          headers: { "WWW-Authenticate": "acsjwt" },
        }),
      "unauthorized:401",
      /HTTP 401: Invalid username or password\. \(WWW-Authenticate: acsjwt\)/,
    ],
    [() => Response.json({ message: "nope" }, { status: 403 }), "unauthorized:403", /HTTP 403/],
    [() => Response.json({ message: "HTTP 404 Not Found" }, { status: 404 }), "status:404", /404/],
  ];
  for (const [respond, key, message] of cases) {
    const f = fakeFetch(respond);
    const client = new MarathonClient({
      options: options("http://m1"),
      log: silentLogger,
      fetch: f.fetch,
    });
    try {
      const error = await failure(client.fetchApps(new AbortController().signal));
      assert.equal(error.key, key, String(message));
      assert.match(error.message, message);
    } finally {
      await client.close();
    }
  }
});

Deno.test("a standby's 302 for /v2/events is followed by hand, with the credentials re-sent", async () => {
  const seen: { where: string; auth: string | null; accept: string | null; query: string }[] = [];
  await using leader = await upstream("leader", (req) => {
    const url = new URL(req.url);
    seen.push({
      where: "leader",
      auth: req.headers.get("authorization"),
      accept: req.headers.get("accept"),
      query: url.search,
    });
    const frame = 'event: deployment_success\r\ndata: {"eventType":"deployment_success"}\r\n\r\n';
    return new Response(frame, { headers: { "content-type": "text/event-stream" } });
  });
  await using standby = await upstream("standby", (req) => {
    const url = new URL(req.url);
    seen.push({
      where: "standby",
      auth: req.headers.get("authorization"),
      accept: req.headers.get("accept"),
      query: url.search,
    });
    return new Response(null, {
      status: 302,
      headers: { Location: `${leader.url}${url.pathname}${url.search}` },
    });
  });
  const client = new MarathonClient({
    options: options(standby.url, { basic: { httpBasicAuthUser: "u", httpBasicPassword: "p" } }),
    log: silentLogger,
  });
  try {
    const exchange = await client.openEvents(
      ["status_update_event", "api_post_event"],
      new AbortController().signal,
    );
    assert.equal(exchange.response.status, 200);
    assert.ok(exchange.url.startsWith(`${leader.url}/v2/events?`), exchange.url);
    assert.equal(exchange.member, standby.url);
    assert.match(await exchange.response.text(), /deployment_success/);
    const basic = `Basic ${btoa("u:p")}`;
    assert.deepEqual(seen.map((s) => [s.where, s.auth, s.accept]), [
      ["standby", basic, "text/event-stream"],
      ["leader", basic, "text/event-stream"],
    ]);
    assert.equal(
      seen[1]!.query,
      "?event_type=status_update_event&event_type=api_post_event&plan-format=light",
    );
  } finally {
    await client.close();
  }
});

Deno.test("redirects: https to http is refused; more than 3 hops fail; a 405 is a status failure", async () => {
  const downgrade = fakeFetch(() =>
    new Response(null, { status: 302, headers: { Location: "http://leader:8080/v2/events" } })
  );
  const a = new MarathonClient({
    options: options("https://standby:8443", { dcosToken: "secret" }),
    log: silentLogger,
    fetch: downgrade.fetch,
  });
  try {
    const error = await failure(a.openEvents([], new AbortController().signal));
    assert.equal(error.kind, "redirect");
    assert.match(error.message, /does not follow https to http/);
    assert.equal(downgrade.calls.length, 1, "the token never went to the http URL");
  } finally {
    await a.close();
  }

  let hop = 0;
  const loop = fakeFetch(() =>
    new Response(null, { status: 302, headers: { Location: `/v2/events?hop=${++hop}` } })
  );
  const b = new MarathonClient({
    options: options("http://m1"),
    log: silentLogger,
    fetch: loop.fetch,
  });
  try {
    const error = await failure(b.openEvents([], new AbortController().signal));
    assert.match(error.message, /more than 3 redirects/);
    assert.equal(loop.calls.length, 3);
  } finally {
    await b.close();
  }

  const notSse = fakeFetch(() => new Response("<html>HTTP ERROR: 405</html>", { status: 405 }));
  const c = new MarathonClient({
    options: options("http://m1"),
    log: silentLogger,
    fetch: notSse.fetch,
  });
  try {
    const error = await failure(c.openEvents([], new AbortController().signal));
    assert.equal(error.key, "status:405");
  } finally {
    await c.close();
  }
});

Deno.test("failover: a refused member is marked down and skipped; the member that answered is preferred", async () => {
  let lists = 0;
  await using good = await upstream("good", () => {
    lists++;
    return Response.json({ apps: [] });
  });
  const dead = `http://127.0.0.1:${closedPort()}`;
  const { log, records } = memoryLogger();
  const client = new MarathonClient({
    options: options(`${dead},${good.url}`),
    log,
    memberRecheckMs: 60_000,
  });
  try {
    assert.deepEqual(await client.fetchApps(new AbortController().signal), []);
    assert.deepEqual(client.downMembers, [dead]);
    assert.equal(client.preferred, good.url);
    await client.fetchApps(new AbortController().signal);
    assert.equal(lists, 2);
    const warnings = records().filter((r) => r.level === "warn");
    assert.equal(warnings.length, 1, "marked down once");
    assert.equal(warnings[0]!.member, dead);
    assert.match(String(warnings[0]!.error), /cannot reach/);
  } finally {
    await client.close();
  }
});

Deno.test("a down member is re-probed with GET /ping until it answers; 5xx also fails over", async () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  let aUp = false;
  let bStatus = 200;
  const f = fakeFetch((url) => {
    if (url.startsWith("http://a")) {
      if (!aUp) throw new TypeError("error sending request: Connection refused");
      return url.endsWith("/ping") ? new Response("pong") : Response.json({ apps: ["from-a"] });
    }
    return bStatus === 200
      ? Response.json({ apps: ["from-b"] })
      : new Response("<pre>no leader</pre>", { status: bStatus });
  });
  const { log, records } = memoryLogger();
  const client = new MarathonClient({
    options: options("http://a,http://b"),
    log,
    fetch: f.fetch,
    memberRecheckMs: 5_000,
  });
  const signal = new AbortController().signal;
  try {
    assert.deepEqual(await client.fetchApps(signal), ["from-b"]);
    assert.deepEqual(client.downMembers, ["http://a"]);
    const pings = () => f.calls.filter((c) => c.url === "http://a/ping").length;
    await clock.tickAsync(4_999);
    assert.equal(pings(), 0);
    await clock.tickAsync(1);
    assert.equal(pings(), 1);
    await clock.tickAsync(5_000);
    assert.equal(pings(), 2, "still down: probed again");
    aUp = true;
    await clock.tickAsync(5_000);
    assert.equal(pings(), 3);
    assert.deepEqual(client.downMembers, []);
    assert.equal(records().filter((r) => /up again/.test(String(r.msg))).length, 1);
    await clock.tickAsync(20_000);
    assert.equal(pings(), 3, "no probes once up");

    // b, the last to answer, stays preferred; its 502 sends the call to a.
    assert.equal(client.preferred, "http://b");
    bStatus = 502;
    assert.deepEqual(await client.fetchApps(signal), ["from-a"]);
    assert.deepEqual(client.downMembers, ["http://b"]);
    assert.equal(client.preferred, "http://a");
  } finally {
    await client.close();
    clock.uninstall();
  }
});

Deno.test("responseHeaderTimeout: a member that never answers is a timeout; every member failing is one error", async () => {
  const clock = FakeTimers.install({ toFake: ["setTimeout", "clearTimeout", "Date"] });
  const f = fakeFetch((_url, init) =>
    new Promise<Response>((_, reject) => {
      init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
    })
  );
  const client = new MarathonClient({
    options: options("http://a,http://b", { responseHeaderTimeout: 3_000 }),
    log: silentLogger,
    fetch: f.fetch,
    memberRecheckMs: 600_000,
  });
  try {
    const pending = failure(client.fetchApps(new AbortController().signal));
    await clock.tickAsync(2_999);
    assert.equal(f.calls.length, 1);
    await clock.tickAsync(1);
    assert.equal(f.calls.length, 2, "a timed out: b is tried");
    await clock.tickAsync(3_000);
    const error = await pending;
    assert.equal(error.kind, "timeout");
    assert.equal(error.key, "timeout");
    assert.match(error.message, /every Marathon member failed: http:\/\/a: no response headers/);
  } finally {
    await client.close();
    clock.uninstall();
  }
});

Deno.test("an aborted signal stops a request without marking the member down", async () => {
  const f = fakeFetch((_url, init) =>
    new Promise<Response>((_, reject) => {
      init.signal!.addEventListener("abort", () => reject(init.signal!.reason));
    })
  );
  const client = new MarathonClient({
    options: options("http://a"),
    log: silentLogger,
    fetch: f.fetch,
  });
  try {
    const abort = new AbortController();
    const pending = client.fetchApps(abort.signal).then(() => "ok", (e) => e);
    await Promise.resolve();
    abort.abort(new Error("stopping"));
    const error = await pending;
    assert.ok(!(error instanceof MarathonRequestError), String(error));
    assert.deepEqual(client.downMembers, []);
  } finally {
    await client.close();
  }
});

Deno.test("TLS: tls.ca (file or PEM) verifies Marathon's certificate; without it the handshake fails", async () => {
  const cert = await Deno.readTextFile(`${TLS_DIR}server.pem`);
  const key = await Deno.readTextFile(`${TLS_DIR}server.key.pem`);
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    () => Response.json({ apps: [{ id: "/secure" }] }),
  );
  const url = `https://127.0.0.1:${server.addr.port}`;
  try {
    const fromFile = readTlsMaterial({ ca: `${TLS_DIR}ca.pem`, insecureSkipVerify: false });
    const withCa = new MarathonClient({
      options: options(url),
      tls: fromFile.material,
      log: silentLogger,
    });
    try {
      assert.deepEqual(await withCa.fetchApps(new AbortController().signal), [{ id: "/secure" }]);
    } finally {
      await withCa.close();
    }
    // PEM content works too, and a client certificate is accepted by the HTTP client.
    const inline = readTlsMaterial({
      ca: await Deno.readTextFile(`${TLS_DIR}ca.pem`),
      cert: `${TLS_DIR}server.pem`,
      key: key,
      insecureSkipVerify: false,
    });
    assert.ok(inline.material?.cert?.includes("BEGIN CERTIFICATE"));
    const mtls = new MarathonClient({
      options: options(url),
      tls: inline.material,
      log: silentLogger,
    });
    try {
      assert.equal((await mtls.fetchApps(new AbortController().signal)).length, 1);
    } finally {
      await mtls.close();
    }
    const without = new MarathonClient({ options: options(url), log: silentLogger });
    try {
      const error = await failure(without.fetchApps(new AbortController().signal));
      assert.equal(error.kind, "unreachable");
      assert.match(error.message, /certificate|UnknownIssuer/i);
    } finally {
      await without.close();
    }
  } finally {
    await server.shutdown();
  }
});

Deno.test("readTlsMaterial(): unreadable or non-PEM files fail clearly; unsupported options warn", () => {
  assert.throws(
    () => readTlsMaterial({ ca: "/nonexistent/ca.pem", insecureSkipVerify: false }),
    /^TypeError: Cannot use providers\.marathon\.tls\.ca: cannot read "\/nonexistent\/ca\.pem"/,
  );
  assert.throws(
    () => readTlsMaterial({ ca: "x.pem", insecureSkipVerify: false }, () => "not a certificate"),
    /providers\.marathon\.tls\.ca: "x\.pem" is not a PEM file/,
  );
  const { material, warnings } = readTlsMaterial({ insecureSkipVerify: true, caOptional: true });
  assert.deepEqual(material, {});
  assert.equal(warnings.length, 2);
  assert.match(
    warnings[0]!,
    /insecureSkipVerify is not supported.*--unsafely-ignore-certificate-errors/,
  );
  assert.match(warnings[1]!, /caOptional is ignored/);
  assert.deepEqual(readTlsMaterial(undefined), { material: undefined, warnings: [] });
});
