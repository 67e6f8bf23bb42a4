/**
 * Reading and copying `Headers` in linear time.
 *
 * On Deno 2.9, iterating a `Headers` object (`for…of`, `entries()`,
 * `keys()`, spreading it) sorts and combines the whole header list again on
 * every step, so a pass is quadratic in the header count
 * (denoland/deno#36063). Passing a `Headers` object as `HeadersInit`
 * (`new Headers(h)`, `new Request(url, { headers: h })`,
 * `new Response(body, response)`) iterates it the same way. With the dozen
 * headers a browser sends, one such copy costs about 20 µs: more than
 * everything else Pacer does for a small request. `forEach()` sorts once,
 * so the helpers here go through it.
 *
 * @module
 */

/**
 * The headers as name/value pairs, in `Headers` iteration order: names lower
 * case and sorted, repeated values combined, each `set-cookie` on its own.
 *
 * @param headers The headers to read.
 * @returns A new array of pairs; usable as `HeadersInit`.
 */
export function headerPairs(headers: Headers): [string, string][] {
  const pairs: [string, string][] = [];
  headers.forEach((value, name) => {
    pairs.push([name, value]);
  });
  return pairs;
}

/**
 * A mutable copy of `headers` (`new Headers(headers)` without the quadratic
 * iteration).
 *
 * @param headers The headers to copy.
 * @returns A new `Headers` with the same entries.
 */
export function copyHeaders(headers: Headers): Headers {
  return new Headers(headerPairs(headers));
}
