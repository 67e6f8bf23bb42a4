import assert from "node:assert/strict";
import { Hono } from "hono";
import type { Handler } from "hono";
import type { Downstream } from "../../src/plugin/mod.ts";
import { memoryLogger } from "../../src/log/logger.ts";
import { MiddlewareRegistry } from "../../src/middleware/registry.ts";
import plugin, { type BufferingConfig } from "../../src/middleware/buffering/mod.ts";
import { parseRetryExpression } from "../../src/middleware/buffering/_retry_expression.ts";
import { testContext } from "./_ctx.ts";

function resolve(raw: unknown) {
  return new MiddlewareRegistry().register(plugin).resolve({ buffering: raw });
}

async function build(
  raw: unknown,
  next: Handler,
  ctx: Parameters<typeof testContext>[0] = {},
): Promise<Hono> {
  const resolved = resolve(raw);
  assert.ok(resolved.ok, resolved.ok ? "" : resolved.error);
  const app = new Hono();
  app.use(await plugin.create(resolved.options as BufferingConfig, testContext(ctx)));
  app.all("*", next);
  return app;
}

/** A request body in chunks; the last one waits for `release()`. */
function gatedBody(chunks: string[]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  const stream = new ReadableStream<Uint8Array>({
    async start(controller) {
      for (const [i, chunk] of chunks.entries()) {
        if (i === chunks.length - 1) await released;
        controller.enqueue(new TextEncoder().encode(chunk));
      }
      controller.close();
    },
  });
  return { stream, release };
}

function post(
  app: Hono,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  const init: RequestInit & { duplex?: string } = { method: "POST", body, headers };
  if (body instanceof ReadableStream) init.duplex = "half";
  return Promise.resolve(app.request("http://localhost/upload", init));
}

Deno.test("buffering() forwards a request only once its whole body arrived", async () => {
  let calls = 0;
  const app = await build({}, async (c) => {
    calls++;
    return c.text(`got ${await c.req.text()}`);
  });
  const { stream, release } = gatedBody(["a", "b", "c"]);
  const pending = post(app, stream);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(calls, 0, "the service must not see a partial request");
  release();
  const res = await pending;
  assert.equal(await res.text(), "got abc");
  assert.equal(res.headers.get("content-length"), "7");
  assert.equal(calls, 1);
});

Deno.test("buffering() refuses request bodies over maxRequestBodyBytes with 413", async () => {
  let calls = 0;
  const next: Handler = (c) => {
    calls++;
    return c.text("reached");
  };
  const app = await build({ maxRequestBodyBytes: 5 }, next);

  const declared = await post(app, "0123456789");
  assert.equal(declared.status, 413);
  assert.equal(await declared.text(), "Request Entity Too Large");

  const { stream, release } = gatedBody(["0123", "4567", "89"]);
  release();
  const streamed = await post(app, stream);
  assert.equal(streamed.status, 413);
  await streamed.body?.cancel();

  const fits = await post(app, "01234");
  assert.equal(fits.status, 200);
  assert.equal(await fits.text(), "reached");
  assert.equal(calls, 1);
});

Deno.test("buffering() replaces responses over maxResponseBodyBytes with 500", async () => {
  const app = await build(
    { maxResponseBodyBytes: 10 },
    (c) => c.text(c.req.query("size") === "big" ? "x".repeat(11) : "x".repeat(10)),
  );
  const big = await app.request("http://localhost/?size=big");
  assert.equal(big.status, 500);
  assert.equal(await big.text(), "Internal Server Error");
  const ok = await app.request("http://localhost/");
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get("content-length"), "10");
  assert.equal(await ok.text(), "x".repeat(10));
});

Deno.test("buffering() keeps statuses, headers and empty bodies", async () => {
  const app = await build({}, () => new Response(null, { status: 204, headers: { "x-a": "1" } }));
  const res = await app.request("http://localhost/", { method: "DELETE" });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get("x-a"), "1");
  assert.equal(res.body, null);
});

Deno.test("buffering() spools large bodies to a temporary file (or memory without write access)", async () => {
  const { log, records } = memoryLogger("warn");
  const canWrite = (await Deno.permissions.query({ name: "write" })).state === "granted";
  const tmp = Deno.env.get("TMPDIR") ?? "/tmp";
  const spooled = async () => {
    const names: string[] = [];
    for await (const entry of Deno.readDir(tmp)) {
      if (entry.name.startsWith("pacer-buffer-")) names.push(entry.name);
    }
    return names.length;
  };
  const before = await spooled();
  const payload = "0123456789".repeat(100);
  const app = await build(
    { memRequestBodyBytes: 64, memResponseBodyBytes: 64 },
    async (c) => c.text(`${await c.req.text()}|${"r".repeat(500)}`),
    { log },
  );
  const res = await post(app, payload);
  assert.equal(await res.text(), `${payload}|${"r".repeat(500)}`);
  assert.equal(res.headers.get("content-length"), String(payload.length + 501));
  assert.equal(await spooled(), before, "temporary files are removed");
  if (canWrite) {
    assert.deepEqual(records(), []);
  } else {
    assert.match(String(records()[0]?.msg), /Cannot spool body to a temporary file/);
  }
});

/** A downstream that answers each attempt from `answers` and records the bodies it got. */
function scripted(answers: (() => Response)[]): { downstream: Downstream; bodies: string[] } {
  const bodies: string[] = [];
  const downstream: Downstream = async (_c, request) => {
    bodies.push(await request.text());
    const answer = answers[Math.min(bodies.length - 1, answers.length - 1)]!;
    return answer();
  };
  return { downstream, bodies };
}

const networkError = () =>
  new Response("Bad Gateway", { status: 502, headers: { "x-pacer-upstream-error": "connect" } });
const upstream502 = () => new Response("from upstream", { status: 502 });
const ok = () => new Response("ok", { status: 200 });
const unavailable = () => new Response("busy", { status: 503 });

Deno.test("buffering() retries while retryExpression holds, replaying the body", async () => {
  const cases: {
    desc: string;
    expression: string;
    answers: (() => Response)[];
    attempts: number;
    status: number;
  }[] = [
    {
      desc: "network error then success",
      expression: "IsNetworkError() && Attempts() < 2",
      answers: [networkError, ok],
      attempts: 2,
      status: 200,
    },
    {
      desc: "gives up after Attempts() < 2",
      expression: "IsNetworkError() && Attempts() < 2",
      answers: [networkError],
      attempts: 2,
      status: 502,
    },
    {
      desc: "an upstream's own 502 is not a network error",
      expression: "IsNetworkError()",
      answers: [upstream502, ok],
      attempts: 1,
      status: 502,
    },
    {
      desc: "ResponseCode() and <=",
      expression: "ResponseCode() == 503 && Attempts() <= 3",
      answers: [unavailable],
      attempts: 4,
      status: 503,
    },
    {
      desc: "stops on success",
      expression: "ResponseCode() >= 500",
      answers: [unavailable, unavailable, ok],
      attempts: 3,
      status: 200,
    },
    {
      desc: "at most 10 attempts",
      expression: "Attempts() > 0",
      answers: [unavailable],
      attempts: 10,
      status: 503,
    },
    {
      desc: "RequestMethod()",
      expression: `RequestMethod() == "GET" && Attempts() < 3`,
      answers: [unavailable],
      attempts: 1,
      status: 503,
    },
    {
      desc: "|| and parentheses",
      expression: "(IsNetworkError() || ResponseCode() == 503) && Attempts() < 3",
      answers: [networkError, unavailable, ok],
      attempts: 3,
      status: 200,
    },
  ];
  for (const test of cases) {
    const { downstream, bodies } = scripted(test.answers);
    const app = await build(
      { retryExpression: test.expression },
      () => new Response("next() must not run"),
      { downstream },
    );
    const res = await post(app, "payload");
    assert.equal(res.status, test.status, test.desc);
    await res.body?.cancel();
    assert.equal(bodies.length, test.attempts, test.desc);
    assert.deepEqual(
      new Set(bodies),
      new Set(["payload"]),
      `${test.desc}: every attempt gets the body`,
    );
  }
});

Deno.test("buffering() uses the downstream replay once when there is no retryExpression", async () => {
  const { downstream, bodies } = scripted([unavailable]);
  const app = await build({}, () => new Response("next() must not run"), { downstream });
  const res = await post(app, "x");
  assert.equal(res.status, 503);
  assert.equal(await res.text(), "busy");
  assert.deepEqual(bodies, ["x"]);
});

Deno.test("buffering() with retryExpression needs the downstream replay", () => {
  const resolved = resolve({ retryExpression: "IsNetworkError()" });
  assert.ok(resolved.ok);
  assert.throws(
    () => plugin.create(resolved.options as BufferingConfig, testContext()),
    /'retryExpression' needs the downstream replay/,
  );
});

Deno.test("parseRetryExpression() evaluates oxy's predicate language", () => {
  const facts = { attempts: 2, responseCode: 503, method: "POST", networkError: false };
  const cases: [string, boolean][] = [
    ["Attempts() == 2", true],
    ["Attempts() != 2", false],
    ["Attempts() < 2 || ResponseCode() > 500", true],
    ["Attempts() >= 2 && RequestMethod() == `POST`", true],
    ['RequestMethod() != "POST"', false],
    ["IsNetworkError()", false],
    ["((Attempts() < 3))", true],
  ];
  for (const [source, expected] of cases) {
    assert.equal(parseRetryExpression(source)(facts), expected, source);
  }
});

Deno.test("buffering() rejects bad options with the key path", () => {
  const bad: [unknown, RegExp][] = [
    [{ maxRequestBodyBytes: -1 }, /'buffering\.maxRequestBodyBytes': must be >= 0/],
    [{ memRequestBodyBytes: 1.5 }, /'buffering\.memRequestBodyBytes'/],
    [{ maxResponseBodyBytes: "10MB" }, /'buffering\.maxResponseBodyBytes'/],
    [{ memResponseBodyBytes: -5 }, /'buffering\.memResponseBodyBytes'/],
    [
      { retryExpression: "IsNetworkError() &&" },
      /'buffering\.retryExpression': unexpected 'end of expression' at position 20/,
    ],
    [
      { retryExpression: "Retries() < 2" },
      /'buffering\.retryExpression': unknown function 'Retries' \(known: IsNetworkError, .*\) at position 1/,
    ],
    [
      { retryExpression: "Attempts()" },
      /'buffering\.retryExpression': the expression must be true or false/,
    ],
    [
      { retryExpression: `Attempts() < "2"` },
      /'buffering\.retryExpression': cannot compare int and string/,
    ],
    [
      { retryExpression: "Attempts() < 2 ; rm" },
      /'buffering\.retryExpression': unexpected ';' at position 16/,
    ],
    [
      { retryExpression: "IsNetworkError() && 3" },
      /'buffering\.retryExpression': '&&' needs true\/false operands/,
    ],
    [{ maxBodyBytes: 1 }, /unknown option 'maxBodyBytes'/],
  ];
  for (const [raw, expected] of bad) {
    const resolved = resolve(raw);
    assert.equal(resolved.ok, false, JSON.stringify(raw));
    if (!resolved.ok) assert.match(resolved.error, expected);
  }
  assert.ok(resolve({}).ok, "buffering needs no options");
});
