/**
 * Serves custom error pages (Traefik's `errors`): when the response status
 * is in `status`, the body comes from `service` instead, fetched with a GET
 * to `query` carrying the original request's headers (so its `Host`).
 *
 * The client gets the page's body and headers with the caught status, or
 * the status `statusRewrites` maps it to (Traefik v3.4). In `query`,
 * `{status}` is that status, `{originalStatus}` the one caught, and `{url}`
 * the request URL, query-escaped (`http%3A%2F%2Fhost%2Fpath%3Fq%3D1`).
 * Responses with other statuses stream through untouched. If the page
 * service fails, the client gets the status with its reason phrase.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     error-pages:
 *       errors:
 *         status: ["500-599", "404"]
 *         statusRewrites:
 *           "502-504": 500
 *         service: error-pages
 *         query: /{status}.html
 * ```
 *
 * @module
 */
import type { Context, MiddlewareHandler } from "hono";
import { definePlugin, headerPairs, type Logger, type ServiceCall, z } from "../../plugin/mod.ts";
import { replaceResponse, statusText, textResponse } from "../_http.ts";

const NULL_BODY = new Set([204, 205, 304]);

/** An inclusive range of status codes. */
export type StatusRange = readonly [from: number, to: number];

/**
 * Parses Traefik's status syntax: `500`, `500,502`, `500-599`, or a mix.
 * @throws {RangeError} On a malformed entry or a code outside 100-599.
 */
export function parseStatusRanges(entries: readonly (string | number)[]): StatusRange[] {
  const ranges: StatusRange[] = [];
  for (const entry of entries) {
    for (const part of String(entry).split(",")) {
      const m = /^\s*(\d{3})\s*(?:-\s*(\d{3})\s*)?$/.exec(part);
      if (!m) {
        throw new RangeError(
          `'${part}' is not a status code or range (expected e.g. 404, 500-599)`,
        );
      }
      const from = Number(m[1]);
      const to = m[2] === undefined ? from : Number(m[2]);
      if (from < 100 || to > 599) throw new RangeError(`'${part}' is outside 100-599`);
      if (from > to) throw new RangeError(`'${part}' is an empty range (${from} > ${to})`);
      ranges.push([from, to]);
    }
  }
  return ranges;
}

function inRanges(ranges: readonly StatusRange[], status: number): boolean {
  for (const [from, to] of ranges) {
    if (status >= from && status <= to) return true;
  }
  return false;
}

// Entries are strings in Traefik; YAML numbers (`- 404`) are read as strings.
const statusEntry = z.preprocess((v) => typeof v === "number" ? String(v) : v, z.string());
const statusList = z.array(statusEntry).superRefine((entries, ctx) => {
  entries.forEach((entry, i) => {
    try {
      parseStatusRanges([entry]);
    } catch (error) {
      ctx.addIssue({ code: "custom", path: [i], message: (error as Error).message });
    }
  });
});

const statusCode = z.preprocess(
  (value) => typeof value === "string" && /^\s*\d+\s*$/.test(value) ? Number(value) : value,
  z.number().int().min(200, { message: "must be a status code a response can have (200-599)" })
    .max(599, { message: "must be a status code a response can have (200-599)" }),
);

/** errors options (Traefik's names and defaults). */
export const errorsConfig = z.strictObject({
  /**
   * Statuses that get an error page: `500`, `500,502`, `500-599`.
   * @default {[]}
   */
  status: statusList.default([]),
  /**
   * Status (or range, as keys) → status sent instead (Traefik v3.4).
   * @default {{}}
   */
  statusRewrites: z.record(z.string(), statusCode).superRefine((map, ctx) => {
    for (const key of Object.keys(map)) {
      try {
        parseStatusRanges([key]);
      } catch (error) {
        ctx.addIssue({ code: "custom", path: [key], message: (error as Error).message });
      }
    }
  }).default({}),
  /**
   * Name of the service serving the pages. Required.
   * @default {none}
   */
  service: z.string().min(1, { message: "service is required: the service serving error pages" }),
  /**
   * Path (and query) of the page; `{status}`, `{originalStatus}`, `{url}` are replaced.
   * @default {""}
   */
  query: z.string().default(""),
});
/** Validated errors options. */
export type ErrorsConfig = z.output<typeof errorsConfig>;

/** The request URL (absolute, without fragment), as `{url}` inserts it. */
function requestURL(c: Context): string {
  const url = c.req.raw.url;
  const hash = url.indexOf("#");
  return hash < 0 ? url : url.slice(0, hash);
}

/** Go's `url.QueryEscape`. */
function queryEscape(text: string): string {
  return encodeURIComponent(text)
    .replace(/[!'()*]/g, (ch) => "%" + ch.charCodeAt(0).toString(16).toUpperCase())
    .replaceAll("%20", "+");
}

/** Options of {@linkcode errors} besides the configuration. */
export interface ErrorsOptions {
  /** Calls the error page service. */
  readonly service: ServiceCall;
  /** Where caught statuses are logged (debug). */
  readonly log?: Logger;
}

/** Builds the errors middleware. */
export function errors(config: ErrorsConfig, options: ErrorsOptions): MiddlewareHandler {
  const ranges = parseStatusRanges(config.status);
  const rewrites = Object.entries(config.statusRewrites).map(
    ([from, to]) => [parseStatusRanges([from]), to] as const,
  );
  const query = config.query ? "/" + config.query.replace(/^\//, "") : "";
  const { service, log } = options;
  return async function errors(c, next) {
    await next();
    const original = c.res.status;
    if (!inRanges(ranges, original)) return;
    let status = original;
    for (const [from, to] of rewrites) {
      if (inRanges(from, original)) {
        status = to;
        break;
      }
    }
    log?.debug("Caught status, serving error page", { status: original, rewritten: status });
    // The caught response's body is not sent: release it (and its upstream).
    await c.res.body?.cancel().catch(() => {});
    const path = query
      .replaceAll("{status}", String(status))
      .replaceAll("{originalStatus}", String(original))
      .replaceAll("{url}", queryEscape(requestURL(c)));
    const origin = new URL(c.req.raw.url).origin;
    let page: Response;
    try {
      page = await service(
        c,
        new Request(origin + (path || "/"), {
          method: "GET",
          headers: headerPairs(c.req.raw.headers),
          signal: c.req.raw.signal,
        }),
      );
    } catch (error) {
      log?.error("Error page service failed", { error });
      replaceResponse(
        c,
        NULL_BODY.has(status) ? new Response(null, { status }) : textResponse(status),
      );
      return;
    }
    if (NULL_BODY.has(status)) await page.body?.cancel().catch(() => {});
    replaceResponse(
      c,
      new Response(NULL_BODY.has(status) ? null : page.body, {
        status,
        statusText: statusText(status),
        headers: page.headers,
      }),
    );
  };
}

/** The errors plugin. */
export default definePlugin({
  name: "errors",
  description: "Serves custom error pages from a service",
  config: errorsConfig,
  create(config, ctx) {
    const service = ctx.service(config.service);
    if (!service) {
      throw new Error(
        `Cannot create errors middleware as service '${config.service}' does not exist`,
      );
    }
    return errors(config, { service, log: ctx.log });
  },
});
