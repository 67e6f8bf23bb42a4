import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import basicAuthPlugin, {
  basicAuth,
  type BasicAuthConfig,
  basicAuthConfig,
  type BasicAuthOptions,
  readUsersFile,
} from "../../src/middleware/basic_auth/mod.ts";
import { md5Crypt } from "../../src/middleware/basic_auth/_htpasswd.ts";
import { testContext } from "./_ctx.ts";

// Vectors: Traefik's basic_auth_test.go, `openssl passwd`, `printf hunter2 | sha1 | base64`.
const APR1_TEST = "test:$apr1$H6uskkkW$IgXLP6ewTrSuBkTrqE8wj/"; // test / test
const APR1_TEST2 = "test2:$apr1$d9hr9HBB$4HxwgUir3HP4EsggP/QNo0"; // test2 / test2
const APR1_TEST3 = "test3:$apr1$3rJbDP0q$RfzJiorTk78jQ1EcKqWso0"; // test3 / test3
const APR1_OVERRIDDEN = "test2:$apr1$mK.GtItK$ncnLYvNLek0weXdxo68690"; // test2 / overridden
const BCRYPT_2A = "$2a$04$.8sTYfcxbSplCtoxt5TdJOgpBYkarKtZYsYfYxQ1edbYRuO1DNi0e"; // test

function config(raw: Record<string, unknown>): BasicAuthConfig {
  return basicAuthConfig.parse(raw);
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

function basic(user: string, password: string): Record<string, string> {
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  return { authorization: `Basic ${btoa(String.fromCharCode(...bytes))}` };
}

function sha1(text: string): string {
  return createHash("sha1").update(text).digest("base64");
}

function get(app: Hono, headers: Record<string, string> = {}): Promise<Response> {
  return Promise.resolve(app.request("/", { headers }, pacerEnv("10.0.0.1")));
}

Deno.test("basicAuth() answers 401 with the default realm when credentials are missing", async () => {
  const app = appWith(basicAuth(config({ users: [APR1_TEST] })));
  const res = await get(app);
  assert.equal(res.status, 401);
  assert.equal(res.headers.get("www-authenticate"), 'Basic realm="traefik"');
  assert.equal(await res.text(), "401 Unauthorized\n");
});

Deno.test("basicAuth() uses the configured realm, and the default for an empty one", async () => {
  for (const [realm, want] of [["admin", "admin"], ["", "traefik"]]) {
    const res = await get(appWith(basicAuth(config({ users: [APR1_TEST], realm }))));
    assert.equal(res.headers.get("www-authenticate"), `Basic realm="${want}"`, `realm ${realm}`);
    await res.body?.cancel();
  }
});

Deno.test("basicAuth() checks each htpasswd hash format", async () => {
  const cases: { desc: string; line: string; password: string; want: number }[] = [
    { desc: "apr1 right", line: APR1_TEST, password: "test", want: 200 },
    { desc: "apr1 wrong", line: APR1_TEST, password: "nope", want: 401 },
    {
      desc: "apr1 utf-8",
      line: "test:$apr1$Ny1.gZ8x$5ZdrjRBgXC4pKiXd1G3E6.",
      password: "pässwörd!",
      want: 200,
    },
    {
      desc: "md5 $1$",
      line: "test:$1$abc$BXBqpb9BZcZhXLgbee.0s/",
      password: "password",
      want: 200,
    },
    {
      desc: "md5 $1$ wrong",
      line: "test:$1$abc$BXBqpb9BZcZhXLgbee.0s/",
      password: "Password",
      want: 401,
    },
    {
      desc: "sha1",
      line: "test:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
      password: "hunter2",
      want: 200,
    },
    {
      desc: "sha1 wrong",
      line: "test:{SHA}87u9ZqY9S/F0eUBXjsPQEDUw4h0=",
      password: "hunter3",
      want: 401,
    },
    { desc: "bcrypt $2a$", line: `test:${BCRYPT_2A}`, password: "test", want: 200 },
    {
      desc: "bcrypt $2y$",
      line: `test:${BCRYPT_2A.replace("$2a$", "$2y$")}`,
      password: "test",
      want: 200,
    },
    {
      desc: "bcrypt $2b$",
      line: `test:${BCRYPT_2A.replace("$2a$", "$2b$")}`,
      password: "test",
      want: 200,
    },
    { desc: "bcrypt wrong", line: `test:${BCRYPT_2A}`, password: "tesT", want: 401 },
    { desc: "plain text never matches", line: "test:test", password: "test", want: 401 },
  ];
  for (const { desc, line, password, want } of cases) {
    const res = await get(appWith(basicAuth(config({ users: [line] }))), basic("test", password));
    assert.equal(res.status, want, desc);
    await res.body?.cancel();
  }
});

Deno.test("basicAuth() md5Crypt matches Apache's $apr1$ for an empty password", () => {
  assert.equal(md5Crypt("", "ab", "$apr1$"), "$apr1$ab$S8K6Sgp3W8c9Jb6LxgywZ.");
});

Deno.test("basicAuth() rejects unknown users and malformed Authorization headers", async () => {
  const app = appWith(basicAuth(config({ users: [APR1_TEST] })));
  const headers: Record<string, string>[] = [
    basic("foo", "test"),
    { authorization: "Bearer abc" },
    { authorization: "Basic !!!not-base64" },
    { authorization: `Basic ${btoa("no-colon")}` },
    { authorization: "Basic" },
  ];
  for (const h of headers) {
    const res = await get(app, h);
    assert.equal(res.status, 401, JSON.stringify(h));
    await res.body?.cancel();
  }
});

Deno.test("basicAuth() accepts the scheme in any case and a password containing colons", async () => {
  const app = appWith(basicAuth(config({ users: ["u:{SHA}" + sha1("a:b:c")] })));
  const header = basic("u", "a:b:c").authorization!.replace("Basic", "bAsIc");
  const res = await get(app, { authorization: header });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("basicAuth() passes the user to headerField and clientUsername, keeping Authorization", async () => {
  const app = appWith(basicAuth(config({ users: [APR1_TEST], headerField: "X-Webauth-User" })));
  const res = await get(app, basic("test", "test"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.user, "test");
  assert.equal(body.clientUsername, "test");
  assert.ok(body.authorization?.startsWith("Basic "));
});

Deno.test("basicAuth() removes Authorization when removeHeader is set", async () => {
  const app = appWith(basicAuth(config({ users: [APR1_TEST], removeHeader: true })));
  const res = await get(app, basic("test", "test"));
  assert.equal(res.status, 200);
  assert.equal((await res.json()).authorization, null);
});

Deno.test("basicAuth() replaces a client-sent headerField value", async () => {
  const app = appWith(basicAuth(config({ users: [APR1_TEST], headerField: "X-Webauth-User" })));
  const res = await get(app, { ...basic("test", "test"), "x-webauth-user": "admin" });
  assert.equal((await res.json()).user, "test");
});

Deno.test("basicAuth() passes a non-Latin-1 user name to headerField as its UTF-8 bytes", async () => {
  const app = appWith(
    basicAuth(config({ users: ["名前:{SHA}" + sha1("pw")], headerField: "X-Webauth-User" })),
  );
  const res = await get(app, basic("名前", "pw"));
  assert.equal(res.status, 200);
  const body = await res.json();
  assert.equal(body.clientUsername, "名前");
  // The header holds the bytes the client sent, one character per byte (as Traefik forwards them).
  const bytes = Uint8Array.from(body.user as string, (ch) => ch.charCodeAt(0));
  assert.equal(new TextDecoder().decode(bytes), "名前");
});

Deno.test("basicAuth() merges usersFile with users (Traefik's table)", async () => {
  const cases: {
    desc: string;
    file: string;
    users: string[];
    expected: Record<string, string>;
    realm?: string;
  }[] = [
    {
      desc: "finds the users in the file",
      file: `${APR1_TEST}\n${APR1_TEST2}\n`,
      users: [],
      expected: { test: "test", test2: "test2" },
    },
    {
      desc: "merges given users with users from the file",
      file: `${APR1_TEST}\n`,
      users: [APR1_TEST2, APR1_TEST3],
      expected: { test: "test", test2: "test2", test3: "test3" },
    },
    {
      desc: "given users have priority over users in the file",
      file: `${APR1_TEST}\n${APR1_TEST2}\n`,
      users: [APR1_OVERRIDDEN],
      expected: { test: "test", test2: "overridden" },
    },
    {
      desc: "skips comments and blank lines, uses the realm",
      file: `#Comment\n\n  ${APR1_TEST}  \r\n${APR1_TEST2}\n`,
      users: [],
      expected: { test: "test", test2: "test2" },
      realm: "traefiker",
    },
  ];
  for (const tc of cases) {
    const read = (path: string) => {
      assert.equal(path, "/etc/pacer/users");
      return Promise.resolve(tc.file);
    };
    const fileUsers = await readUsersFile("/etc/pacer/users", read);
    const raw = {
      users: tc.users,
      usersFile: "/etc/pacer/users",
      ...(tc.realm ? { realm: tc.realm } : {}),
    };
    const app = appWith(basicAuth(config(raw), { fileUsers }));
    for (const [user, password] of Object.entries(tc.expected)) {
      const res = await get(app, basic(user, password));
      assert.equal(res.status, 200, `${tc.desc}: ${user}`);
      await res.body?.cancel();
    }
    const res = await get(app, basic("foo", "foo"));
    assert.equal(res.status, 401, tc.desc);
    assert.equal(res.headers.get("www-authenticate"), `Basic realm="${tc.realm ?? "traefik"}"`);
    await res.body?.cancel();
  }
});

Deno.test("basicAuth() needs usersFile to be read before it is built", () => {
  assert.throws(
    () => basicAuth(config({ usersFile: "/etc/pacer/users" })),
    /'usersFile' was not read/,
  );
});

Deno.test("basicAuth() fails to build when usersFile is missing, naming the file", async () => {
  const path = "/nonexistent/pacer-users";
  await assert.rejects(
    async () => await basicAuthPlugin.create(config({ usersFile: path }), testContext()),
    (error: Error) => {
      assert.match(error.message, /'usersFile' cannot be read: \/nonexistent\/pacer-users/);
      return true;
    },
  );
});

Deno.test("basicAuth() refuses a malformed usersFile line, naming the line only", async () => {
  const read = () => Promise.resolve(`${APR1_TEST}\n# ok\nbroken-line-secret\n`);
  await assert.rejects(
    async () => await readUsersFile("/etc/pacer/users", read),
    (error: Error) => {
      assert.ok(error instanceof SyntaxError);
      assert.match(error.message, /'usersFile' \/etc\/pacer\/users line 3 is not "name:hash"/);
      assert.doesNotMatch(error.message, /secret/);
      return true;
    },
  );
});

Deno.test("basicAuth() runs one bcrypt check for concurrent requests and caches successes", async () => {
  let runs = 0;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  let clock = 0;
  const options: BasicAuthOptions = {
    now: () => clock,
    verify: async (password) => {
      runs++;
      await gate;
      return password === "test";
    },
  };
  const app = appWith(basicAuth(config({ users: [`test:${BCRYPT_2A}`] }), options));
  const both = Promise.all([get(app, basic("test", "test")), get(app, basic("test", "test"))]);
  await new Promise((r) => setTimeout(r, 0));
  release();
  for (const res of await both) {
    assert.equal(res.status, 200);
    await res.body?.cancel();
  }
  assert.equal(runs, 1, "concurrent checks share one computation");

  clock += 59_000;
  (await get(app, basic("test", "test"))).body?.cancel();
  assert.equal(runs, 1, "a recent success is cached");

  clock += 2_000;
  (await get(app, basic("test", "test"))).body?.cancel();
  assert.equal(runs, 2, "the cache entry expires after a minute");

  for (let i = 0; i < 2; i++) {
    const res = await get(app, basic("test", "wrong"));
    assert.equal(res.status, 401);
    await res.body?.cancel();
  }
  assert.equal(runs, 4, "failures are never cached");
});

Deno.test("basicAuth() options are validated with located errors", () => {
  const registry = new MiddlewareRegistry().register(basicAuthPlugin);
  const cases: { raw: unknown; want: RegExp }[] = [
    {
      raw: { users: [APR1_TEST, "nocolon"] },
      want: /'basicAuth\.users\[1\]': must be "name:hash"/,
    },
    { raw: { users: ["a:b:c"] }, want: /'basicAuth\.users\[0\]'/ },
    { raw: { users: "test:x" }, want: /'basicAuth\.users'/ },
    { raw: { realm: 5 }, want: /'basicAuth\.realm'/ },
    { raw: { removeHeader: "yes" }, want: /'basicAuth\.removeHeader'/ },
    { raw: { usersFile: "" }, want: /'basicAuth\.usersFile'/ },
    { raw: { userz: [] }, want: /unknown option 'userz'/ },
  ];
  for (const { raw, want } of cases) {
    const result = registry.resolve({ basicAuth: raw });
    assert.equal(result.ok, false, JSON.stringify(raw));
    assert.match((result as { error: string }).error, want);
  }
  const ok = registry.resolve({ BasicAuth: { Users: [APR1_TEST], HEADERFIELD: "X-User" } });
  assert.equal(ok.ok, true);
  assert.deepEqual((ok as { options: BasicAuthConfig }).options, {
    users: [APR1_TEST],
    realm: "traefik",
    removeHeader: false,
    headerField: "X-User",
  });
});
