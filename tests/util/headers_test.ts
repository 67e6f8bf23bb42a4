import assert from "node:assert/strict";
import { copyHeaders, headerPairs } from "../../src/util/headers.ts";

function sample(): Headers {
  return new Headers([
    ["Set-Cookie", "a=1"],
    ["X-B", "2"],
    ["set-cookie", "b=2"],
    ["x-a", "1"],
    ["X-A", "3"],
  ]);
}

Deno.test("headerPairs() yields what iterating the Headers yields", () => {
  const headers = sample();
  assert.deepEqual(headerPairs(headers), [...headers]);
  assert.deepEqual(headerPairs(headers), [
    ["set-cookie", "a=1"],
    ["set-cookie", "b=2"],
    ["x-a", "1, 3"],
    ["x-b", "2"],
  ]);
  assert.deepEqual(headerPairs(new Headers()), []);
});

Deno.test("headerPairs() reads immutable headers (a fetch response's)", async () => {
  const response = await fetch("data:text/plain,hi");
  assert.deepEqual(headerPairs(response.headers), [["content-type", "text/plain"]]);
  assert.equal(await response.text(), "hi");
});

Deno.test("copyHeaders() is an equal, independent copy that keeps each Set-Cookie", () => {
  const source = sample();
  const copy = copyHeaders(source);
  assert.notStrictEqual(copy, source);
  assert.deepEqual([...copy], [...source]);
  assert.deepEqual(copy.getSetCookie(), ["a=1", "b=2"]);
  copy.set("x-a", "changed");
  copy.delete("x-b");
  assert.deepEqual(source.get("x-a"), "1, 3");
  assert.deepEqual(source.get("x-b"), "2");
});

// Deno 2.9 iterates Headers quadratically (src/util/headers.ts): one copy of
// a browser's dozen headers costs about 20 µs. Keep the slow forms out of
// the code that runs per request.
Deno.test("no module copies or iterates a Headers object the quadratic way", async () => {
  const slow = [
    // (`config.headers` is a plain record: fast.)
    /new Headers\((?!config\.)[\w.]*\.headers\)/,
    /\bof [\w.]*\.headers\)/,
    /\[\.\.\.[\w.]*[hH]eaders(\.keys\(\)|\.entries\(\))?\]/,
  ];
  const offenders: string[] = [];
  for (const dir of ["src", "plugins"]) {
    const root = new URL(`../../${dir}/`, import.meta.url);
    for await (const path of walk(root)) {
      const lines = (await Deno.readTextFile(path)).split("\n");
      lines.forEach((line, i) => {
        if (line.trimStart().startsWith("*") || line.trimStart().startsWith("//")) return;
        if (slow.some((re) => re.test(line))) {
          offenders.push(`${path.pathname.slice(root.pathname.length - dir.length - 1)}:${i + 1}`);
        }
      });
    }
  }
  assert.deepEqual(offenders, [], "use headerPairs() / copyHeaders() from src/util/headers.ts");
});

async function* walk(dir: URL): AsyncGenerator<URL> {
  for await (const entry of Deno.readDir(dir)) {
    const url = new URL(entry.name + (entry.isDirectory ? "/" : ""), dir);
    if (entry.isDirectory) yield* walk(url);
    else if (entry.name.endsWith(".ts")) yield url;
  }
}
