/**
 * Durations in Traefik's notation: a Go duration string (`"10s"`, `"1m30s"`,
 * `"250ms"`) or a bare number, read as **seconds** (Traefik's `ptypes.Duration`).
 *
 * @module
 */
import { z } from "zod";

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  "µs": 1e-3,
  "μs": 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const PART = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/y;

/**
 * Parses a Go duration string or a number of seconds into milliseconds.
 *
 * @param input A value such as `"1m30s"`, `"250ms"`, `"10"` or `10`.
 * @returns The duration in milliseconds.
 * @throws {SyntaxError} If `input` is not a duration.
 * @throws {RangeError} If the duration is negative.
 *
 * @example
 * ```ts
 * parseDuration("1m30s"); // 90000
 * parseDuration(5); // 5000
 * ```
 */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input)) {
      throw new SyntaxError(`Invalid duration: ${input}`);
    }
    if (input < 0) throw new RangeError(`Duration must be >= 0: got ${input}`);
    return input * 1000;
  }
  const text = input.trim();
  if (/^-?\d+$/.test(text)) return parseDuration(Number(text));
  if (text === "0") return 0;
  let rest = text;
  let sign = 1;
  if (rest.startsWith("-")) {
    sign = -1;
    rest = rest.slice(1);
  } else if (rest.startsWith("+")) {
    rest = rest.slice(1);
  }
  if (rest === "") throw new SyntaxError(`Invalid duration: "${input}"`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < rest.length) {
    const at = PART.lastIndex;
    const m = PART.exec(rest);
    if (!m || m.index !== at) {
      throw new SyntaxError(
        `Invalid duration: "${input}" (expected a number followed by one of ns, us, ms, s, m, h, as in "1m30s")`,
      );
    }
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  if (sign < 0 && total > 0) {
    throw new RangeError(`Duration must be >= 0: got "${input}"`);
  }
  return total;
}

/**
 * Formats milliseconds the way Go prints a `time.Duration` (`"1m30s"`, `"250ms"`).
 * Used where Pacer echoes configuration back (`/api/rawdata`, dry runs).
 */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  if (ms < 1000) return `${+ms.toFixed(3)}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = +rest.toFixed(3);
  return `${h ? `${h}h` : ""}${h || m ? `${m}m` : ""}${s}s`;
}

/**
 * Zod schema for a duration field: accepts what {@linkcode parseDuration}
 * accepts and outputs milliseconds.
 */
export function duration(): z.ZodType<number, string | number> {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    try {
      return parseDuration(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}
