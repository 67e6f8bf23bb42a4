/**
 * HTTP/1.1 exchanges with the request line exactly as written: `fetch` and
 * `new URL` would clean the path first (dot segments, escapes), which is
 * what the tests using these check Pacer does or does not do.
 *
 * @module
 */

/** Sends a request line as given (fetch would clean the path first) and returns status and body. */
export async function rawGet(
  port: number,
  target: string,
  host: string,
): Promise<[number, string]> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await conn.write(
    new TextEncoder().encode(
      `GET ${target} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`,
    ),
  );
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of conn.readable) text += decoder.decode(chunk, { stream: true });
  const status = Number(text.split(" ")[1]);
  const body = text.slice(text.indexOf("\r\n\r\n") + 4);
  return [status, body.includes("\r\n") ? body.split("\r\n")[1]! : body];
}

/** An upstream that answers with its name and the request target exactly as it arrived. */
export function rawUpstream(name: string): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const url = request.url;
    const target = url.slice(url.indexOf("/", url.indexOf("//") + 2));
    return new Response(`${name} ${target}`);
  });
}
