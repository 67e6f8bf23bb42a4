/**
 * Options of the Marathon provider (`providers.marathon.*`): Traefik v2's
 * names and defaults, plus Pacer's `labelPrefix`, `resyncInterval` and
 * `eventsIdleTimeout`. Durations come out in milliseconds.
 *
 * @module
 */
import { z } from "zod";
import { duration } from "../../config/duration.ts";

/** Traefik's default rule for Marathon apps. */
export const DEFAULT_MARATHON_RULE = "Host(`{{ normalize .Name }}`)";

/** Schema of `providers.marathon`. */
export const marathonOptionsSchema = z.strictObject({
  /** Comma-separated Marathon URLs; later members may omit the scheme. */
  endpoint: z.string().min(1).default("http://127.0.0.1:8080"),
  exposedByDefault: z.boolean().default(true),
  defaultRule: z.string().default(DEFAULT_MARATHON_RULE),
  constraints: z.string().default(""),
  trace: z.boolean().default(false),
  watch: z.boolean().default(true),
  dialerTimeout: duration().default(5_000),
  responseHeaderTimeout: duration().default(60_000),
  tlsHandshakeTimeout: duration().default(5_000),
  keepAlive: duration().default(10_000),
  forceTaskHostname: z.boolean().default(false),
  respectReadinessChecks: z.boolean().default(false),
  basic: z.strictObject({
    httpBasicAuthUser: z.string().optional(),
    httpBasicPassword: z.string().optional(),
  }).optional(),
  dcosToken: z.string().optional(),
  tls: z.strictObject({
    ca: z.string().optional(),
    caOptional: z.boolean().optional(),
    cert: z.string().optional(),
    key: z.string().optional(),
    insecureSkipVerify: z.boolean().default(false),
  }).refine((t) => (t.cert === undefined) === (t.key === undefined), {
    message: "'cert' and 'key' must be set together",
  }).optional(),
  /** Pacer: the label prefix read instead of `traefik`. */
  labelPrefix: z.string().regex(/^[a-z][a-z0-9_-]*$/, {
    message: "must be lower case letters, digits, '-' or '_', starting with a letter",
  }).default("traefik"),
  /** Pacer: full re-list of apps even without events (0 disables). */
  resyncInterval: duration().default(60_000),
  /** Pacer: an event stream silent this long is dead (Marathon sends a keep-alive every 10s). */
  eventsIdleTimeout: duration().default(30_000),
});

/** Validated Marathon provider options. */
export type MarathonOptions = z.output<typeof marathonOptionsSchema>;

/** Raw (input) Marathon provider options, as written in configuration. */
export type MarathonOptionsInput = z.input<typeof marathonOptionsSchema>;
