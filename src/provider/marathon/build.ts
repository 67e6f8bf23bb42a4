/**
 * Marathon apps → Pacer's dynamic configuration: a pure function reproducing
 * Traefik v2's Marathon provider (TRAEFIK_PROVIDER.md §4–§14) without its
 * crashes (§15), used by the provider and by `pacer marathon routes`.
 *
 * Per app, in Traefik's order (§4): provider labels (`enable`,
 * `marathon.ipaddressidx`) → synthetic constraint labels → enable and
 * `constraints` filters → routing labels (`http`, `tcp`, `udp`,
 * `tls.stores.default`) → TCP services and routers → UDP services and routers
 * → stop for pure TCP/UDP apps → HTTP services → HTTP routers (default router,
 * default rule, service linking). Fragments are then merged in app-id order
 * (§12).
 *
 * Deliberate differences from Traefik, each reported as a diagnostic instead
 * of a crash or a silent half-configuration:
 * - a UDP service without servers drops the app, like HTTP and TCP (Traefik
 *   only logs it and keeps a broken UDP fragment, §15.1);
 * - `ipaddressidx` equal to the number of addresses, `networks: []` and a
 *   discovery without ports are errors or read as absent instead of panics;
 * - addresses follow API.md §4 (host ports on the agent, container ports on
 *   the container IP), see `network.ts`;
 * - label-defined `weighted` / `mirroring` / `failover` services are kept as
 *   written (Traefik dereferences a nil load balancer and panics); a service
 *   with no kind at all drops the app;
 * - an empty `server.scheme` label means `http` (Traefik builds `://host:port`);
 * - a task that is not `TASK_RUNNING` is still skipped, but with an `info`
 *   diagnostic (Traefik is silent), so `pacer marathon routes` can say why an
 *   app has no server.
 *
 * Routers built here carry `ruleSyntax: "v2"` (labels are written for Traefik
 * v2) unless a label sets it. Routers whose rule came from `defaultRule` are
 * listed in {@linkcode BuildResult.defaultRuleRouters} (the router schema has
 * no room for Traefik's internal flag) so the engine can add Traefik's
 * recursion guard to them.
 *
 * @module
 */
import type { DynamicConfig } from "../../config/dynamic.ts";
import { formatIssues } from "../../config/issues.ts";
import { builtinRegistry } from "../../middleware/builtins.ts";
import type { MiddlewareRegistry } from "../../middleware/registry.ts";
import type { Diagnostic } from "../provider.ts";
import {
  type MarathonOptions,
  type MarathonOptionsInput,
  marathonOptionsSchema,
} from "./options.ts";
import {
  compileConstraints,
  type ConstraintMatcher,
  MARATHON_CONSTRAINT_PREFIX,
} from "./constraints.ts";
import { setOwn } from "../../util/set_own.ts";
import { decodeLabels, LabelDecodeError } from "./labels.ts";
import { labelHooks, providerLabelSchema, routingLabelSchema } from "./label_schema.ts";
import { type Fragment, mergeFragments } from "./merge.ts";
import { joinHostPort, resolveEndpoint } from "./network.ts";
import { taskReadiness } from "./readiness.ts";
import { type CompiledTemplate, compileTemplate, GoMap, GoStruct } from "./template.ts";
import { type MarathonApp, type MarathonTask, readApp } from "./types.ts";

/** What {@linkcode buildConfiguration} needs besides apps and options. */
export interface BuildContext {
  /** The current time, for readiness windows (§5.3). */
  readonly now: Date;
  /** Middleware types labels may use. @default {builtinRegistry()} */
  readonly registry?: MiddlewareRegistry;
}

/** The result of {@linkcode buildConfiguration}. */
export interface BuildResult {
  /**
   * Traefik's dynamic-configuration shape, names unqualified, every map
   * allocated (so an empty cluster really removes all routes).
   */
  readonly config: DynamicConfig;
  /** One entry per skipped app, task, router or merged-away object. */
  readonly diagnostics: Diagnostic[];
  /**
   * HTTP routers (unqualified names, sorted) whose rule was rendered from
   * `defaultRule`; Traefik guards these against recursive requests
   * (`X-Traefik-Router`).
   */
  readonly defaultRuleRouters: string[];
}

/** The options the builder reads. */
type BuildOptions = Pick<
  MarathonOptions,
  | "exposedByDefault"
  | "defaultRule"
  | "constraints"
  | "forceTaskHostname"
  | "respectReadinessChecks"
  | "labelPrefix"
>;

const optionsSchema = marathonOptionsSchema.pick({
  exposedByDefault: true,
  defaultRule: true,
  constraints: true,
  forceTaskHostname: true,
  respectReadinessChecks: true,
  labelPrefix: true,
});

const templateCache = new Map<string, CompiledTemplate>();
const constraintCache = new Map<string, ConstraintMatcher | SyntaxError>();
let defaultRegistry: MiddlewareRegistry | undefined;

/**
 * Compiles `providers.marathon.defaultRule` (a Go template, see `template.ts`).
 * Use it to validate the option when Pacer starts: Traefik refuses to start
 * the provider when the template does not parse.
 *
 * @throws {SyntaxError} If the template does not parse or calls an unknown function.
 */
export function compileDefaultRule(defaultRule: string): CompiledTemplate {
  let compiled = templateCache.get(defaultRule);
  if (!compiled) {
    try {
      compiled = compileTemplate(defaultRule);
    } catch (error) {
      throw new SyntaxError(
        `Cannot use providers.marathon.defaultRule ${JSON.stringify(defaultRule)}: ${
          (error as Error).message
        }`,
        { cause: error },
      );
    }
    if (templateCache.size > 32) templateCache.clear();
    templateCache.set(defaultRule, compiled);
  }
  return compiled;
}

function constraintsMatcher(expression: string): ConstraintMatcher | SyntaxError {
  let entry = constraintCache.get(expression);
  if (!entry) {
    try {
      entry = compileConstraints(expression);
    } catch (error) {
      entry = error as SyntaxError;
    }
    if (constraintCache.size > 32) constraintCache.clear();
    constraintCache.set(expression, entry);
  }
  return entry;
}

function readOptions(options: MarathonOptionsInput | MarathonOptions): BuildOptions {
  const picked: Record<string, unknown> = {};
  for (const key of Object.keys(optionsSchema.shape)) {
    const value = (options as Record<string, unknown>)[key];
    if (value !== undefined) picked[key] = value;
  }
  const result = optionsSchema.safeParse(picked);
  if (!result.success) {
    throw new TypeError(
      `Invalid providers.marathon options: ${
        formatIssues(result.error.issues, "providers.marathon")
      }`,
    );
  }
  return result.data;
}

/** The default service and router name: id without its leading `/`, `/` → `_` (§7). */
export function appServiceName(appId: string): string {
  return (appId.startsWith("/") ? appId.slice(1) : appId).replaceAll("/", "_");
}

type Obj = Record<string, unknown>;

class AppBuilder {
  readonly #app: MarathonApp;
  readonly #opts: BuildOptions;
  readonly #now: Date;
  readonly #diagnostics: Diagnostic[];
  readonly #seen = new Set<string>();
  #usable: MarathonTask[] | undefined;
  #ipAddressIdx: number | undefined;

  constructor(app: MarathonApp, opts: BuildOptions, now: Date, diagnostics: Diagnostic[]) {
    this.#app = app;
    this.#opts = opts;
    this.#now = now;
    this.#diagnostics = diagnostics;
  }

  #report(d: Omit<Diagnostic, "appId">): void {
    const key = `${d.severity}|${d.taskId ?? ""}|${d.item ?? ""}|${d.message}`;
    if (this.#seen.has(key)) return;
    this.#seen.add(key);
    this.#diagnostics.push({ ...d, appId: this.#app.id });
  }

  #skipApp(message: string, severity: Diagnostic["severity"] = "error"): undefined {
    this.#report({ severity, message: `Skipping app ${this.#app.id}: ${message}` });
    return undefined;
  }

  /** Running (and, with respectReadinessChecks, ready) tasks, in API order. */
  #tasks(): MarathonTask[] {
    if (this.#usable) return this.#usable;
    this.#usable = [];
    for (const task of this.#app.tasks) {
      if (task.state !== "TASK_RUNNING") {
        this.#report({
          severity: "info",
          taskId: task.id,
          message: `Skipping task ${task.id} of ${this.#app.id}: its state is ${
            task.state ?? "missing (Marathon before 1.1.2)"
          }; only TASK_RUNNING tasks receive traffic`,
        });
        continue;
      }
      if (this.#opts.respectReadinessChecks) {
        const verdict = taskReadiness(this.#app, task, this.#now);
        if (verdict.warning) {
          this.#report({ severity: "warning", taskId: task.id, message: verdict.warning });
        }
        if (!verdict.ready) {
          if (!verdict.warning) {
            this.#report({
              severity: "info",
              taskId: task.id,
              message: `Filtering unready task ${task.id} of ${this.#app.id}: ${verdict.reason}`,
            });
          }
          continue;
        }
      }
      this.#usable.push(task);
    }
    return this.#usable;
  }

  /**
   * Why a service has no server. Tasks that are not (yet) running or ready
   * are a normal moment of every deploy and scale: `info`, not an error.
   */
  #noServer(kind: string, name: string): { message: string; severity: Diagnostic["severity"] } {
    const total = this.#app.tasks.length;
    const running = this.#app.tasks.filter((t) => t.state === "TASK_RUNNING").length;
    const usable = this.#tasks().length;
    const [counts, severity]: [string, Diagnostic["severity"]] = total === 0
      ? ["the app has no tasks", "info"]
      : running === 0
      ? [
        total === 1 ? "its task is not TASK_RUNNING" : `none of its ${total} tasks is TASK_RUNNING`,
        "info",
      ]
      : usable === 0
      ? [
        running === 1
          ? "its running task is not ready"
          : `none of its ${running} running tasks is ready`,
        "info",
      ]
      : ["no running task has a usable address (see the task diagnostics)", "error"];
    return { message: `no server for the ${kind} service ${name}: ${counts}`, severity };
  }

  /** Servers for one service; `undefined` when none (the app is then dropped). */
  #servers(
    kind: "HTTP" | "TCP" | "UDP",
    name: string,
    portSpec: string,
    scheme: string,
  ): Obj[] | undefined {
    const servers: Obj[] = [];
    for (const task of this.#tasks()) {
      const endpoint = resolveEndpoint(this.#app, task, portSpec, {
        forceTaskHostname: this.#opts.forceTaskHostname,
        ipAddressIdx: this.#ipAddressIdx,
        labelPrefix: this.#opts.labelPrefix,
      });
      if (!endpoint.ok) {
        this.#report({
          severity: "error",
          taskId: task.id,
          item: name,
          message:
            `Skipping task ${task.id} of ${this.#app.id} for ${kind} service ${name}: ${endpoint.error}`,
        });
        continue;
      }
      const address = joinHostPort(endpoint.host, endpoint.port);
      servers.push(kind === "HTTP" ? { url: `${scheme}://${address}` } : { address });
    }
    return servers.length > 0 ? servers : undefined;
  }

  /** Fills load balancer servers of every service (Traefik's build*ServiceConfiguration). */
  #buildServices(kind: "HTTP" | "TCP" | "UDP", services: Obj, defaults: Obj): boolean {
    const name = appServiceName(this.#app.id);
    if (Object.keys(services).length === 0) {
      setOwn(services, name, { loadBalancer: { ...defaults } });
    }
    for (const [serviceName, raw] of Object.entries(services)) {
      const service = raw as Obj;
      const lb = service.loadBalancer as Obj | undefined;
      if (!lb) {
        if (service.weighted || service.mirroring || service.failover) continue;
        this.#skipApp(
          `${kind} service ${serviceName} has no loadBalancer${
            kind === "HTTP" ? ", weighted, mirroring or failover" : " or weighted"
          } options; add for example ${this.#opts.labelPrefix}.${kind.toLowerCase()}.services.${serviceName}.loadbalancer.server.port`,
        );
        return false;
      }
      const { server, ...rest } = lb;
      const template = (server ?? {}) as Obj;
      const servers = this.#servers(
        kind,
        serviceName,
        typeof template.port === "string" ? template.port : "",
        typeof template.scheme === "string" && template.scheme !== "" ? template.scheme : "http",
      );
      if (!servers) {
        const why = this.#noServer(kind, serviceName);
        this.#skipApp(why.message, why.severity);
        return false;
      }
      setOwn(services, serviceName, { ...service, loadBalancer: { ...rest, servers } });
    }
    return true;
  }

  /** Links TCP or UDP routers to the app's single service (§10). */
  #linkStreamRouters(kind: "TCP" | "UDP", routers: Obj, services: Obj): void {
    const serviceNames = Object.keys(services);
    for (const [routerName, raw] of Object.entries(routers)) {
      const router = raw as Obj;
      if (kind === "TCP" && !router.rule) {
        delete routers[routerName];
        this.#report({
          severity: "error",
          item: routerName,
          message:
            `Removing TCP router ${routerName} of ${this.#app.id}: it has no rule; add ${this.#opts.labelPrefix}.tcp.routers.${routerName}.rule=HostSNI(\`...\`)`,
        });
        continue;
      }
      if (!router.service) {
        if (serviceNames.length > 1) {
          delete routers[routerName];
          this.#report({
            severity: "error",
            item: routerName,
            message:
              `Removing ${kind} router ${routerName} of ${this.#app.id}: the app has ${serviceNames.length} ${kind} services (${
                serviceNames.join(", ")
              }), so the router must name one with ${this.#opts.labelPrefix}.${kind.toLowerCase()}.routers.${routerName}.service`,
          });
          continue;
        }
        router.service = serviceNames[0];
      }
      if (kind === "TCP" && router.ruleSyntax === undefined) router.ruleSyntax = "v2";
    }
  }

  build(
    template: CompiledTemplate,
    constraints: ConstraintMatcher | SyntaxError,
    registry: MiddlewareRegistry,
  ): Fragment | undefined {
    const app = this.#app;
    const prefix = this.#opts.labelPrefix;

    // 1. Provider labels.
    let provider: Obj | undefined;
    try {
      provider = decodeLabels(app.labels, providerLabelSchema, {
        root: prefix,
        filters: [`${prefix}.marathon.`, `${prefix}.enable`],
      });
    } catch (error) {
      if (!(error instanceof LabelDecodeError)) throw error;
      return this.#skipApp(error.message);
    }
    const enable = (provider?.enable as boolean | undefined) ?? this.#opts.exposedByDefault;
    this.#ipAddressIdx = (provider?.marathon as Obj | undefined)?.ipAddressIdx as
      | number
      | undefined;

    // 2. Marathon constraints as synthetic labels (also visible to templates).
    let labels = app.labels;
    if (app.constraints.length > 0) {
      labels = { ...app.labels };
      app.constraints.forEach((parts, i) =>
        setOwn(labels as Obj, `${MARATHON_CONSTRAINT_PREFIX}-${i}`, parts.join(":"))
      );
    }

    // 3. Filters.
    if (!enable) {
      return this.#skipApp(
        provider?.enable === false
          ? `${prefix}.enable is false`
          : `exposedByDefault is false and the app has no ${prefix}.enable=true label`,
        "info",
      );
    }
    if (constraints instanceof SyntaxError) {
      return this.#skipApp(`${constraints.message}; fix providers.marathon.constraints`);
    }
    if (!constraints(labels)) {
      return this.#skipApp(
        `it does not match the constraints expression ${JSON.stringify(this.#opts.constraints)}`,
        "info",
      );
    }

    // 4. Routing labels.
    let decoded: Obj;
    try {
      decoded = decodeLabels(app.labels, routingLabelSchema(registry), {
        root: prefix,
        filters: [
          `${prefix}.http`,
          `${prefix}.tcp`,
          `${prefix}.udp`,
          `${prefix}.tls.stores.default`,
        ],
        ...labelHooks,
      }) ?? {};
    } catch (error) {
      if (!(error instanceof LabelDecodeError)) throw error;
      return this.#skipApp(error.message);
    }
    const section = (key: string): Obj => (decoded[key] as Obj | undefined) ?? {};
    const map = (obj: Obj, key: string): Obj => (obj[key] as Obj | undefined) ?? {};
    const http = section("http");
    const tcp = section("tcp");
    const udp = section("udp");
    const tls = section("tls");
    const fragment: Fragment = {
      appId: app.id,
      http: {
        routers: map(http, "routers"),
        services: map(http, "services"),
        middlewares: map(http, "middlewares"),
        serversTransports: map(http, "serversTransports"),
      },
      tcp: {
        routers: map(tcp, "routers"),
        services: map(tcp, "services"),
        middlewares: map(tcp, "middlewares"),
      },
      udp: { routers: map(udp, "routers"), services: map(udp, "services") },
      tls: { stores: map(tls, "stores") },
      defaultRuleRouters: new Set(),
    };

    // 5. TCP.
    let tcpOrUdp = false;
    if (hasKeys(fragment.tcp.routers) || hasKeys(fragment.tcp.services)) {
      tcpOrUdp = true;
      if (!this.#buildServices("TCP", fragment.tcp.services, { terminationDelay: 100 })) {
        return undefined;
      }
      this.#linkStreamRouters("TCP", fragment.tcp.routers, fragment.tcp.services);
    }

    // 6. UDP (Pacer: a failure drops the app, like TCP and HTTP).
    if (hasKeys(fragment.udp.routers) || hasKeys(fragment.udp.services)) {
      tcpOrUdp = true;
      if (!this.#buildServices("UDP", fragment.udp.services, {})) return undefined;
      this.#linkStreamRouters("UDP", fragment.udp.routers, fragment.udp.services);
    }

    // 7. Pure TCP/UDP apps get no default HTTP router or service.
    if (
      tcpOrUdp && !hasKeys(fragment.http.routers) && !hasKeys(fragment.http.middlewares) &&
      !hasKeys(fragment.http.services)
    ) {
      return fragment;
    }

    // 8. HTTP services.
    if (!this.#buildServices("HTTP", fragment.http.services, { passHostHeader: true })) {
      return undefined;
    }

    // 9. HTTP routers.
    this.#buildRouters(fragment, template, labels);
    return fragment;
  }

  #buildRouters(
    fragment: Fragment,
    template: CompiledTemplate,
    labels: Readonly<Record<string, string>>,
  ): void {
    const app = this.#app;
    const prefix = this.#opts.labelPrefix;
    const { routers, services } = fragment.http;
    const serviceNames = Object.keys(services);
    const defaultName = appServiceName(app.id);
    if (!hasKeys(routers)) {
      if (serviceNames.length > 1) {
        this.#report({
          severity: "info",
          item: defaultName,
          message: `No default router for ${app.id}: it has ${serviceNames.length} HTTP services (${
            serviceNames.join(", ")
          }); declare routers with ${prefix}.http.routers.<name>.service to expose them`,
        });
      } else {
        setOwn(routers, defaultName, {});
      }
    }
    let model: GoStruct | undefined;
    for (const [routerName, raw] of Object.entries(routers)) {
      const router = raw as Obj;
      if (!router.rule) {
        model ??= new GoStruct("struct { Name string; Labels map[string]string }", {
          Name: app.id,
          Labels: new GoMap(new Map(Object.entries(labels)), ""),
        });
        let rule: string;
        try {
          rule = template.execute(model);
        } catch (error) {
          delete routers[routerName];
          this.#report({
            severity: "error",
            item: routerName,
            message:
              `Removing router ${routerName} of ${app.id}: the defaultRule template failed: ${
                (error as Error).message
              }; fix providers.marathon.defaultRule or set ${prefix}.http.routers.${routerName}.rule`,
          });
          continue;
        }
        if (rule === "") {
          delete routers[routerName];
          this.#report({
            severity: "error",
            item: routerName,
            message:
              `Removing router ${routerName} of ${app.id}: the defaultRule template rendered an empty rule; set ${prefix}.http.routers.${routerName}.rule`,
          });
          continue;
        }
        router.rule = rule;
        (fragment.defaultRuleRouters as Set<string>).add(routerName);
      }
      if (!router.service) {
        if (serviceNames.length > 1) {
          delete routers[routerName];
          (fragment.defaultRuleRouters as Set<string>).delete(routerName);
          this.#report({
            severity: "error",
            item: routerName,
            message:
              `Removing router ${routerName} of ${app.id}: it cannot be linked automatically with ${serviceNames.length} services (${
                serviceNames.join(", ")
              }); set ${prefix}.http.routers.${routerName}.service`,
          });
          continue;
        }
        router.service = serviceNames[0];
      }
      if (router.ruleSyntax === undefined) router.ruleSyntax = "v2";
    }
  }
}

function hasKeys(obj: Obj): boolean {
  for (const _ in obj) return true;
  return false;
}

/**
 * Builds Pacer's dynamic configuration from Marathon apps, as Traefik v2's
 * Marathon provider would (see the module documentation for the differences).
 *
 * @param apps The raw `apps` array of
 *   `GET /v2/apps?embed=apps.tasks&embed=apps.deployments&embed=apps.readiness`.
 *   Malformed apps and tasks become diagnostics; nothing in `apps` makes this throw.
 * @param options `providers.marathon` options, raw or parsed by `marathonOptionsSchema`.
 * @param ctx `now` for readiness; `registry` for middleware labels.
 * @returns The configuration, the diagnostics and the default-rule routers.
 * @throws {SyntaxError} If `options.defaultRule` does not parse (see {@linkcode compileDefaultRule}).
 * @throws {TypeError} If the options the builder reads are invalid.
 *
 * @example
 * ```ts
 * const { config } = buildConfiguration(
 *   [{ id: "/web", tasks: [{ id: "web.1", state: "TASK_RUNNING", host: "10.0.0.5", ports: [31000] }] }],
 *   { exposedByDefault: true },
 *   { now: new Date() },
 * );
 * // config.http.routers.web = { rule: "Host(`web`)", service: "web", ruleSyntax: "v2" }
 * // config.http.services.web.loadBalancer.servers = [{ url: "http://10.0.0.5:31000" }]
 * ```
 */
export function buildConfiguration(
  apps: unknown[],
  options: MarathonOptionsInput | MarathonOptions,
  ctx: BuildContext,
): BuildResult {
  const opts = readOptions(options);
  const template = compileDefaultRule(opts.defaultRule);
  const constraints = constraintsMatcher(opts.constraints);
  const registry = ctx.registry ?? (defaultRegistry ??= builtinRegistry());
  const diagnostics: Diagnostic[] = [];
  const fragments = new Map<string, Fragment>();

  const list: unknown[] = Array.isArray(apps) ? apps : [];
  if (!Array.isArray(apps)) {
    diagnostics.push({
      severity: "error",
      message: "Marathon's answer has no apps array; nothing was built",
    });
  }
  for (const raw of list) {
    const read = readApp(raw);
    if (!read.ok) {
      diagnostics.push({
        severity: "error",
        ...(read.appId !== undefined ? { appId: read.appId } : {}),
        message: `Skipping ${
          read.appId ? `app ${read.appId}` : "an app"
        } of Marathon's answer: ${read.message}`,
      });
      continue;
    }
    const { app, taskProblems } = read;
    for (const problem of taskProblems) {
      diagnostics.push({
        severity: "warning",
        appId: app.id,
        ...(problem.taskId !== undefined ? { taskId: problem.taskId } : {}),
        message: `Skipping ${
          problem.taskId ? `task ${problem.taskId}` : "a task"
        } of ${app.id}: ${problem.message}`,
      });
    }
    if (fragments.has(app.id)) {
      diagnostics.push({
        severity: "warning",
        appId: app.id,
        message: `App ${app.id} appears twice in Marathon's answer; the last one that builds wins`,
      });
    }
    let fragment: Fragment | undefined;
    try {
      fragment = new AppBuilder(app, opts, ctx.now, diagnostics).build(
        template,
        constraints,
        registry,
      );
    } catch (error) {
      // A bug must cost one app, not the whole configuration.
      diagnostics.push({
        severity: "error",
        appId: app.id,
        message: `Skipping app ${app.id}: internal error while building its configuration (${
          (error as Error)?.message ?? String(error)
        }); please report it with the app's JSON`,
      });
    }
    if (fragment) fragments.set(app.id, fragment);
  }

  const merged = mergeFragments([...fragments.values()]);
  diagnostics.push(...merged.diagnostics);
  return { config: merged.config, diagnostics, defaultRuleRouters: merged.defaultRuleRouters };
}
