import { describe, expect, it } from 'vitest';
import { generateLines } from '../fixtures/generate.js';

/** Pipelines per issue (pipeline.started events), from the generated lines. */
function pipelinesPerIssue(o: Parameters<typeof generateLines>[0]): Map<number, number> {
  const per = new Map<number, number>();
  for (const l of generateLines(o)) {
    if (l.kind !== 'event') continue;
    const e = JSON.parse(l.text) as { type: string; issue: number | string };
    const issue = Number(e.issue);
    if (e.type === 'pipeline.started' && issue !== 0) per.set(issue, (per.get(issue) ?? 0) + 1);
  }
  return per;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// The bench's scaling logs depend on it: one issue's events must not grow with the log when issues rise as a tracker's.
describe('the log generator', () => {
  it('draws every issue from one pool of 400 by default, so an issue gains pipelines as the log grows', () => {
    const small = pipelinesPerIssue({ dir: '', lines: 20_000, days: 30 });
    const big = pipelinesPerIssue({ dir: '', lines: 200_000, days: 30 });
    expect(Math.max(...big.keys())).toBeLessThanOrEqual(400);
    expect(Math.min(...big.keys())).toBeGreaterThanOrEqual(1);
    expect(mean([...big.values()]) / mean([...small.values()])).toBeGreaterThan(5);
  });

  it('with issueLife, works each issue by about that many pipelines however long the log', () => {
    for (const lines of [20_000, 200_000]) {
      const per = pipelinesPerIssue({ dir: '', lines, days: 30, issueLife: 5 });
      expect(per.size).toBeGreaterThan(lines / 25 / 5 / 2);
      expect(mean([...per.values()])).toBeGreaterThan(3.5);
      expect(mean([...per.values()])).toBeLessThan(6.5);
      expect(per.get(7)).toBeLessThan(25);
    }
  });

  it('refuses an issueLife that is not a positive number', () => {
    for (const issueLife of [0, -1, Number.NaN]) {
      expect(() => generateLines({ dir: '', lines: 10, issueLife }).next()).toThrow(/issueLife must be a positive number/);
    }
  });
});
