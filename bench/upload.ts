/**
 * `deno task bench:upload`: how uploads of one size fare with a
 * Content-Length (sized, as curl -T and browsers send files) and with
 * `Transfer-Encoding: chunked` (as fetch sends any stream, or curl -T -),
 * side by side in one run.
 *
 * Five receivers: the upstream alone reading as data arrives; the upstream
 * alone with a reader that pauses 1 ms every 4 chunks; the minimal proxy;
 * Pacer; Pacer with `readTimeout: 0` (bodies not wrapped for the read
 * deadline: src/server/read_deadline.ts). For each it prints the wall time, the receiving process's CPU time
 * and how far its resident memory rose above where it was (sampled every
 * 100 ms), after one unmeasured sized upload has grown its heap.
 *
 * Why: in Deno 2.9.6, `Deno.serve` gives a chunked request body no
 * backpressure. If the handler reads it more slowly than it arrives, and a
 * proxy's reader always waits on its upstream, the backlog is buffered inside
 * Deno and every read copies the whole backlog, so time and CPU grow with the
 * square of the size. A sized body is read with backpressure at any pace.
 * The paced upstream row shows this without any proxy; when a later Deno
 * fixes it, the chunked columns drop to the sized ones.
 *
 * Usage: deno task bench:upload [--mib 128] [--timeout 60]
 *
 * @module
 */
import {
  cpuSeconds,
  freePort,
  memoryMiB,
  numberOption,
  pacerArgs,
  pacerConfig,
  type Proc,
  spawn,
  spawnHelper,
} from "./_processes.ts";

const MiB = 1024 * 1024;
const SIZE = numberOption("mib", 128) * MiB;
const TIMEOUT_S = numberOption("timeout", 60);
const PIECE = 64 * 1024;

type Framing = "sized" | "chunked";

interface Measure {
  seconds: number;
  cpu: number;
  growthMiB: number;
  /** Why the upload did not complete, if it did not. */
  failed?: string | undefined;
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
}

/** POSTs SIZE zero bytes over a raw socket and returns the response text. */
async function upload(conn: Deno.Conn, path: string, framing: Framing): Promise<string> {
  const length = framing === "sized" ? `content-length: ${SIZE}` : "transfer-encoding: chunked";
  const head =
    `POST ${path} HTTP/1.1\r\nhost: app0.bench\r\n${length}\r\nconnection: close\r\n\r\n`;
  await writeAll(conn, new TextEncoder().encode(head));
  const data = new Uint8Array(PIECE);
  // A chunked piece carries its size line and trailing CRLF; framed once, reused.
  const framed = new Uint8Array([
    ...new TextEncoder().encode(`${PIECE.toString(16)}\r\n`),
    ...data,
    ...new TextEncoder().encode("\r\n"),
  ]);
  for (let sent = 0; sent < SIZE; sent += PIECE) {
    await writeAll(conn, framing === "sized" ? data : framed);
  }
  if (framing === "chunked") await writeAll(conn, new TextEncoder().encode("0\r\n\r\n"));
  const decoder = new TextDecoder();
  const buffer = new Uint8Array(16 * 1024);
  let text = "";
  for (let n; (n = await conn.read(buffer)) !== null;) {
    text += decoder.decode(buffer.subarray(0, n), { stream: true });
  }
  return text;
}

async function measure(
  port: number,
  path: string,
  framing: Framing,
  pid: number,
): Promise<Measure> {
  const before = await memoryMiB(pid);
  let peak = before;
  const sampler = setInterval(async () => peak = Math.max(peak, await memoryMiB(pid)), 100);
  const cpu0 = await cpuSeconds(pid);
  const t0 = performance.now();
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const timer = setTimeout(() => conn.close(), TIMEOUT_S * 1000);
  let failed: string | undefined;
  try {
    const answer = await upload(conn, path, framing);
    const body = answer.slice(answer.indexOf("\r\n\r\n") + 4);
    if (!answer.startsWith("HTTP/1.1 200") || body !== String(SIZE)) {
      failed = answer.split("\r\n")[0] || "no answer";
    }
    conn.close();
  } catch (error) {
    failed = performance.now() - t0 >= TIMEOUT_S * 1000 ? `> ${TIMEOUT_S} s` : String(error);
  } finally {
    clearTimeout(timer);
    clearInterval(sampler);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = (await cpuSeconds(pid)) - cpu0;
  peak = Math.max(peak, await memoryMiB(pid));
  return { seconds, cpu, growthMiB: peak - before, failed };
}

function cells(m: Measure): string[] {
  if (m.failed) return [m.failed, "", ""];
  return [`${m.seconds.toFixed(2)} s`, `${m.cpu.toFixed(2)} s`, `+${m.growthMiB.toFixed(0)} MiB`];
}

const dir = await Deno.makeTempDir({ prefix: "pacer-bench-upload-" });
const upstreamPort = freePort();
const minimalPort = freePort();
const pacerPort = freePort();
const noDeadlinePort = freePort();
const upstreamOrigin = `http://127.0.0.1:${upstreamPort}`;
const procs: Proc[] = [];
try {
  const upstream = await spawnHelper("_upstream.ts", upstreamPort);
  procs.push(upstream);
  const minimal = await spawnHelper("_minimal_proxy.ts", minimalPort, upstreamOrigin);
  procs.push(minimal);
  const pacer = await spawn(pacerArgs(pacerConfig(dir, pacerPort, upstreamOrigin, 1)), pacerPort);
  procs.push(pacer);
  const noDeadline = await spawn(
    pacerArgs(pacerConfig(dir, noDeadlinePort, upstreamOrigin, 1, { readTimeout: "0" })),
    noDeadlinePort,
  );
  procs.push(noDeadline);

  const receivers: [string, number, string, number][] = [
    ["upstream alone, reads as data arrives", upstreamPort, "/up", upstream.pid],
    ["upstream alone, reader pauses 1 ms / 4 chunks", upstreamPort, "/paced", upstream.pid],
    ["minimal proxy -> upstream", minimalPort, "/up", minimal.pid],
    ["pacer -> upstream", pacerPort, "/up", pacer.pid],
    ["pacer, readTimeout: 0 -> upstream", noDeadlinePort, "/up", noDeadline.pid],
  ];
  console.log(
    `\nupload of ${SIZE / MiB} MiB over loopback: wall time, receiver's CPU, its memory growth\n`,
  );
  const head = ["receiver", "sized", "CPU", "memory", "chunked", "CPU", "memory"];
  const rows: string[][] = [];
  for (const [name, port, path, pid] of receivers) {
    // Unmeasured: the first large body grows the receiver's heap once.
    await measure(port, path, "sized", pid);
    const sized = await measure(port, path, "sized", pid);
    const chunked = await measure(port, path, "chunked", pid);
    rows.push([name, ...cells(sized), ...cells(chunked)]);
  }
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (row: string[]) => row.map((c, i) => c.padEnd(widths[i]!)).join("  ");
  console.log(line(head));
  for (const row of rows) console.log(line(row));
} finally {
  for (const p of procs.reverse()) await p.stop();
  await Deno.remove(dir, { recursive: true });
}
