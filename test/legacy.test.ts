import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, snapshot, tmp, withSql } from './helpers.js';

const entry = (n: number, extra: Record<string, unknown> = {}) => ({
  input_tokens: 1000 * n, output_tokens: 100 * n, model: 'sonnet', stage: 'build', issue: n, cost_usd: n / 10,
  ts: '2026-02-10T00:00:00Z', ts_epoch: 1770681600 + n, ...extra,
});

function costsRows(dir: string) {
  const rows = withSql(join(dir, 'mirror.db'), (db) => db.prepare("SELECT type, issue, cost_usd, line FROM events WHERE stream = 'costs' ORDER BY \"offset\"").all());
  return rows as { type: string; issue: number; cost_usd: number; line: string }[];
}

describe('legacy costs.json import', () => {
  it('turns entries into cost.record events of the costs stream, once, even after the file grows or is trimmed', () => {
    const dir = tmp();
    const file = join(dir, 'costs.json');
    writeFileSync(file, JSON.stringify({ entries: [entry(1), entry(2), entry(2)] }));
    const before = snapshot(dir);
    const r1 = cli(['--dir', dir, 'import', '--json']);
    expect(r1.json.legacy).toEqual({ file: 'costs.json', entries: 3, added: 3, alreadyImported: 0, rejects: 0 });
    expect(snapshot(dir)).toEqual(before);
    const rows = costsRows(dir);
    expect(rows.map((r) => [r.type, r.issue, r.cost_usd])).toEqual([['cost.record', 1, 0.1], ['cost.record', 2, 0.2], ['cost.record', 2, 0.2]]);
    expect(JSON.parse(rows[0]!.line)).toEqual({ ...entry(1), type: 'cost.record' });

    expect(cli(['--dir', dir, 'import', '--json']).json.legacy).toMatchObject({ added: 0, alreadyImported: 3 });
    // Grown: one new entry; two equal entries remain two.
    writeFileSync(file, JSON.stringify({ entries: [entry(1), entry(2), entry(2), entry(3)] }));
    expect(cli(['--dir', dir, 'import', '--json']).json.legacy).toMatchObject({ added: 1, alreadyImported: 3 });
    // Trimmed at the front: nothing new.
    writeFileSync(file, JSON.stringify({ entries: [entry(2), entry(3)] }));
    expect(cli(['--dir', dir, 'import', '--json']).json.legacy).toMatchObject({ added: 0, alreadyImported: 2 });
    expect(costsRows(dir)).toHaveLength(4);
  });

  it('records an unusable costs.json as a reject and says so, without failing the import', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'costs.json'), '{"entries": [1, ');
    writeFileSync(join(dir, 'events.jsonl'), '{"type":"a"}\n');
    const r = cli(['--dir', dir, 'import', '--json']);
    expect(r.code).toBe(0);
    expect(r.json.rows).toBe(1);
    expect(r.json.legacy.error).toMatch(/^costs.json: invalid JSON/);
    expect(withSql(join(dir, 'mirror.db'), (db) => db.prepare('SELECT path, reason FROM rejects').all())).toEqual([{ path: 'costs.json', reason: 'invalid_json' }]);
  });

  it('records entries that are not objects as rejects', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: [entry(1), 'oops', null] }));
    const r = cli(['--dir', dir, 'import', '--json']);
    expect(r.json.legacy).toMatchObject({ added: 1, rejects: 2 });
  });
});
