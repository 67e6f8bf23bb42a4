/**
 * One member's HTTP API (Hono): Marathon's REST endpoints and `/v2/events`
 * on the leader; on a standby, transparent proxying to the leader
 * (`X-Marathon-Via` loop guard), 302 for `/v2/events`, and 502 while no
 * leader is known. Auth, headers and injected faults wrap every path;
 * `/_sim/*` admin endpoints bypass them.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { absoluteId } from "./app_def.ts";
import { jettyErrorPage, MarathonError } from "./errors.ts";
import type { EventStream } from "./events.ts";
import { type JsonObject, parseJsonBody } from "./json_reader.ts";
import { matchesLabels, parseLabelSelector } from "./label_selector.ts";
import type { Marathon } from "./marathon.ts";
import { renderAppInfo, renderDeployment, renderTask, resolveEmbeds } from "./render.ts";
import type { TaskRecord } from "./state.ts";

/** Basic and/or DC/OS token auth. */
export interface AuthConfig {
  /** Built-in HTTP basic (`--http_credentials`). */
  readonly basic?: { readonly user: string; readonly password: string };
  /** DC/OS ACS token, sent as `Authorization: token=<T>`. */
  readonly token?: string;
}

/** A response fault. */
export interface FailFault {
  /** Status to answer. @default {503} */
  readonly status: number;
  /** Body kind: a Jetty HTML page, a JSON message, or truncated JSON with status 200. */
  readonly body: "html" | "json" | "malformed";
  /** Requests left to fail (Infinity = until cleared). */
  remaining: number;
  /** Only paths starting with this string (or matching this pattern). */
  readonly path?: string | RegExp;
  /** Only this member. */
  readonly member?: number;
}

/** A delay fault. */
export interface DelayFault {
  /** Delay in ms. */
  readonly ms: number;
  /** Only matching paths. */
  readonly path?: string | RegExp;
  /** Only this member. */
  readonly member?: number;
}

/** What a member needs from its cluster. */
export interface MemberContext {
  /** The shared core. */
  readonly marathon: Marathon;
  /** This member's index. */
  readonly index: number;
  /** This member's `host:port`. */
  readonly hostPort: () => string;
  /** The leader's `host:port`, or null during an election. */
  readonly leader: () => string | null;
  /** Waits (Marathon: 10 × 250 ms) for a leader; null if none appeared. */
  readonly waitForLeader: () => Promise<string | null>;
  /** Abdicates (the leader's `DELETE /v2/leader`). */
  readonly abdicate: () => void;
  /** Auth settings. */
  readonly auth: AuthConfig | undefined;
  /** Current faults. */
  readonly faults: () => { delay: DelayFault | null; fail: FailFault | null };
  /** Opens an SSE stream on the leader. */
  readonly openEvents: (eventTypes: Set<string>, remoteAddress: string) => EventStream;
  /** Forwards a request to the leader. */
  readonly forward: (req: Request, url: string) => Promise<Response>;
  /** `/v2/info` details. */
  readonly info: () => JsonObject;
  /** Admin endpoints (`/_sim/*`). */
  readonly admin: Hono;
}

const NO_CACHE = {
  "Cache-Control": "no-cache, no-store, must-revalidate",
  "Pragma": "no-cache",
  "Expires": "0",
};

function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json", ...headers },
  });
}

function html(status: number, path: string, reason: string, headers: Record<string, string> = {}) {
  return new Response(jettyErrorPage(status, path, reason), {
    status,
    headers: { "Content-Type": "text/html;charset=ISO-8859-1", ...headers },
  });
}

function matches(path: string, pattern: string | RegExp | undefined): boolean {
  if (pattern === undefined) return true;
  return typeof pattern === "string" ? path.startsWith(pattern) : pattern.test(path);
}

function bool(v: string | undefined): boolean {
  return v === "true" || v === "1";
}

function remoteAddress(c: Context): string {
  const info = c.env as { remoteAddr?: { hostname?: string } } | undefined;
  return info?.remoteAddr?.hostname ?? "127.0.0.1";
}

/** The request URI as sent, for `api_post_event`. */
function requestUri(c: Context): string {
  return new URL(c.req.url).pathname;
}

function deploymentResponse(ref: { deploymentId: string; version: string }, status = 200) {
  return json(ref, status, { "Marathon-Deployment-Id": ref.deploymentId });
}

async function readBody(c: Context): Promise<unknown> {
  return parseJsonBody(await c.req.text());
}

function authorized(auth: AuthConfig | undefined, header: string | undefined): boolean {
  if (!auth || (!auth.basic && auth.token === undefined)) return true;
  if (header === undefined) return false;
  if (auth.basic && header.startsWith("Basic ")) {
    try {
      const [user, ...rest] = atob(header.slice(6).trim()).split(":");
      if (user === auth.basic.user && rest.join(":") === auth.basic.password) return true;
    } catch {
      return false;
    }
  }
  if (auth.token !== undefined && header.startsWith("token=")) {
    return header.slice(6) === auth.token;
  }
  return false;
}

function unauthorized(auth: AuthConfig, path: string): Response {
  // Basic auth is Jetty's security handler (HTML); tokens are DC/OS Admin Router (JSON).
  if (auth.basic) {
    return html(401, path, "Unauthorized", { "WWW-Authenticate": 'Basic realm="Mesosphere"' });
  }
  return json({ message: "Invalid username or password." }, 401, {
    "WWW-Authenticate": "acsjwt",
  });
}

/**
 * Builds one member's Hono app.
 *
 * @param ctx The member's view of the cluster.
 */
export function createMemberApp(ctx: MemberContext): Hono {
  const app = new Hono();
  const m = ctx.marathon;
  const legacy = m.options.legacy;

  app.route("/_sim", ctx.admin);

  app.use("*", async function headers(c, next) {
    await next();
    if (new URL(c.req.url).pathname.startsWith("/_sim")) return;
    for (const [k, v] of Object.entries(NO_CACHE)) {
      if (!c.res.headers.has(k)) c.res.headers.set(k, v);
    }
  });

  app.use("*", async function auth(c, next) {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/_sim")) return await next();
    if (!authorized(ctx.auth, c.req.header("authorization"))) {
      return unauthorized(ctx.auth!, path);
    }
    await next();
  });

  app.use("*", async function faults(c, next) {
    const path = new URL(c.req.url).pathname;
    if (path.startsWith("/_sim")) return await next();
    const { delay, fail } = ctx.faults();
    if (delay && matches(path, delay.path) && (delay.member ?? ctx.index) === ctx.index) {
      await new Promise((r) => setTimeout(r, delay.ms));
    }
    if (
      fail && fail.remaining > 0 && matches(path, fail.path) &&
      (fail.member ?? ctx.index) === ctx.index
    ) {
      fail.remaining--;
      if (fail.body === "malformed") {
        return new Response('{"apps":[{"id":"/truncated","instances":', {
          status: 200,
          headers: { "Content-Type": "application/json" },
        });
      }
      if (fail.body === "html") return html(fail.status, path, "Injected fault");
      return json({ message: "Injected fault" }, fail.status);
    }
    await next();
  });

  app.use("*", async function leaderProxy(c, next) {
    const url = new URL(c.req.url);
    if (url.pathname.startsWith("/_sim")) return await next();
    // Any member knows who leads (or that nobody does): a standby answers /v2/leader itself.
    const known = ctx.leader();
    if (url.pathname === "/v2/leader" && c.req.method === "GET" && known !== ctx.hostPort()) {
      return await next();
    }
    const leader = known ?? await ctx.waitForLeader();
    if (leader === null) return html(502, url.pathname, "Could not determine the current leader");
    if (leader === ctx.hostPort()) {
      await next();
      c.res.headers.set("X-Marathon-Leader", `http://${leader}`);
      c.res.headers.set("X-Frame-Options", "DENY");
      c.res.headers.set("X-XSS-Protection", "1; mode=block");
      return;
    }
    const target = `http://${leader}${url.pathname}${url.search}`;
    if (url.pathname.startsWith("/v2/events")) {
      return new Response(null, { status: 302, headers: { Location: target } });
    }
    const via = c.req.header("x-marathon-via");
    if (via?.split(",").some((hop) => hop.trim().endsWith(ctx.hostPort()))) {
      return html(502, url.pathname, "Detected proxying loop.");
    }
    try {
      return await ctx.forward(c.req.raw, target);
    } catch (err) {
      return html(502, url.pathname, `Bad Gateway: ${err instanceof Error ? err.message : err}`);
    }
  });

  app.onError((err) => {
    if (err instanceof MarathonError) return json(err.body, err.status);
    if (err instanceof SyntaxError) return json({ message: err.message }, 422);
    m.options.log(`sim: request failed: ${err instanceof Error ? err.stack : err}`);
    return json({ message: `An unexpected server error occurred: ${err}` }, 500);
  });
  app.notFound(() => json({ message: "HTTP 404 Not Found" }, 404));

  app.get("/ping", (c) => {
    const accept = c.req.header("accept");
    if (!accept || /text\/plain|text\/\*|\*\/\*/.test(accept)) {
      return new Response("pong", { headers: { "Content-Type": "text/plain" } });
    }
    if (/application\/(json|\*)/.test(accept)) return json("pong");
    return new Response(null, { status: 204 });
  });

  app.get("/v2/info", () => json(ctx.info()));

  app.get("/v2/leader", () => {
    const leader = ctx.leader();
    return leader === null ? json({ message: "There is no leader" }, 404) : json({ leader });
  });
  app.delete("/v2/leader", () => {
    // Answer first; the election starts once the response is on its way.
    setTimeout(() => ctx.abdicate(), 0);
    return json({ message: "Leadership abdicated" });
  });

  app.get("/v2/events", (c) => {
    if (c.req.header("accept") !== "text/event-stream") {
      return new Response(
        `<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>
<title>Error 405 </title>
</head>
<body>
<h2>HTTP ERROR: 405</h2>
<p>Problem accessing /v2/events. Reason:
<pre>    HTTP method GET is not supported by this URL</pre></p>
<hr /><a href="http://eclipse.org/jetty">Powered by Jetty:// 9.4.z-SNAPSHOT</a><hr/>
</body>
</html>
`,
        { status: 405, headers: { "Content-Type": "text/html;charset=ISO-8859-1" } },
      );
    }
    const types = new Set((c.req.queries("event_type") ?? []).flatMap((t) => t.split(",")));
    const stream = ctx.openEvents(types, remoteAddress(c));
    return new Response(stream.body, {
      headers: {
        "Content-Type": "text/event-stream;charset=UTF-8",
        "Connection": "close",
        ...NO_CACHE,
      },
    });
  });

  app.get("/v2/apps", (c) => {
    const embeds = resolveEmbeds(c.req.queries("embed") ?? [], ["counts", "deployments"]);
    const idFilter = c.req.query("id")?.toLowerCase();
    const cmdFilter = c.req.query("cmd")?.toLowerCase();
    const label = c.req.query("label");
    const selectors = label !== undefined && label !== "" ? parseLabelSelector(label) : [];
    const apps = [...m.state.apps.values()]
      .filter((a) => idFilter === undefined || a.def.id.toLowerCase().includes(idFilter))
      .filter((a) => cmdFilter === undefined || (a.def.cmd ?? "").toLowerCase().includes(cmdFilter))
      .filter((a) => matchesLabels(a.def.labels, selectors))
      .sort((a, b) => a.def.id.localeCompare(b.def.id))
      .map((a) => renderAppInfo(m.state, a, embeds, { legacy }));
    return json({ apps });
  });

  app.post("/v2/apps", async (c) => {
    const raw = await readBody(c);
    const { app: created, deployment } = m.createApp(raw, {
      clientIp: remoteAddress(c),
      uri: requestUri(c),
    });
    const body = {
      ...m.renderApp(created.def),
      tasksStaged: 0,
      tasksRunning: 0,
      tasksHealthy: 0,
      tasksUnhealthy: 0,
      deployments: [{ id: deployment.deploymentId }],
      tasks: [],
    };
    return json(body, 201, {
      "Location": `/v2/apps${created.def.id}`,
      "Marathon-Deployment-Id": deployment.deploymentId,
    });
  });

  app.get("/v2/tasks", (c) => {
    const statuses = [...(c.req.queries("status") ?? []), ...(c.req.queries("status[]") ?? [])]
      .map((s) => `TASK_${s.toUpperCase()}`);
    const tasks = [...m.state.tasks.values()]
      .filter((t) => m.state.apps.has(t.appId))
      .filter((t) => statuses.length === 0 || statuses.includes(t.state));
    return tasksResponse(c, tasks);
  });

  app.post("/v2/tasks/delete", async (c) => {
    const raw = await readBody(c) as { ids?: unknown };
    const ids = Array.isArray(raw?.ids) ? raw.ids.filter((x) => typeof x === "string") : [];
    const tasks = ids.map((id) => {
      const t = m.state.tasks.get(id);
      if (!t) throw new MarathonError(404, { message: `Task '${id}' does not exist` });
      return t;
    });
    return killResponse(tasks, c);
  });

  app.get(
    "/v2/deployments",
    () => json([...m.state.deployments.values()].map((d) => renderDeployment(m.state, d))),
  );

  app.delete("/v2/deployments/:id", (c) => {
    const ref = m.cancelDeployment(c.req.param("id"), bool(c.req.query("force")));
    return ref ? deploymentResponse(ref) : new Response(null, { status: 202 });
  });

  function tasksResponse(c: Context, tasks: TaskRecord[]): Response {
    const accept = c.req.header("accept") ?? "";
    if (accept.includes("text/plain") && !accept.includes("application/json")) {
      // The deprecated text format: appId, service port, then host:port of every task.
      const lines: string[] = [];
      for (const a of m.state.apps.values()) {
        const own = tasks.filter((t) => t.appId === a.def.id);
        (own[0]?.servicePorts ?? []).forEach((sp, i) => {
          lines.push(
            [
              a.def.id.replace(/^\//, "").replaceAll("/", "_"),
              sp,
              ...own.flatMap((t) =>
                t.net.ports[i] !== undefined ? [`${t.net.host}:${t.net.ports[i]}`] : []
              ),
            ].join("\t"),
          );
        });
      }
      return new Response(lines.map((l) => l + "\n").join(""), {
        headers: { "Content-Type": "text/plain" },
      });
    }
    return json({ tasks: tasks.map((t) => renderTask(t, { legacy, servicePorts: true })) });
  }

  function killResponse(tasks: TaskRecord[], c: Context): Response {
    const result = m.killTasks(tasks, {
      scale: bool(c.req.query("scale")),
      force: bool(c.req.query("force")),
    });
    return "deployment" in result ? deploymentResponse(result.deployment) : json(result);
  }

  // App ids contain slashes, so everything under /v2/apps/ is dispatched by suffix.
  app.all("/v2/apps/*", async (c) => {
    const rest = decodeURIComponent(new URL(c.req.url).pathname.slice("/v2/apps/".length));
    const method = c.req.method;
    let match: RegExpExecArray | null;
    if ((match = /^(.+)\/restart$/.exec(rest)) && method === "POST") {
      return deploymentResponse(m.restartApp(match[1]!, { force: bool(c.req.query("force")) }));
    }
    if ((match = /^(.+)\/tasks\/([^/]+)$/.exec(rest)) && method === "DELETE") {
      const task = m.task(match[1]!, match[2]!);
      const result = m.killTasks([task], {
        scale: bool(c.req.query("scale")),
        force: bool(c.req.query("force")),
      });
      return "deployment" in result
        ? deploymentResponse(result.deployment)
        : json({ task: result.tasks[0] });
    }
    if ((match = /^(.+)\/tasks$/.exec(rest)) && (method === "GET" || method === "DELETE")) {
      const id = absoluteId(match[1]!);
      if (!m.state.apps.has(id)) {
        throw new MarathonError(404, { message: `App '${id}' does not exist` });
      }
      const host = c.req.query("host");
      const tasks = m.state.tasksOf(id).filter((t) => host === undefined || t.net.host === host);
      return method === "GET" ? tasksResponse(c, tasks) : killResponse(tasks, c);
    }
    const id = absoluteId(rest);
    switch (method) {
      case "GET": {
        const app = m.app(id);
        if (!app) throw new MarathonError(404, { message: `App '${id}' does not exist` });
        const embeds = resolveEmbeds(c.req.queries("embed") ?? [], [
          "counts",
          "tasks",
          "lastTaskFailure",
          "deployments",
        ]);
        return json({ app: renderAppInfo(m.state, app, embeds, { legacy }) });
      }
      case "PUT":
      case "PATCH": {
        const raw = await readBody(c);
        const partial = method === "PATCH" || c.req.query("partialUpdate") !== "false";
        const { deployment, created } = m.updateApp(id, raw, {
          force: bool(c.req.query("force")),
          partial,
          caller: { clientIp: remoteAddress(c), uri: requestUri(c) },
        });
        const res = deploymentResponse(deployment, created ? 201 : 200);
        if (created) res.headers.set("Location", `/v2/apps${id}`);
        return res;
      }
      case "DELETE":
        return deploymentResponse(m.deleteApp(id, { force: bool(c.req.query("force")) }));
      default:
        return json({ message: "HTTP 405 Method Not Allowed" }, 405);
    }
  });

  return app;
}
