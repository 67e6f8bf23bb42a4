import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import type { AccessRecord } from "../../src/log/access_log.ts";
import type { Logger } from "../../src/log/logger.ts";
import digestAuthPlugin, {
  digestAuth,
  type DigestAuthConfig,
  digestAuthConfig,
  type DigestAuthOptions,
  readDigestUsersFile,
} from "../../src/middleware/digest_auth/mod.ts";
import { createFromRaw, middlewaresFromLabels, testContext } from "./_ctx.ts";

// Vectors: Traefik's digest_auth_test.go (htdigest lines, MD5 of "name:realm:password").
const TEST = "test:traefik:a2688e031edb4be6a3797f3882655c05"; // test / test
const TEST2 = "test2:traefik:518845800f9e2bfb1f1f740ec24f074e"; // test2 / test2
const TEST3 = "test3:traefik:c8e9f57ce58ecb4424407f665a91646c"; // test3 / test3
const TEST2_OVERRIDDEN = "test2:traefik:8de60a1c52da68ccf41f0c0ffb7c51a0"; // test2 / overridden
const TEST_TRAEFIKER = "test:traefiker:a3d334dff2645b914918de78bec50bf4"; // test / test2, realm traefiker

const CHALLENGE =
  /^Digest realm="([^"]*)", nonce="([^"]+)", opaque="([^"]+)", (stale=true, )?algorithm="MD5", qop="auth"$/;

function md5(text: string): string {
  return createHash("md5").update(text).digest("hex");
}

function config(raw: Record<string, unknown>): DigestAuthConfig {
  return digestAuthConfig.parse(raw);
}

function appWith(mw: MiddlewareHandler): Hono {
  const app = new Hono();
  app.use(mw);
  app.all("*", (c) =>
    c.json({
      authorization: c.req.header("authorization") ?? null,
      user: c.req.header("x-webauth-user") ?? null,
      clientUsername: c.get("clientUsername") ?? null,
    }));
  return app;
}

/** A header value as a server hands it over: its UTF-8 bytes, one character each (Deno.serve). */
function wire(value: string): string {
  return String.fromCharCode(...new TextEncoder().encode(value));
}

function request(
  app: Hono,
  path: string,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers = Object.fromEntries(
    Object.entries(init.headers ?? {}).map(([name, value]) => [name, wire(value)]),
  );
  return Promise.resolve(app.request(path, { ...init, headers }, pacerEnv("10.0.0.1")));
}

interface Challenge {
  realm: string;
  nonce: string;
  opaque: string;
  stale: boolean;
}

/** Reads a 401's challenge, checking its exact shape. */
async function challengeOf(res: Response): Promise<Challenge> {
  assert.equal(res.status, 401);
  assert.equal(await res.text(), "401 Unauthorized\n");
  const header = res.headers.get("www-authenticate") ?? "";
  const m = CHALLENGE.exec(header);
  assert.ok(m, `challenge: ${header}`);
  return { realm: m[1]!, nonce: m[2]!, opaque: m[3]!, stale: m[4] !== undefined };
}

interface Answer {
  user: string;
  password: string;
  uri: string;
  method?: string;
  /** A number is written as 8 hex digits, a string as is. */
  nc?: number | string;
  cnonce?: string;
  /** Overrides of the challenge's values, to forge them. */
  realm?: string;
  nonce?: string;
  opaque?: string;
}

/** The Authorization header curl --digest sends for a challenge (RFC 2617, qop=auth). */
function authorization(ch: Challenge, a: Answer): string {
  const realm = a.realm ?? ch.realm;
  const nonce = a.nonce ?? ch.nonce;
  const nc = typeof a.nc === "string" ? a.nc : (a.nc ?? 1).toString(16).padStart(8, "0");
  const cnonce = a.cnonce ?? "0a4f113b";
  const ha1 = md5(`${a.user}:${realm}:${a.password}`);
  const ha2 = md5(`${a.method ?? "GET"}:${a.uri}`);
  const response = md5(`${ha1}:${nonce}:${nc}:${cnonce}:auth:${ha2}`);
  return `Digest username="${a.user}", realm="${realm}", nonce="${nonce}", uri="${a.uri}", ` +
    `cnonce="${cnonce}", nc=${nc}, qop=auth, response="${response}", ` +
    `opaque="${a.opaque ?? ch.opaque}", algorithm=MD5`;
}

/** The curl --digest flow: an unauthenticated request for the challenge, then the answer. */
async function login(
  app: Hono,
  path: string,
  answer: Omit<Answer, "uri"> & { uri?: string },
): Promise<{ res: Response; challenge: Challenge }> {
  const challenge = await challengeOf(await request(app, path));
  const headers = { authorization: authorization(challenge, { uri: path, ...answer }) };
  const method = answer.method ?? "GET";
  return { res: await request(app, path, { method, headers }), challenge };
}

async function status(res: Response): Promise<number> {
  await res.body?.cancel();
  return res.status;
}

Deno.test("digestAuth() test vector: the htdigest hash is MD5 of name:realm:password", () => {
  assert.equal(md5("test:traefik:test"), TEST.split(":")[2]);
});

Deno.test("digestAuth() challenges with the default realm, a fresh nonce and a fixed opaque", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const first = await request(app, "/");
  assert.match(first.headers.get("content-type") ?? "", /^text\/plain/);
  const a = await challengeOf(first);
  const b = await challengeOf(await request(app, "/"));
  assert.equal(a.realm, "traefik");
  assert.equal(a.stale, false);
  assert.notEqual(a.nonce, b.nonce);
  assert.equal(a.opaque, b.opaque);
  assert.match(a.nonce, /^[A-Za-z0-9+/]{16}$/, "go-http-auth's RandomKey: 12 bytes in base64");
});

Deno.test("digestAuth() writes go-http-auth's challenge exactly, with the configured realm", async () => {
  let n = 0;
  const randomKey = () => `key${n++}`;
  for (const [realm, want] of [["admin", "admin"], ["", "traefik"]]) {
    n = 0;
    const app = appWith(digestAuth(config({ users: [TEST], realm }), { randomKey }));
    const res = await request(app, "/");
    assert.equal(
      res.headers.get("www-authenticate"),
      `Digest realm="${want}", nonce="key2", opaque="key0", algorithm="MD5", qop="auth"`,
      `realm ${JSON.stringify(realm)}`,
    );
    assert.equal(await res.text(), "401 Unauthorized\n");
  }
});

Deno.test("digestAuth() lets a correct answer through and counts requests on one nonce", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const { res, challenge } = await login(app, "/api/items?page=2", {
    user: "test",
    password: "test",
  });
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.clientUsername, "test");
  assert.equal(body.user, null, "no headerField");
  assert.match(body.authorization, /^Digest username="test"/, "Authorization is kept");

  // Browsers and curl reuse a nonce with a higher count, on any path and method.
  const again = authorization(challenge, {
    user: "test",
    password: "test",
    uri: "/other",
    method: "POST",
    nc: 2,
  });
  const res2 = await request(app, "/other", { method: "POST", headers: { authorization: again } });
  assert.equal(await status(res2), 200);
});

Deno.test("digestAuth() refuses a wrong password, an unknown user and a missing header", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  for (const [user, password] of [["test", "wrong"], ["foo", "test"], ["", ""]]) {
    const { res } = await login(app, "/", { user: user!, password: password! });
    const ch = await challengeOf(res);
    assert.equal(ch.stale, false, `${user}/${password}`);
  }
});

Deno.test("digestAuth() refuses an unknown user whatever the answer", async () => {
  // go-http-auth checks unknown users against an empty HA1, which anyone can
  // compute; here they are checked against a random one, and refused anyway.
  let n = 0;
  const app = appWith(digestAuth(config({ users: [TEST] }), { randomKey: () => `key${n++}` }));
  const ch = await challengeOf(await request(app, "/"));
  const placeholder = md5("key1:traefik:");
  const nc = "00000001";
  for (const ha1 of ["", placeholder]) {
    const response = md5(`${ha1}:${ch.nonce}:${nc}:c:auth:${md5("GET:/")}`);
    const auth = `Digest username="ghost", realm="traefik", nonce="${ch.nonce}", uri="/", ` +
      `cnonce="c", nc=${nc}, qop=auth, response="${response}", opaque="${ch.opaque}"`;
    const res = await request(app, "/", { headers: { authorization: auth } });
    assert.equal((await challengeOf(res)).stale, false, `HA1 ${JSON.stringify(ha1)}`);
  }
});

Deno.test("digestAuth() only knows users of its realm (Traefik looks up name:realm)", async () => {
  const other = `test:other:${md5("test:other:test")}`;
  const inTraefik = appWith(digestAuth(config({ users: [other] })));
  // The client answers for the realm it was challenged with, as a browser would.
  assert.equal(
    await status((await login(inTraefik, "/", { user: "test", password: "test" })).res),
    401,
  );
  // Even answering for the user's own realm does not help: the realm is part of HA1.
  const forged = await login(inTraefik, "/", { user: "test", password: "test", realm: "other" });
  assert.equal(await status(forged.res), 401);

  const inOther = appWith(digestAuth(config({ users: [other, TEST], realm: "other" })));
  assert.equal(
    await status((await login(inOther, "/", { user: "test", password: "test" })).res),
    200,
  );
});

Deno.test("digestAuth() checks that uri names the request's path and query", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const cases: { path: string; uri: string; want: number; desc: string }[] = [
    { desc: "same target", path: "/admin?x=1", uri: "/admin?x=1", want: 200 },
    { desc: "absolute form", path: "/admin?x=1", uri: "http://example.test/admin?x=1", want: 200 },
    { desc: "escaped by the URL parser", path: "/caf%C3%A9", uri: "/café", want: 200 },
    { desc: "dot segments", path: "/b", uri: "/a/../b", want: 200 },
    { desc: "other path", path: "/admin", uri: "/other", want: 401 },
    { desc: "a prefix of the path", path: "/admin", uri: "/", want: 401 },
    { desc: "query left out", path: "/admin?x=1", uri: "/admin", want: 401 },
    { desc: "other query", path: "/admin?x=1", uri: "/admin?x=2", want: 401 },
  ];
  for (const { desc, path, uri, want } of cases) {
    const { res } = await login(app, path, { user: "test", password: "test", uri });
    assert.equal(await status(res), want, desc);
  }
});

Deno.test("digestAuth() refuses a replayed nonce count, and marks an out-of-order one stale", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const ch = await challengeOf(await request(app, "/"));
  const answer = (nc: number) => ({
    headers: { authorization: authorization(ch, { user: "test", password: "test", uri: "/", nc }) },
  });
  assert.equal(await status(await request(app, "/", answer(1))), 200);
  assert.equal(await status(await request(app, "/", answer(3))), 200);

  const replayed = await challengeOf(await request(app, "/", answer(3)));
  assert.equal(replayed.stale, false, "a replay gets a plain challenge");
  const late = await challengeOf(await request(app, "/", answer(2)));
  assert.equal(late.stale, true, "pipelined requests may arrive out of order (go-http-auth)");
  assert.notEqual(late.nonce, ch.nonce);

  assert.equal(await status(await request(app, "/", answer(4))), 200, "the nonce stays usable");
});

Deno.test("digestAuth() refuses a nonce count of zero or that is not 1 to 16 hex digits", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const ch = await challengeOf(await request(app, "/"));
  // Signed correctly, so only the count is at fault.
  for (const nc of [0, 0, "0000000g", "0x1", "", "10000000000000000"]) {
    const auth = authorization(ch, { user: "test", password: "test", uri: "/", nc });
    const res = await request(app, "/", { headers: { authorization: auth } });
    assert.equal((await challengeOf(res)).stale, false, `nc ${JSON.stringify(nc)}`);
  }
  const ok = authorization(ch, { user: "test", password: "test", uri: "/", nc: "A" });
  assert.equal(await status(await request(app, "/", { headers: { authorization: ok } })), 200);
});

Deno.test("digestAuth() refuses nonces it did not issue, stale only when the digest is right", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const ch = await challengeOf(await request(app, "/"));
  const forged = (password: string) => ({
    headers: {
      authorization: authorization(ch, {
        user: "test",
        password,
        uri: "/",
        nonce: "AAAAAAAAAAAAAAAA",
      }),
    },
  });
  const right = await challengeOf(await request(app, "/", forged("test")));
  assert.equal(right.stale, true, "RFC 2617: the client knows the password, only the nonce is bad");
  const wrong = await challengeOf(await request(app, "/", forged("wrong")));
  assert.equal(wrong.stale, false);

  const badOpaque = authorization(ch, { user: "test", password: "test", uri: "/", opaque: "x" });
  const res = await request(app, "/", { headers: { authorization: badOpaque } });
  assert.equal((await challengeOf(res)).stale, false, "another instance's opaque");
});

Deno.test("digestAuth() marks an expired nonce stale", async () => {
  let clock = 1_000;
  const options: DigestAuthOptions = { now: () => clock, nonceLifetimeMs: 60_000 };
  const app = appWith(digestAuth(config({ users: [TEST] }), options));
  const ch = await challengeOf(await request(app, "/"));
  const answer = (nc: number) => ({
    headers: { authorization: authorization(ch, { user: "test", password: "test", uri: "/", nc }) },
  });
  clock += 59_999;
  assert.equal(await status(await request(app, "/", answer(1))), 200, "within its lifetime");
  clock += 1;
  const stale = await challengeOf(await request(app, "/", answer(2)));
  assert.equal(stale.stale, true);
  assert.equal(await status(await request(app, "/", answer(3))), 401, "it stays refused");

  // The client retries with the fresh nonce, without asking the user again.
  const retry = authorization(stale, { user: "test", password: "test", uri: "/" });
  assert.equal(await status(await request(app, "/", { headers: { authorization: retry } })), 200);
});

Deno.test("digestAuth() tracks a bounded number of nonces, forgetting the least recently used", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] }), { maxNonces: 2 }));
  const first = await challengeOf(await request(app, "/"));
  const second = await challengeOf(await request(app, "/"));
  const use = (ch: Challenge, nc: number) =>
    request(app, "/", {
      headers: {
        authorization: authorization(ch, { user: "test", password: "test", uri: "/", nc }),
      },
    });
  assert.equal(await status(await use(first, 1)), 200, "now the most recently used");
  const third = await challengeOf(await request(app, "/")); // evicts `second`
  assert.equal(await status(await use(first, 2)), 200);
  assert.equal(await status(await use(third, 1)), 200);
  const evicted = await challengeOf(await use(second, 1));
  assert.equal(evicted.stale, true);
});

Deno.test("digestAuth() passes the user to headerField, replacing a client's value", async () => {
  const app = appWith(digestAuth(config({ users: [TEST], headerField: "X-Webauth-User" })));
  const challenge = await challengeOf(await request(app, "/"));
  const headers = {
    authorization: authorization(challenge, { user: "test", password: "test", uri: "/" }),
    "x-webauth-user": "admin",
  };
  const body = await (await request(app, "/", { headers })).json();
  assert.equal(body.user, "test");
  assert.equal(body.clientUsername, "test");
  assert.ok(body.authorization?.startsWith("Digest "));
});

Deno.test("digestAuth() removes Authorization when removeHeader is set", async () => {
  const app = appWith(digestAuth(config({ users: [TEST], removeHeader: true })));
  const { res } = await login(app, "/", { user: "test", password: "test" });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).authorization, null);
});

Deno.test("digestAuth() names the user a client sent in the access log, even when refused", async () => {
  for (const [password, want] of [["test", 200], ["wrong", 401]] as const) {
    const record = { retryAttempts: 0 } as AccessRecord;
    const app = new Hono();
    app.use(async (c, next) => {
      // What the entrypoint does for a logged request (src/server/entrypoint.ts).
      (c.set as (key: string, value: unknown) => void)("accessLog", record);
      await next();
    });
    app.use(digestAuth(config({ users: [TEST] })));
    app.all("*", (c) => c.text("ok"));
    const { res } = await login(app, "/", { user: "test", password });
    assert.equal(await status(res), want);
    assert.equal(record.user, "test", password);
  }
});

Deno.test("digestAuth() answers malformed Authorization headers with the challenge", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  const ch = await challengeOf(await request(app, "/"));
  const good = authorization(ch, { user: "test", password: "test", uri: "/" });
  const headers = [
    "Digest",
    "Digest ",
    "Digest username=",
    'Digest username="',
    'Digest username="test',
    "Digest ,,,=,=,\\",
    'Digest username="\\',
    "Basic dGVzdDp0ZXN0",
    "Bearer abc",
    good.replace(/qop=auth/, "qop=auth-int"),
    good.replace(/algorithm=MD5/, "algorithm=SHA-256"),
    good.replace(/, uri="\/"/, ""),
    good.replace(/response="[0-9a-f]+"/, 'response=""'),
    good.replace(/username="test"/, 'username="test", username="foo"'),
  ];
  for (const authorization of headers) {
    const res = await request(app, "/", { headers: { authorization } });
    assert.equal(res.status, 401, authorization);
    assert.match(res.headers.get("www-authenticate") ?? "", CHALLENGE);
    await res.body?.cancel();
  }
});

Deno.test("digestAuth() accepts the scheme in any case, escapes in quoted values and UTF-8 names", async () => {
  const jorg = `jörg:traefik:${md5("jörg:traefik:pw")}`;
  const odd = `a"b:traefik:${md5('a"b:traefik:pw')}`;
  const app = appWith(
    digestAuth(config({ users: [TEST, jorg, odd], headerField: "X-Webauth-User" })),
  );

  const ch1 = await challengeOf(await request(app, "/"));
  const lower = authorization(ch1, { user: "test", password: "test", uri: "/" })
    .replace("Digest", "dIgEsT");
  assert.equal(await status(await request(app, "/", { headers: { authorization: lower } })), 200);

  const ch2 = await challengeOf(await request(app, "/"));
  const escaped = authorization(ch2, { user: 'a"b', password: "pw", uri: "/" })
    .replace('username="a"b"', 'username="a\\"b"');
  const res = await request(app, "/", { headers: { authorization: escaped } });
  assert.equal((await res.json()).clientUsername, 'a"b');

  // request() hands the UTF-8 bytes over one character per byte, as Deno.serve does.
  const ch3 = await challengeOf(await request(app, "/"));
  const utf8 = authorization(ch3, { user: "jörg", password: "pw", uri: "/" });
  const res3 = await request(app, "/", { headers: { authorization: utf8 } });
  const body = await res3.json();
  assert.equal(body.clientUsername, "jörg");
  assert.equal(body.user, wire("jörg"), "headerField carries the bytes the client sent");
});

Deno.test("digestAuth() merges usersFile with users (Traefik's table)", async () => {
  const cases: {
    desc: string;
    file: string;
    users: string[];
    expected: Record<string, string>;
    realm?: string;
  }[] = [
    {
      desc: "finds the users in the file",
      file: `${TEST}\n${TEST2}\n`,
      users: [],
      expected: { test: "test", test2: "test2" },
    },
    {
      desc: "merges given users with users from the file",
      file: `${TEST}\n`,
      users: [TEST2, TEST3],
      expected: { test: "test", test2: "test2", test3: "test3" },
    },
    {
      desc: "given users have priority over users in the file",
      file: `${TEST}\n${TEST2}\n`,
      users: [TEST2_OVERRIDDEN],
      expected: { test: "test", test2: "overridden" },
    },
    {
      desc: "authenticates the user of the configured realm",
      file: `# users\n\n  ${TEST}  \r\n${TEST_TRAEFIKER}\n`,
      users: [],
      expected: { test: "test2" },
      realm: "traefiker",
    },
  ];
  for (const tc of cases) {
    const read = (path: string) => {
      assert.equal(path, "/etc/pacer/digest");
      return Promise.resolve(tc.file);
    };
    const fileUsers = await readDigestUsersFile("/etc/pacer/digest", read);
    const raw = {
      users: tc.users,
      usersFile: "/etc/pacer/digest",
      ...(tc.realm ? { realm: tc.realm } : {}),
    };
    const app = appWith(digestAuth(config(raw), { fileUsers }));
    for (const [user, password] of Object.entries(tc.expected)) {
      const { res } = await login(app, "/", { user, password });
      assert.equal(await status(res), 200, `${tc.desc}: ${user}`);
    }
    const { res } = await login(app, "/", { user: "foo", password: "foo" });
    assert.equal((await challengeOf(res)).realm, tc.realm ?? "traefik", tc.desc);
  }
  const app = appWith(digestAuth(config({ users: [TEST2], usersFile: "x" }), {
    fileUsers: [TEST2_OVERRIDDEN],
  }));
  const { res } = await login(app, "/", { user: "test2", password: "overridden" });
  assert.equal(await status(res), 401, "the file's entry lost to the inline one");
});

Deno.test("digestAuth() plugin reads usersFile from disk when built", async () => {
  const path = await Deno.makeTempFile({ prefix: "pacer-digest-" });
  try {
    await Deno.writeTextFile(path, `# htdigest\n${TEST}\n`);
    const app = appWith(await createFromRaw(digestAuthPlugin, { usersFile: path }));
    const { res } = await login(app, "/", { user: "test", password: "test" });
    assert.equal(await status(res), 200);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("digestAuth() needs usersFile to be read before it is built", () => {
  assert.throws(
    () => digestAuth(config({ usersFile: "/etc/pacer/digest" })),
    /'usersFile' was not read/,
  );
  assert.throws(() => digestAuth(config({}), { maxNonces: 0 }), RangeError);
});

Deno.test("digestAuth() fails to build when usersFile is missing, naming the file", async () => {
  const path = "/nonexistent/pacer-digest";
  await assert.rejects(
    async () => await digestAuthPlugin.create(config({ usersFile: path }), testContext()),
    /digestAuth middleware as 'usersFile' cannot be read: \/nonexistent\/pacer-digest/,
  );
});

Deno.test("digestAuth() refuses a malformed usersFile line, naming the line only", async () => {
  const read = () => Promise.resolve(`${TEST}\n# ok\n\ntest2:secrethash\n`);
  await assert.rejects(
    async () => await readDigestUsersFile("/etc/pacer/digest", read),
    (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(
        error.message,
        /digestAuth middleware as 'usersFile' \/etc\/pacer\/digest line 4 is not "name:realm:hash"/,
      );
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

Deno.test("digestAuth() warns about users that can never log in", () => {
  const warnings: string[] = [];
  const log: Logger = {
    debug() {},
    info() {},
    warn: (msg) => void warnings.push(msg),
    error() {},
    with: () => log,
    enabled: () => true,
  };
  digestAuth(config({ users: ["bad:traefik:nothex", TEST] }), { log });
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /not 32 hex digits/);
  digestAuth(config({ users: [TEST_TRAEFIKER] }), { log });
  assert.match(warnings[1]!, /no user in its realm/);
});

Deno.test("digestAuth() options are validated with located errors", async () => {
  const cases: { raw: unknown; want: RegExp }[] = [
    { raw: { users: ["test"] }, want: /'digestAuth\.users\[0\]': must be "name:realm:hash"/ },
    { raw: { users: [TEST, "a:b:c:d"] }, want: /'digestAuth\.users\[1\]'/ },
    { raw: { users: TEST }, want: /'digestAuth\.users'/ },
    { raw: { realm: 5 }, want: /'digestAuth\.realm'/ },
    { raw: { realm: "a:b" }, want: /'digestAuth\.realm': must be printable ASCII/ },
    { raw: { realm: 'say "hi"' }, want: /'digestAuth\.realm'/ },
    { raw: { removeHeader: "maybe" }, want: /'digestAuth\.removeHeader'/ },
    { raw: { usersFile: "" }, want: /'digestAuth\.usersFile'/ },
    { raw: { headerField: "X User" }, want: /'digestAuth\.headerField': must be a header name/ },
    { raw: { userz: [] }, want: /unknown option 'userz'/ },
  ];
  for (const { raw, want } of cases) {
    await assert.rejects(() => createFromRaw(digestAuthPlugin, raw), want, JSON.stringify(raw));
  }
  const app = appWith(
    await createFromRaw(digestAuthPlugin, { Users: [TEST], HEADERFIELD: "X-Webauth-User" }),
  );
  const { res } = await login(app, "/", { user: "test", password: "test" });
  assert.equal((await res.json()).user, "test", "option names in any case");
  assert.deepEqual(config({}), { users: [], realm: "traefik", removeHeader: false });
});

Deno.test("digestAuth() works with a real client over HTTP", async () => {
  const app = appWith(digestAuth(config({ users: [TEST] })));
  await using server = Deno.serve(
    { port: 0, hostname: "127.0.0.1", onListen() {} },
    (req) => app.fetch(req, pacerEnv("127.0.0.1")),
  );
  const base = `http://127.0.0.1:${server.addr.port}`;
  const path = "/caf%C3%A9?q=a%20b";
  const first = await fetch(base + path);
  const ch = await challengeOf(first);
  const auth = authorization(ch, { user: "test", password: "test", uri: path, method: "PUT" });
  const res = await fetch(base + path, {
    method: "PUT",
    body: "payload",
    headers: { authorization: auth },
  });
  assert.equal(res.status, 200);
  assert.equal((await res.json()).clientUsername, "test");
});

Deno.test("digestAuth comes from Marathon labels, users as a comma-separated list", () => {
  const middlewares = middlewaresFromLabels({
    "traefik.http.middlewares.auth.digestauth.users": `${TEST}, ${TEST2}`,
    "traefik.http.middlewares.auth.digestauth.removeheader": "true",
  });
  const parsed = digestAuthConfig.parse(
    middlewares.auth?.digestAuth,
  );
  assert.deepEqual(parsed, {
    users: [TEST, TEST2],
    realm: "traefik",
    removeHeader: true,
  });
});
