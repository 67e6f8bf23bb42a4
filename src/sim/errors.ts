/**
 * Marathon's error answers: status plus the JSON body clients parse
 * (`{"message", "details"?}`; samples in `samples/errors/`).
 *
 * @module
 */

/** One validation finding, as in Marathon's `details[]`. */
export interface ErrorDetail {
  /** JSON path of the offending field, e.g. `/upgradeStrategy/minimumHealthCapacity`. */
  readonly path: string;
  /** Messages for that field. */
  readonly errors: readonly string[];
}

/**
 * An error with the HTTP status and body Marathon would answer. Thrown by the
 * simulator core, rendered by the HTTP layer, and surfaced as-is by the
 * programmatic API (callers check `instanceof` and `status`).
 */
export class MarathonError extends Error {
  /** HTTP status. */
  readonly status: number;
  /** JSON body. */
  readonly body: Readonly<Record<string, unknown>>;

  /**
   * Creates the error.
   *
   * @param status HTTP status.
   * @param body JSON body; `message` becomes the error message.
   */
  constructor(status: number, body: Record<string, unknown>) {
    super(`${status} ${String(body.message ?? "")}`);
    this.name = "MarathonError";
    this.status = status;
    this.body = body;
  }
}

/** 400: the body is not JSON, or a field has the wrong JSON type. */
export function invalidJson(details: readonly ErrorDetail[]): MarathonError {
  return new MarathonError(400, { message: "Invalid JSON", details });
}

/** 422: the definition fails validation. */
export function objectNotValid(details: readonly ErrorDetail[]): MarathonError {
  return new MarathonError(422, { message: "Object is not valid", details });
}

/** 404 for an unknown app. */
export function appNotFound(appId: string): MarathonError {
  return new MarathonError(404, { message: `App '${appId}' does not exist` });
}

/** 404 for an unknown task. */
export function taskNotFound(taskId: string): MarathonError {
  return new MarathonError(404, { message: `Task '${taskId}' does not exist` });
}

/** 409: another deployment holds the app and `force` was not given. */
export function appLocked(deploymentIds: readonly string[]): MarathonError {
  return new MarathonError(409, {
    message: "App is locked by one or more deployments. Override with the option " +
      `'?force=true'. View details at '/v2/deployments/<DEPLOYMENT_ID>'.`,
    deployments: deploymentIds.map((id) => ({ id })),
  });
}

/** 409: POST of an id that already exists. */
export function appExists(appId: string): MarathonError {
  return new MarathonError(409, { message: `An app with id [${appId}] already exists.` });
}

/**
 * A Jetty error page, as Jetty's `sendError` writes it (405 on `/v2/events`,
 * 401 from basic auth, 502 without a leader).
 *
 * @param status HTTP status.
 * @param path Request path, quoted in the page.
 * @param reason Reason line.
 */
export function jettyErrorPage(status: number, path: string, reason: string): string {
  const esc = (s: string) =>
    s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return `<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>
<title>Error ${status} ${esc(reason)}</title>
</head>
<body>
<h2>HTTP ERROR: ${status}</h2>
<p>Problem accessing ${esc(path)}. Reason:
<pre>    ${esc(reason)}</pre></p>
<hr /><a href="http://eclipse.org/jetty">Powered by Jetty:// 9.4.z-SNAPSHOT</a><hr/>
</body>
</html>
`;
}
