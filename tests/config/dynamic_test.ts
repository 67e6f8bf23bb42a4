import { deepEqual } from "node:assert/strict";
import { serverSchema } from "../../src/config/dynamic.ts";

/** The messages a server URL gets, or [] when it is accepted. */
function urlProblems(url: string): string[] {
  const result = serverSchema.safeParse({ url });
  return result.success ? [] : result.error.issues.map((i) => i.message);
}

Deno.test("a server URL must be absolute and http or https; h2c says why it is refused", () => {
  deepEqual(urlProblems("http://10.0.0.1:8080"), []);
  deepEqual(urlProblems("https://backend.internal/base"), []);
  deepEqual(urlProblems("10.0.0.1:8080"), ["must be an absolute URL such as http://10.0.0.1:8080"]);
  deepEqual(urlProblems("localhost:8080"), [
    "must be an absolute URL such as http://10.0.0.1:8080",
  ]);
  deepEqual(urlProblems("/relative"), ["must be an absolute URL such as http://10.0.0.1:8080"]);
  deepEqual(urlProblems("ftp://files.internal"), ['the scheme must be http or https, got "ftp"']);
  deepEqual(urlProblems("h2c://grpc.internal:50051"), [
    "h2c (HTTP/2 without TLS, as gRPC uses) is not supported: Deno's client and server do not " +
    "carry HTTP trailers, which gRPC needs; use http or https",
  ]);
});
