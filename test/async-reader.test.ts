import { describe, expect, it } from 'vitest';
import { createAsyncReader } from '../src/api/async-reader.js';
import { createReader } from '../src/api/reader.js';
import { MirrorError } from '../src/errors.js';
import { METRIC_KEYS } from '../src/api/metric-list.js';
import { defaultCases } from './all-helpers.js';
import { NOW } from './serve-cases.js';
import { exampleDir } from './serve-helpers.js';

describe('createAsyncReader: the helpers off the caller\'s thread', () => {
  it('answers every helper as createReader does, many calls at once, from SQLite and from the files', async () => {
    const dir = exampleDir();
    for (const source of ['sqlite', 'scan'] as const) {
      const sync = createReader({ dir, source });
      const reader = createAsyncReader({ dir, source, threads: 2 });
      try {
        const cases = defaultCases(NOW);
        const calls = METRIC_KEYS.flatMap((k) => cases[k].map((o) => ({ k, o })));
        const answers = await Promise.all(calls.map(({ k, o }) => (reader[k] as (x: unknown) => Promise<unknown>)(o)));
        calls.forEach(({ k, o }, i) => expect(answers[i], `${source} ${k} ${JSON.stringify(o)}`).toEqual((sync[k] as (x: unknown) => unknown)(o)));
      } finally {
        sync.close();
        await reader.close();
      }
    }
  });

  it('rejects with the typed error the helper throws, and the threads stay usable', async () => {
    const reader = createAsyncReader({ dir: exampleDir(), threads: 1 });
    try {
      const err = await reader.issueEvents().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MirrorError);
      expect((err as MirrorError).code).toBe('INVALID_ARGUMENT');
      expect((err as Error).message).toMatch(/issue number other than 0/);
      expect((await reader.activity({ limit: 3 })).events).toHaveLength(3);
    } finally {
      await reader.close();
    }
  });

  it('close() settles the calls still waiting: none is left hanging', async () => {
    const reader = createAsyncReader({ dir: exampleDir(), threads: 1 });
    const pending = Array.from({ length: 20 }, () => reader.metricsHistory({ now: NOW }).then(() => 'answered', () => 'rejected'));
    await reader.close();
    const outcomes = await Promise.all(pending);
    expect(outcomes.every((o) => o === 'answered' || o === 'rejected')).toBe(true);
    expect(outcomes).toContain('rejected');
  });
});
