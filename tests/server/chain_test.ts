import assert from "node:assert/strict";
import type { MiddlewareHandler } from "hono";
import { silentLogger } from "../../src/log/logger.ts";
import type { Downstream } from "../../src/plugin/plugin.ts";
import { type ChainLink, compileChain } from "../../src/server/chain.ts";
import { pacerEnv } from "../../src/server/env.ts";

function link(
  middleware: string,
  handler: MiddlewareHandler | ((downstream: Downstream) => MiddlewareHandler),
  replaysDownstream = false,
): ChainLink {
  return {
    middleware,
    plugin: middleware,
    replaysDownstream,
    create: (downstream) =>
      Promise.resolve(
        replaysDownstream
          ? (handler as (d: Downstream) => MiddlewareHandler)(downstream!)
          : handler as MiddlewareHandler,
      ),
  };
}

const fields = { router: "r@test", log: silentLogger };
const env = { ...pacerEnv(), vars: { router: "r@test", client: { ip: "127.0.0.1" } } };

Deno.test("a chain's handlers see the entrypoint's variables through get() and var", async () => {
  const seen: unknown[] = [];
  const chain = await compileChain(
    [link("look", async (c, next) => {
      seen.push(c.get("router" as never), (c.var as Record<string, unknown>).client);
      await next();
    })],
    (c) => Promise.resolve(c.text(String(c.get("router" as never)))),
    fields,
  );
  const res = await chain(new Request("http://a.test/x"), env);
  assert.equal(await res.text(), "r@test");
  assert.deepEqual(seen, ["r@test", { ip: "127.0.0.1" }]);
});

Deno.test("each downstream pass gets a fresh context that inherits the caller's variables and leaks none back", async () => {
  const passes: Record<string, unknown>[] = [];
  let callerAfter: Record<string, unknown> = {};
  const twice = (downstream: Downstream): MiddlewareHandler => async (c) => {
    c.set("before" as never, "caller" as never);
    await downstream(c, c.req.raw);
    const second = await downstream(c, c.req.raw);
    callerAfter = { ...c.var };
    return second;
  };
  const chain = await compileChain(
    [
      link("twice", twice, true),
      link("count", async (c, next) => {
        const vars = c.var as Record<string, unknown>;
        passes.push({ ...vars });
        c.set("inner" as never, passes.length as never);
        await next();
      }),
    ],
    (c) => Promise.resolve(c.text(`inner ${c.get("inner" as never)}`)),
    fields,
  );
  const res = await chain(new Request("http://a.test/x"), env);
  assert.equal(await res.text(), "inner 2");
  assert.equal(passes.length, 2);
  for (const vars of passes) {
    assert.equal(vars.before, "caller", "the caller's variable is inherited");
    assert.equal(vars.router, "r@test");
    assert.equal("inner" in vars, false, "nothing from an earlier pass");
  }
  assert.equal(callerAfter.before, "caller");
  assert.equal("inner" in callerAfter, false, "a pass's variables stay in its context");
});

Deno.test("c.var is a copy: changing it sets nothing", async () => {
  let got: unknown;
  const chain = await compileChain(
    [link("mutate", async (c, next) => {
      (c.var as Record<string, unknown>).router = "changed";
      got = c.get("router" as never);
      await next();
    })],
    (c) => Promise.resolve(c.text("ok")),
    fields,
  );
  await (await chain(new Request("http://a.test/x"), env)).text();
  assert.equal(got, "r@test");
});
