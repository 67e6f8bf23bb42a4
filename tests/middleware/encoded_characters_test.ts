import { deepEqual } from "node:assert/strict";
import { Hono } from "hono";
import { pacerEnv } from "../../src/plugin/mod.ts";
import {
  encodedCharacters,
  encodedCharactersConfig,
} from "../../src/middleware/encoded_characters/mod.ts";
import { middlewaresFromLabels } from "./_ctx.ts";

/** Status and body for `path` behind the middleware built from `raw`. */
async function answer(raw: unknown, path: string): Promise<[number, string]> {
  const hono = new Hono();
  hono.use(encodedCharacters(encodedCharactersConfig.parse(raw)));
  hono.get("*", (c) => c.text("ok"));
  const res = await hono.request(`http://e.test${path}`, {}, pacerEnv("10.0.0.1"));
  return [res.status, await res.text()];
}

Deno.test("encodedCharacters refuses each reserved escape by default, in either case", async () => {
  for (
    const path of ["/a%2Fb", "/a%2fb", "/a%5Cb", "/a%5c", "/%00", "/a%3B", "/a%3b", "/a%25"]
      .concat(["/a%3F", "/a%3f", "/a%23"])
  ) {
    deepEqual(await answer({}, path), [400, "Bad Request"], path);
  }
  deepEqual(await answer({}, "/caf%C3%A9%20x"), [200, "ok"], "other escapes pass");
  deepEqual(await answer({}, "/a?next=%2Fb"), [200, "ok"], "the query is not checked");
});

Deno.test("encodedCharacters lets through what its options allow, and only that", async () => {
  const options = [
    ["allowEncodedSlash", "/a%2Fb"],
    ["allowEncodedBackSlash", "/a%5Cb"],
    ["allowEncodedNullCharacter", "/a%00"],
    ["allowEncodedSemicolon", "/a%3Bb"],
    ["allowEncodedPercent", "/a%25"],
    ["allowEncodedQuestionMark", "/a%3F"],
    ["allowEncodedHash", "/a%23"],
  ] as const;
  for (const [option, path] of options) {
    deepEqual(await answer({ [option]: true }, path), [200, "ok"], `${option} allows ${path}`);
    for (const [other, otherPath] of options) {
      if (other === option) continue;
      deepEqual(await answer({ [option]: true }, otherPath), [400, "Bad Request"], `${option}`);
    }
  }
});

Deno.test("encodedCharacters comes from Marathon labels with Traefik's lower-case names", () => {
  const middlewares = middlewaresFromLabels({
    "traefik.http.middlewares.strict.encodedcharacters.allowencodedslash": "true",
    "traefik.http.middlewares.strict.encodedcharacters.allowEncodedHash": "false",
  });
  const parsed = encodedCharactersConfig.parse(
    middlewares.strict?.encodedCharacters,
  );
  deepEqual(parsed, {
    allowEncodedSlash: true,
    allowEncodedBackSlash: false,
    allowEncodedNullCharacter: false,
    allowEncodedSemicolon: false,
    allowEncodedPercent: false,
    allowEncodedQuestionMark: false,
    allowEncodedHash: false,
  });
});
