import { deepEqual, equal } from "node:assert/strict";
import {
  deniedEscapes,
  type EncodedCharactersOptions,
  encodedCharactersSchema,
  pathEscapeProblem,
} from "../../src/server/encoded_characters.ts";
import type { DynamicConfig } from "../../src/config/dynamic.ts";
import { lbService, startPacer } from "../_helpers/pacer.ts";
import { rawGet, rawUpstream } from "../_helpers/raw_http.ts";

const ALL_ALLOWED: EncodedCharactersOptions = encodedCharactersSchema(true).parse({});
const NONE_ALLOWED: EncodedCharactersOptions = encodedCharactersSchema(false).parse({});

Deno.test("deniedEscapes() lists the escape of every option that is false", () => {
  deepEqual([...deniedEscapes(ALL_ALLOWED)], []);
  deepEqual([...deniedEscapes(NONE_ALLOWED)].sort(), ["00", "23", "25", "2F", "3B", "3F", "5C"]);
  deepEqual([...deniedEscapes({ ...ALL_ALLOWED, allowEncodedSemicolon: false })], ["3B"]);
});

Deno.test("pathEscapeProblem() refuses denied escapes in either case, in the path only", () => {
  const denied = deniedEscapes(NONE_ALLOWED);
  const cases: [string, string | undefined][] = [
    ["http://a.test/a%2Fb", "%2F"],
    ["http://a.test/a%2fb", "%2f"],
    ["http://a.test/a%5Cb", "%5C"],
    ["http://a.test/a%5cb", "%5c"],
    ["http://a.test/a%00", "%00"],
    ["http://a.test/a%3Bb", "%3B"],
    ["http://a.test/a%3bb", "%3b"],
    ["http://a.test/a%25", "%25"],
    ["http://a.test/a%3F", "%3F"],
    ["http://a.test/a%3f", "%3f"],
    ["http://a.test/a%23", "%23"],
    // Other escapes are fine, and a denied one after them is still found.
    ["http://a.test/a%20b%C3%A9", undefined],
    ["http://a.test/%41%2F", "%2F"],
    // The query and what follows `#` are not the path.
    ["http://a.test/a?x=%2F&y=%00", undefined],
    ["http://a.test/a#%2F", undefined],
    ["http://a.test/clean", undefined],
    ["http://a.test", undefined],
  ];
  for (const [url, escape] of cases) {
    const problem = pathEscapeProblem(url, denied);
    deepEqual(problem, escape === undefined ? undefined : { kind: "denied", escape }, url);
    equal(pathEscapeProblem(url, deniedEscapes(ALL_ALLOWED)), undefined, `${url} when allowed`);
  }
});

Deno.test("pathEscapeProblem() refuses a malformed escape even when everything is allowed", () => {
  const none = deniedEscapes(ALL_ALLOWED);
  const cases: [string, string][] = [
    ["http://a.test/a%zz", "%zz"],
    ["http://a.test/a%g1/b", "%g1"],
    ["http://a.test/a%2", "%2"],
    ["http://a.test/a%", "%"],
    ["http://a.test/100%?q=1", "%"],
    ["http://a.test/a%4?q=1", "%4"],
  ];
  for (const [url, escape] of cases) {
    deepEqual(pathEscapeProblem(url, none), { kind: "malformed", escape }, url);
  }
  equal(
    pathEscapeProblem("http://a.test/a?q=%zz", none),
    undefined,
    "a malformed query is not ours",
  );
});

/** Host `e.test` routed to `upstream`. */
function oneRouterTo(upstream: Deno.HttpServer<Deno.NetAddr>): DynamicConfig {
  return {
    http: {
      routers: { r: { rule: "Host(`e.test`)", service: "s" } },
      services: { s: lbService([`http://127.0.0.1:${upstream.addr.port}`]) },
    },
  };
}

Deno.test("entrypoint http.encodedCharacters: all allowed by default, a malformed escape always refused", async () => {
  await using upstream = rawUpstream("up");
  await using p = await startPacer({ config: oneRouterTo(upstream) });
  const port = p.pacer.entryPoint("web").addr.port;
  deepEqual(await rawGet(port, "/a%2Fb%3B%00", "e.test"), [200, "up /a%2Fb%3B%00"]);
  deepEqual(await rawGet(port, "/a%zz", "e.test"), [400, "Bad Request"]);
  deepEqual(await rawGet(port, "/a?q=%zz", "e.test"), [200, "up /a?q=%zz"]);
});

Deno.test("entrypoint http.encodedCharacters: a refused escape gets 400 before routing, the query is free", async () => {
  await using upstream = rawUpstream("up");
  await using p = await startPacer({
    web: { encodedCharacters: { ...ALL_ALLOWED, allowEncodedSlash: false } },
    config: oneRouterTo(upstream),
  });
  const port = p.pacer.entryPoint("web").addr.port;
  deepEqual(await rawGet(port, "/public%2F..%2Fadmin", "e.test"), [400, "Bad Request"]);
  deepEqual(await rawGet(port, "/public%2f..%2fadmin", "e.test"), [400, "Bad Request"]);
  // Refused before routing: even a host no router serves gets 400, not 404.
  deepEqual(await rawGet(port, "/a%2Fb", "nobody.test"), [400, "Bad Request"]);
  deepEqual(await rawGet(port, "/a?next=%2Fhome", "e.test"), [200, "up /a?next=%2Fhome"]);
  deepEqual(await rawGet(port, "/a%3Bb", "e.test"), [200, "up /a%3Bb"]);
});
