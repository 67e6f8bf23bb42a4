/**
 * A one-page dashboard over `/api/rawdata` (no external assets: edge hosts
 * often have no internet). Refreshes every two seconds, which is enough to
 * watch servers drain during a rolling deploy.
 *
 * @module
 */

/** The dashboard page. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Pacer</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5rem;color:#222;background:#fafafa}
h1{font-size:1.3rem;margin:0 0 1rem} h2{font-size:1.05rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;width:100%;background:#fff} td,th{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f0f0f0} code{font-size:12px} .enabled,.UP{color:#176d2e} .disabled,.DOWN,.EJECTED{color:#a31515}
.warning,.PENDING,.DRAINING{color:#9a6700} small{color:#666}
</style></head><body>
<h1>Pacer <small id="meta"></small></h1>
<h2>Routers</h2><table id="routers"></table>
<h2>Services</h2><table id="services"></table>
<h2>Middlewares</h2><table id="middlewares"></table>
<h2>Draining servers</h2><table id="draining"></table>
<h2>Provider diagnostics</h2><table id="diagnostics"></table>
<script>
const esc = (s) => String(s ?? "").replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
const row = (cells, tag = "td") => "<tr>" + cells.map((c) => "<" + tag + ">" + c + "</" + tag + ">").join("") + "</tr>";
const status = (s) => '<span class="' + esc(s) + '">' + esc(s) + "</span>";
async function refresh() {
  const d = await (await fetch("/api/rawdata")).json();
  document.getElementById("meta").textContent = "generation " + d.generation;
  document.getElementById("routers").innerHTML = row(["Name", "Rule", "Service", "Entrypoints", "Status"], "th") +
    Object.entries(d.routers).map(([n, r]) => row([esc(n), "<code>" + esc(r.rule) + "</code>", esc(r.service), esc((r.using || []).join(", ")), status(r.status) + "<br><small>" + esc((r.error || []).join("; ")) + "</small>"])).join("");
  document.getElementById("services").innerHTML = row(["Name", "Servers", "Status"], "th") +
    Object.entries(d.services).map(([n, s]) => row([esc(n), (s.servers || []).map((v) => esc(v.url) + " " + status(v.state) + " <small>in-flight " + v.inFlight + "</small>").join("<br>"), status(s.status) + "<br><small>" + esc((s.error || []).join("; ")) + "</small>"])).join("");
  document.getElementById("middlewares").innerHTML = row(["Name", "Type", "Used by", "Status"], "th") +
    Object.entries(d.middlewares).map(([n, m]) => row([esc(n), esc(m.type), esc((m.usedBy || []).join(", ")), status(m.status) + "<br><small>" + esc((m.error || []).join("; ")) + "</small>"])).join("");
  document.getElementById("draining").innerHTML = row(["Service", "Server", "In flight", "Draining for"], "th") +
    d.draining.map((s) => row([esc(s.service), esc(s.url), s.inFlight, Math.round(s.drainingForMs) + " ms"])).join("");
  document.getElementById("diagnostics").innerHTML = row(["Provider", "Severity", "App", "Message"], "th") +
    Object.entries(d.diagnostics).flatMap(([p, list]) => list.map((x) => row([esc(p), esc(x.severity), esc(x.appId), esc(x.message)]))).join("");
}
refresh(); setInterval(refresh, 2000);
</script></body></html>
`;
