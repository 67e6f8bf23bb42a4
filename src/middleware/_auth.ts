/**
 * What basicAuth and digestAuth share: reading a users file (htpasswd,
 * htdigest), and passing an authenticated user on.
 *
 * @module
 */
import type { Context } from "hono";
import { copyHeaders, rewriteRequest } from "../plugin/mod.ts";
import { toByteString } from "./_http.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** The authenticated user name, set by basicAuth, digestAuth and forwardAuth (`headerField`), for what follows. */
    clientUsername: string;
  }
}

/** What a users file holds, for checks and messages. */
export interface UsersFileFormat {
  /** The middleware type reading it, e.g. `basicAuth`. */
  readonly middleware: string;
  /** The shape of a line, e.g. `name:hash`. */
  readonly shape: string;
  /** Whether a (trimmed, non-comment) line has that shape. */
  readonly isLine: (line: string) => boolean;
}

/**
 * Reads the user lines of `path`: one user per line, blank lines and `#`
 * comments skipped, every other line checked for the format's shape. Errors
 * name the middleware, the file and the line, never the line itself (it
 * holds a hash).
 * @throws {Error} If the file cannot be read.
 * @throws {SyntaxError} If a line does not have the format's shape.
 */
export async function readUsersFile(
  path: string,
  format: UsersFileFormat,
  readTextFile: (path: string) => Promise<string> = Deno.readTextFile,
): Promise<string[]> {
  const cannot = `Cannot create ${format.middleware} middleware as 'usersFile'`;
  let text: string;
  try {
    text = await readTextFile(path);
  } catch (error) {
    throw new Error(`${cannot} cannot be read: ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const lines: string[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) return;
    if (!format.isLine(line)) {
      throw new SyntaxError(`${cannot} ${path} line ${index + 1} is not "${format.shape}"`);
    }
    lines.push(line);
  });
  return lines;
}

/** Where an authenticated user name goes besides `clientUsername`. */
export interface AuthenticatedUserOptions {
  /** Request header that receives the user name. */
  readonly headerField?: string | undefined;
  /** Remove `Authorization` before the request goes on. */
  readonly removeHeader: boolean;
}

/**
 * Passes `user` on to what follows: the `clientUsername` variable, and
 * `headerField` (as the UTF-8 bytes the client sent, as Traefik forwards
 * them) and `removeHeader` when configured.
 */
export function passAuthenticatedUser(
  c: Context,
  user: string,
  options: AuthenticatedUserOptions,
): void {
  c.set("clientUsername", user);
  if (options.headerField === undefined && !options.removeHeader) return;
  const headers = copyHeaders(c.req.raw.headers);
  if (options.headerField !== undefined) headers.set(options.headerField, toByteString(user));
  if (options.removeHeader) headers.delete("authorization");
  rewriteRequest(c, { headers });
}
