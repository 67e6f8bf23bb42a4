/**
 * A header- or cookie-based canary router: a request whose header or cookie
 * matches is sent to the canary service instead of the router's own
 * service; every other request goes on as usual. Testers opt in with a
 * header (`X-Canary: always`) or a cookie set by a feature-flag page, and
 * the stable service never sees their traffic.
 *
 * Matching: a request goes to the canary when the value of its `header`,
 * or of its `cookie`, matches: it equals one of `values` exactly, or
 * `regex` (a JavaScript regular expression) matches it.
 *
 * The canary is called through `ctx.service(name)`, the same service
 * objects (load balancing, sticky sessions, health) the router would use.
 * Middlewares listed after this one do not run for canary requests, and
 * neither do the router's health-gate and drain stages.
 *
 * @example
 * ```yaml
 * http:
 *   middlewares:
 *     beta:
 *       plugin:
 *         canary:
 *           header: X-Canary
 *           cookie: canary
 *           values: ["always", "1"]
 *           service: api-canary
 * ```
 *
 * @module
 */
import { getCookie } from "hono/cookie";
import { definePlugin, editableHeaders, regexp, z } from "../../src/plugin/mod.ts";
import type { Context, MiddlewareHandler, ServiceCall } from "../../src/plugin/mod.ts";

declare module "hono" {
  interface ContextVariableMap {
    /** Whether the canary plugin sent this request to the canary service. */
    canary: boolean;
  }
}

/** The canary options. */
export const canaryConfig = z.strictObject({
  /**
   * Service that receives canary requests (`name`, resolved in the
   * middleware's provider, or `name@provider`). Required.
   * @default {none}
   */
  service: z.string().min(1),
  /** Request header whose value selects the canary. @default {none} */
  header: z.string().min(1).optional(),
  /** Cookie whose value selects the canary. @default {none} */
  cookie: z.string().min(1).optional(),
  /** Values that select the canary, compared exactly. @default {[]} */
  values: z.array(z.string()).default([]),
  /** JavaScript regular expression selecting the canary when it matches the value. @default {none} */
  regex: regexp().optional(),
  /**
   * Response header telling which way the request went (`canary` or
   * `stable`); empty to leave responses alone.
   * @default {""}
   */
  responseHeader: z.string().default(""),
}).superRefine((config, ctx) => {
  if (config.header === undefined && config.cookie === undefined) {
    ctx.addIssue({ code: "custom", message: "set 'header' or 'cookie' (or both)", path: [] });
  }
  if (config.values.length === 0 && config.regex === undefined) {
    ctx.addIssue({ code: "custom", message: "set 'values' or 'regex' (or both)", path: [] });
  }
});

/** Validated canary options. */
export type CanaryConfig = z.output<typeof canaryConfig>;

/**
 * Builds the canary middleware around a service call.
 *
 * @param call The canary service, from `ctx.service(config.service)`.
 */
export function canary(config: CanaryConfig, call: ServiceCall): MiddlewareHandler {
  const values = new Set(config.values);
  const regex = config.regex === undefined ? undefined : new RegExp(config.regex);
  const matches = (value: string | undefined) =>
    value !== undefined && (values.has(value) || (regex?.test(value) ?? false));
  const selected = (c: Context) =>
    (config.header !== undefined && matches(c.req.raw.headers.get(config.header) ?? undefined)) ||
    (config.cookie !== undefined && matches(getCookie(c, config.cookie)));
  const tag = config.responseHeader;

  return async function canary(c, next) {
    if (!selected(c)) {
      c.set("canary", false);
      await next();
      if (tag) editableHeaders(c).set(tag, "stable");
      return;
    }
    c.set("canary", true);
    const res = await call(c, c.req.raw);
    if (!tag) return res;
    try {
      res.headers.set(tag, "canary");
      return res;
    } catch {
      // Immutable headers (a Response.redirect from an internal service): copy once.
      const copy = new Response(res.body, res);
      copy.headers.set(tag, "canary");
      return copy;
    }
  };
}

/** The canary plugin. */
export default definePlugin({
  name: "canary",
  version: "1.0.0",
  description: "Sends requests with a matching header or cookie to a canary service",
  config: canaryConfig,
  create(config, ctx) {
    const call = ctx.service(config.service);
    if (!call) {
      // At create time, so the router is disabled with this message instead
      // of failing every canary request later.
      throw new RangeError(
        `Cannot create canary middleware as 'service' names no usable service: ` +
          `current value is '${config.service}' (it does not exist or is disabled)`,
      );
    }
    ctx.log.debug("Canary ready", { service: config.service });
    return canary(config, call);
  },
});
