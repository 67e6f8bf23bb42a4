/**
 * Responses whose headers can be changed. A `Response` from `fetch()` or
 * `Response.redirect()` has immutable headers. Pacer hands upstream
 * responses on as they are, because copying their headers costs more CPU
 * than the rest of forwarding a small request. So code that edits a
 * response's headers asks for an editable one first, and pays for the copy
 * only then.
 *
 * @module
 */

/** Whether `response.headers` can be changed (Headers has no such test: probe it). */
export function hasEditableHeaders(response: Response): boolean {
  try {
    response.headers.append("x-pacer-editable", "1");
    response.headers.delete("x-pacer-editable");
    return true;
  } catch {
    return false;
  }
}

/** `response` itself when its headers can be changed, else a copy (same body stream). */
export function editableResponse(response: Response): Response {
  return hasEditableHeaders(response) ? response : new Response(response.body, response);
}
