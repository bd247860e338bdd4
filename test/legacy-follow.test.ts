import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { importLegacyCosts } from '../src/import/legacy-costs.js';
import { openStore } from '../src/store/open.js';
import { createTailer } from '../src/tailer/tailer.js';
import { tmp, withSql } from './helpers.js';

const entry = (n: number, extra: Record<string, unknown> = {}) => ({
  input_tokens: 1000, output_tokens: 100, model: 'sonnet', stage: 'build', issue: String(n), cost_usd: n / 100,
  ts: '2026-02-10T00:00:00Z', ts_epoch: 1770681600 + n, ...extra,
});

/** What Shipwright does: jq into a temp file, then mv over costs.json. */
function rewrite(dir: string, entries: unknown[]): void {
  const temp = join(dir, `costs.json.tmp.${process.pid}`);
  writeFileSync(temp, JSON.stringify({ entries }));
  renameSync(temp, join(dir, 'costs.json'));
}

function costIssues(dir: string): string[] {
  const rows = withSql(join(dir, 'mirror.db'), (db) => db.prepare("SELECT line FROM events WHERE stream = 'costs' ORDER BY \"offset\"").all()) as { line: string }[];
  return rows.map((r) => (JSON.parse(r.line) as { issue: string }).issue);
}

function importOnce(dir: string) {
  const store = openStore(join(dir, 'mirror.db'));
  try {
    return importLegacyCosts(store, dir);
  } finally {
    store.close();
  }
}

describe('costs.json: a window sliding over what Shipwright appends', () => {
  it('an entry appended after the cap trimmed an equal one is new; nothing is imported twice', () => {
    const dir = tmp();
    const same = entry(9);
    rewrite(dir, [entry(1), same, entry(2), same]);
    expect(importOnce(dir)).toMatchObject({ entries: 4, added: 4 });
    // Trimmed to the last two entries, then an entry equal to a trimmed one appended.
    rewrite(dir, [entry(2), same, same]);
    expect(importOnce(dir)).toMatchObject({ entries: 3, added: 1, alreadyImported: 2 });
    expect(importOnce(dir)).toMatchObject({ added: 0, alreadyImported: 3 });
    expect(costIssues(dir)).toEqual(['1', '9', '2', '9', '9']);
    // A file whose start repeats no end of what was imported (rewritten by hand): entries the mirror holds as often are not new.
    rewrite(dir, [entry(1), entry(3)]);
    expect(importOnce(dir)).toMatchObject({ added: 1, alreadyImported: 1 });
    expect(costIssues(dir)).toEqual(['1', '9', '2', '9', '9', '3']);
  });

  it('the tailer imports each rewrite as import does: none twice, none lost when the cap trims old ones', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"pipeline.started","ts_epoch":1770681600,"issue":1}\n');
    const all = [entry(1), entry(2), entry(3)];
    rewrite(dir, all);
    const CAP = 10;
    const tailer = createTailer({ dir, pollIntervalMs: 100, onError: () => {} });
    const fed: unknown[] = [];
    tailer.subscribe((b) => {
      if (b.stream === 'costs') fed.push(...b.events.map((e) => e.issue));
    });
    await tailer.start();
    try {
      await tailer.idle();
      expect(costIssues(dir)).toEqual(['1', '2', '3']);
      // Bursts of rewrites, each adding one entry and keeping the last CAP, faster than the tailer looks.
      for (let burst = 0; burst < 6; burst++) {
        for (let i = 0; i < 5; i++) {
          all.push(entry(all.length + 1));
          rewrite(dir, all.slice(-CAP));
        }
        const want = all.map((e) => e.issue);
        const deadline = Date.now() + 10_000;
        while (costIssues(dir).length < want.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
        expect(costIssues(dir)).toEqual(want);
      }
      await tailer.idle();
    } finally {
      await tailer.stop();
    }
    expect(costIssues(dir)).toEqual(Array.from({ length: 33 }, (_, i) => String(i + 1)));
    // The change feed carried them too, the catch-up included.
    expect(fed).toEqual(Array.from({ length: 33 }, (_, i) => String(i + 1)));
  });
});
