/**
 * Steady, bounded load for zero-downtime tests: one request every
 * `1000 / rps` ms (not waiting for answers), mostly GET with some POST,
 * every answer checked — status 200 and, for POST, the body the task saw
 * (length and SHA-256 reported back by the simulator's task app).
 *
 * @module
 */

/** One request that did not succeed. */
export interface LoadFailure {
  readonly method: string;
  /** HTTP status, or 0 when the request failed without an answer. */
  readonly status: number;
  readonly detail: string;
  /** ms since the load started. */
  readonly at: number;
}

/** What a load run saw. */
export interface LoadStats {
  readonly sent: { GET: number; POST: number };
  readonly failures: LoadFailure[];
  /** Task ids that answered, with counts (traffic really moved between tasks). */
  readonly answeredBy: Map<string, number>;
  /** Latency of every request, in ms. */
  readonly latencies: number[];
  failed(method?: "GET" | "POST"): number;
  /** Latency percentile (0-100), in ms. */
  percentile(p: number): number;
}

async function sha256Hex(data: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", data);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Starts the load.
 * @param send Issues one request (the caller adds host, client...).
 */
export function startLoad(
  send: (method: "GET" | "POST", body?: Uint8Array<ArrayBuffer>) => Promise<Response>,
  options: { rps?: number; postEvery?: number } = {},
): { stop(): Promise<LoadStats>; stats: LoadStats } {
  const rps = options.rps ?? 200;
  const postEvery = options.postEvery ?? 5;
  const started = performance.now();
  const failures: LoadFailure[] = [];
  const answeredBy = new Map<string, number>();
  const latencies: number[] = [];
  const sent = { GET: 0, POST: 0 };
  const pending = new Set<Promise<void>>();
  let running = true;
  let n = 0;
  const stats: LoadStats = {
    sent,
    failures,
    answeredBy,
    latencies,
    failed: (method) =>
      method ? failures.filter((f) => f.method === method).length : failures.length,
    percentile(p) {
      if (latencies.length === 0) return NaN;
      const sorted = [...latencies].sort((a, b) => a - b);
      return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
    },
  };

  const one = async (method: "GET" | "POST") => {
    const at = () => Math.round(performance.now() - started);
    let body: Uint8Array<ArrayBuffer> | undefined;
    let expected = "";
    if (method === "POST") {
      body = crypto.getRandomValues(new Uint8Array(512 + (n % 512)));
      expected = await sha256Hex(body);
    }
    const began = performance.now();
    try {
      const res = await send(method, body);
      const text = await res.text();
      latencies.push(performance.now() - began);
      if (res.status !== 200) {
        failures.push({ method, status: res.status, detail: text.slice(0, 120), at: at() });
        return;
      }
      const json = JSON.parse(text) as { taskId?: string; bodySha256?: string };
      if (json.taskId) answeredBy.set(json.taskId, (answeredBy.get(json.taskId) ?? 0) + 1);
      if (method === "POST" && json.bodySha256 !== expected) {
        failures.push({ method, status: 200, detail: "body changed on the way", at: at() });
      }
    } catch (error) {
      failures.push({ method, status: 0, detail: (error as Error).message, at: at() });
    }
  };

  const loop = (async () => {
    const interval = 1000 / rps;
    let next = performance.now();
    while (running) {
      const method = ++n % postEvery === 0 ? "POST" : "GET";
      sent[method]++;
      const p = one(method);
      pending.add(p);
      p.finally(() => pending.delete(p));
      next += interval;
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  })();

  return {
    stats,
    async stop() {
      running = false;
      await loop;
      await Promise.all(pending);
      return stats;
    },
  };
}

/** A readable summary for assertion messages. */
export function describeFailures(stats: LoadStats): string {
  const lines = stats.failures.slice(0, 10).map((f) =>
    `${f.at}ms ${f.method} ${f.status || "network error"}: ${f.detail}`
  );
  return `sent GET ${stats.sent.GET}, POST ${stats.sent.POST}; failures:\n${lines.join("\n")}`;
}
