import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateLines } from '../fixtures/generate.js';

/** Pipelines per issue (pipeline.started events), from the generated lines; issue 0 is no issue. */
function pipelinesPerIssue(o: Parameters<typeof generateLines>[0]): Map<number, number> {
  const per = new Map<number, number>();
  for (const l of generateLines(o)) {
    if (l.kind !== 'event') continue;
    const e = JSON.parse(l.text) as { type: string; issue: number | string };
    if (e.type === 'pipeline.started') per.set(Number(e.issue), (per.get(Number(e.issue)) ?? 0) + 1);
  }
  return per;
}

const withIssue = (per: Map<number, number>) => [...per].filter(([issue]) => issue !== 0);

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

// The bench's scaling logs depend on it: one issue's events must not grow with the log when issues rise as a tracker's.
describe('the log generator', () => {
  it('draws every issue from one pool of 400 by default, so an issue gains pipelines as the log grows', () => {
    const small = withIssue(pipelinesPerIssue({ dir: '', lines: 20_000, days: 30 }));
    const big = withIssue(pipelinesPerIssue({ dir: '', lines: 200_000, days: 30 }));
    expect(Math.max(...big.map(([issue]) => issue))).toBeLessThanOrEqual(400);
    expect(Math.min(...big.map(([issue]) => issue))).toBeGreaterThanOrEqual(1);
    expect(mean(big.map(([, n]) => n)) / mean(small.map(([, n]) => n))).toBeGreaterThan(5);
  });

  it('by default writes the lines every test was written against', () => {
    // Tests read their cases out of these logs: a change to the default draws changes every one of them, and must be seen to.
    const h = createHash('sha256');
    for (const l of generateLines({ dir: '', lines: 5000 })) h.update(`${l.text}\n`);
    expect(h.digest('hex')).toBe('53af31ead5d09b71a37a86a31f39f40be77cbe61bfcd86b9c934847685f398d9');
  });

  it('with issueLife, works each issue by about that many pipelines however long the log, and leaves the same pipelines without one', () => {
    for (const lines of [20_000, 200_000]) {
      const all = pipelinesPerIssue({ dir: '', lines, days: 30, issueLife: 5 });
      const per = withIssue(all);
      expect(per.length).toBeGreaterThan(lines / 25 / 5 / 2);
      expect(mean(per.map(([, n]) => n))).toBeGreaterThan(3.5);
      expect(mean(per.map(([, n]) => n))).toBeLessThan(6.5);
      expect(all.get(100)).toBeLessThan(25);
      // The same draw decides "no issue" in both ways of numbering.
      expect(all.get(0)).toBe(pipelinesPerIssue({ dir: '', lines, days: 30 }).get(0));
    }
  });

  it('refuses an issueLife that is not a positive number', () => {
    for (const issueLife of [0, -1, Number.NaN]) {
      expect(() => generateLines({ dir: '', lines: 10, issueLife }).next()).toThrow(/issueLife must be a positive number/);
    }
  });
});
