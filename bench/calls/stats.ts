// Summaries shared by the calls benchmark's worker and orchestrator.
import { percentile, round } from '../lib.js';

export interface Stats {
  n: number;
  p50: number | null;
  p99: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
}

const r = (value: number | undefined): number | null => (value === undefined || Number.isNaN(value) ? null : round(value));

export function stats(values: readonly number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.length === 0 ? undefined : sorted.reduce((a, b) => a + b, 0) / sorted.length;
  return {
    n: sorted.length,
    p50: r(sorted.length === 0 ? undefined : percentile(sorted, 50)),
    p99: r(sorted.length === 0 ? undefined : percentile(sorted, 99)),
    mean: r(mean),
    min: r(sorted[0]),
    max: r(sorted.at(-1)),
  };
}

/** Least-squares slope of y over x. */
export function slope(points: readonly (readonly [number, number])[]): number {
  const mx = points.reduce((a, p) => a + p[0], 0) / points.length;
  const my = points.reduce((a, p) => a + p[1], 0) / points.length;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? Number.NaN : num / den;
}

/** `--name=value` arguments (a bare `--name` is "true"). */
export function parseArgs(argv: readonly string[]): Map<string, string> {
  const args = new Map<string, string>();
  for (const arg of argv) {
    const match = /^--([^=]+)(?:=(.*))?$/.exec(arg);
    if (match !== null) args.set(match[1]!, match[2] ?? 'true');
  }
  return args;
}
