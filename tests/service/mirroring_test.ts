import assert from "node:assert/strict";
import type { DynamicConfig } from "../../src/config/dynamic.ts";
import { MirroringService } from "../../src/service/mirroring.ts";
import { lbService, startPacer, type TestPacer } from "../_helpers/pacer.ts";
import { closedPort, type Upstream, upstream } from "../_helpers/upstream.ts";

/** An upstream that records each request's body as text. */
async function recording(name: string): Promise<Upstream & { bodies: string[] }> {
  const bodies: string[] = [];
  const up = await upstream(name, async (request) => {
    bodies.push(await request.text());
    return new Response(name);
  });
  return Object.assign(up, { bodies });
}

/** A config routing `m.test` to a mirroring service named `mirrored`. */
function mirroringConfig(
  main: string,
  mirroring: Record<string, unknown>,
  services: Record<string, string>,
): DynamicConfig {
  return {
    http: {
      routers: { r: { rule: "Host(`m.test`)", service: "mirrored" } },
      services: {
        mirrored: { mirroring: { service: "main", ...mirroring } },
        main: lbService([main]),
        ...Object.fromEntries(
          Object.entries(services).map(([name, url]) => [name, lbService([url])]),
        ),
      },
    },
  } as DynamicConfig;
}

/** The live mirroring service, to wait for its mirror requests. */
function mirroringNode(p: TestPacer): MirroringService {
  const node = p.pacer.generation!.nodes.get("mirrored@file");
  assert.ok(node instanceof MirroringService, "mirrored@file is a mirroring service");
  return node;
}

Deno.test("mirroring: the main service answers; each mirror gets its counted share", async () => {
  await using main = await upstream("main");
  await using half = await upstream("half");
  await using all = await upstream("all");
  await using p = await startPacer({
    config: mirroringConfig(main.url, {
      mirrors: [{ name: "half", percent: 50 }, { name: "all", percent: 100 }],
    }, { half: half.url, all: all.url }),
  });
  for (let i = 0; i < 10; i++) {
    const res = await p.request("m.test", `/item/${i}?q=${i}`, { headers: { "x-trace": `t${i}` } });
    assert.equal(await res.text(), "main");
  }
  await mirroringNode(p).idle();
  assert.equal(main.seen.length, 10);
  assert.equal(all.seen.length, 10);
  // Counted, not drawn: exactly half, alternating.
  assert.deepEqual(half.seen.map((s) => s.path), [0, 2, 4, 6, 8].map((i) => `/item/${i}?q=${i}`));
  const copy = all.seen[3]!;
  assert.equal(copy.method, "GET");
  assert.equal(copy.path, "/item/3?q=3");
  assert.equal(copy.headers.get("x-trace"), "t3");
  assert.equal(copy.headers.get("x-forwarded-for"), "127.0.0.1");
  assert.equal(copy.headers.get("host"), "m.test");
});

Deno.test("mirroring: a body goes to main and mirrors alike, unless larger than maxBodySize", async () => {
  await using main = await recording("main");
  await using mirror = await recording("mirror");
  await using p = await startPacer({
    config: mirroringConfig(main.url, {
      maxBodySize: 8,
      mirrors: [{ name: "copy", percent: 100 }],
    }, { copy: mirror.url }),
  });
  const post = (body: BodyInit) => p.request("m.test", "/upload", { method: "POST", body });
  assert.equal(await (await post("hello")).text(), "main");
  // Declared too large (Content-Length): main alone, streamed.
  assert.equal(await (await post("0123456789")).text(), "main");
  // Found too large while reading (chunked): main still gets all of it.
  const chunked = ReadableStream.from(
    ["abcdef", "ghijkl", "mn"].map((s) => new TextEncoder().encode(s)),
  );
  assert.equal(await (await post(chunked)).text(), "main");
  await mirroringNode(p).idle();
  assert.deepEqual(main.bodies, ["hello", "0123456789", "abcdefghijklmn"]);
  assert.deepEqual(mirror.bodies, ["hello"]);
  assert.equal(mirror.seen[0]!.headers.get("content-length"), "5");
});

Deno.test("mirroring: with mirrorBody false, mirrors get the request without its body", async () => {
  await using main = await recording("main");
  await using mirror = await recording("mirror");
  await using p = await startPacer({
    config: mirroringConfig(main.url, {
      mirrorBody: false,
      mirrors: [{ name: "copy", percent: 100 }],
    }, { copy: mirror.url }),
  });
  const res = await p.request("m.test", "/form", { method: "POST", body: "a=1" });
  assert.equal(await res.text(), "main");
  await mirroringNode(p).idle();
  assert.deepEqual(main.bodies, ["a=1"]);
  assert.deepEqual(mirror.bodies, [""]);
  assert.equal(mirror.seen[0]!.method, "POST");
  assert.equal(mirror.seen[0]!.headers.get("content-length"), "0");
});

Deno.test("mirroring: a failing or hanging mirror never holds up or changes the client's answer", async () => {
  await using main = await upstream("main");
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await using slow = await upstream("slow", async () => {
    await released;
    return new Response("slow");
  });
  await using p = await startPacer({
    config: mirroringConfig(main.url, {
      mirrors: [{ name: "down", percent: 100 }, { name: "slow", percent: 100 }],
    }, { down: `http://127.0.0.1:${closedPort()}`, slow: slow.url }),
  });
  const res = await p.request("m.test", "/");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "main");
  // The client has its answer although the second mirror has not answered.
  for (let i = 0; i < 200 && slow.seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(slow.seen.length, 1, "the slow mirror got the request after the refused one");
  release();
  await mirroringNode(p).idle();
});

Deno.test("mirroring: a request whose client left before the main service answered is not mirrored", async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => release = resolve);
  await using main = await upstream("main", async () => {
    await released;
    return new Response("late");
  });
  await using mirror = await upstream("mirror");
  await using p = await startPacer({
    config: mirroringConfig(main.url, { mirrors: [{ name: "copy", percent: 100 }] }, {
      copy: mirror.url,
    }),
  });
  const controller = new AbortController();
  const request = p.request("m.test", "/", { signal: controller.signal });
  for (let i = 0; i < 200 && main.seen.length === 0; i++) {
    await new Promise((r) => setTimeout(r, 10));
  }
  controller.abort();
  await assert.rejects(request);
  // Pacer notices the client left (and aborts the main request) within ~50 ms.
  await new Promise((r) => setTimeout(r, 150));
  release();
  await mirroringNode(p).idle();
  assert.equal(main.seen.length, 1);
  assert.equal(mirror.seen.length, 0);
});

Deno.test("mirroring: references are checked like any service's", async () => {
  await using up = await upstream();
  await using p = await startPacer({
    config: {
      http: {
        routers: {
          a: { rule: "Host(`a.test`)", service: "missing-mirror" },
          b: { rule: "Host(`b.test`)", service: "loop" },
          c: { rule: "Host(`c.test`)", service: "fine" },
        },
        services: {
          "missing-mirror": {
            mirroring: { service: "s", mirrors: [{ name: "nope", percent: 5 }] },
          },
          loop: { mirroring: { service: "loop" } },
          fine: { mirroring: { service: "s" } },
          s: lbService([up.url]),
        },
      },
    } as DynamicConfig,
  });
  const data = p.pacer.rawdata() as {
    services: Record<string, { status: string; error?: string[]; mirroring?: unknown }>;
  };
  assert.equal(data.services["missing-mirror@file"]!.status, "disabled");
  assert.match(data.services["missing-mirror@file"]!.error![0]!, /'nope@file' does not exist/);
  assert.match(data.services["loop@file"]!.error![0]!, /refers to itself/);
  assert.equal(data.services["fine@file"]!.status, "enabled");
  // As written, like every service's configuration in the API.
  assert.deepEqual(data.services["fine@file"]!.mirroring, { service: "s" });
  assert.equal(await (await p.request("c.test")).text(), "up");
  const disabled = await p.request("a.test");
  await disabled.body?.cancel();
  assert.equal(disabled.status, 404);
});
