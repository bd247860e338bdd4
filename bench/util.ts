import { performance } from 'node:perf_hooks';

export interface Measure {
  median: number;
  /** (max - min) / median: how much the runs disagreed. */
  spread: number;
  runs: number[];
}

export function measure(runs: number, fn: () => void): Measure {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  return summarize(times);
}

export async function measureAsync(runs: number, fn: () => Promise<void>): Promise<Measure> {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  return summarize(times);
}

export function summarize(values: number[]): Measure {
  const sorted = [...values].sort((a, b) => a - b);
  const median = percentile(sorted, 50);
  return { median, spread: median === 0 ? 0 : (sorted.at(-1)! - sorted[0]!) / median, runs: values };
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const idx = (p / 100) * (sorted.length - 1);
  const lo = Math.floor(idx);
  const hi = Math.ceil(idx);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (idx - lo);
}

/** One line of the results table. */
export interface Row {
  area: string;
  case: string;
  value: number;
  unit: string;
  /** (max - min) / median over the runs. */
  spread?: number;
  /** The case this one is compared with, measured in the same run. */
  baseline?: string;
  /** value / baseline value (for rates, higher is better; for times, lower is better). */
  ratio?: number;
  goal?: string;
  met?: boolean;
  note?: string;
}

export const fmt = (n: number, digits = 1): string =>
  Number.isFinite(n) ? (Math.abs(n) >= 1000 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits)) : '-';

/** A GitHub Markdown table, so that a run pastes into BENCHMARKS.md as it is; a `|` inside a cell is escaped. */
export function markdownTable(head: string[], cells: string[][]): string {
  const row = (r: string[]) => `| ${r.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
  return [row(head), row(head.map(() => '---')), ...cells.map(row)].join('\n');
}
