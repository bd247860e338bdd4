import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateLog, rng } from '../fixtures/generate.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import { cli, cliAsync, tmp, withSql } from './helpers.js';

/** A digest of everything the mirror holds, independent of row ids and timing. */
function digest(dbPath: string): { events: number; rejects: number; hash: string } {
  return withSql(dbPath, (db) => {
    const h = createHash('sha1');
    const rows = db
      .prepare('SELECT s.path, e."offset", e.line, e.ts_epoch, e.type FROM events e JOIN sources s ON s.id = e.source_id ORDER BY s.path, e."offset"')
      .raw()
      .iterate() as IterableIterator<unknown[]>;
    let events = 0;
    for (const r of rows) {
      h.update(`${r.join('\u0001')}\n`);
      events++;
    }
    const rej = db
      .prepare('SELECT s.path, r."offset", r.length, r.reason FROM rejects r JOIN sources s ON s.id = r.source_id ORDER BY s.path, r."offset"')
      .raw()
      .all() as unknown[][];
    for (const r of rej) h.update(`R${r.join('\u0001')}\n`);
    return { events, rejects: rej.length, hash: h.digest('hex') };
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('crash safety', () => {
  it('SIGKILL at random moments during a 1,000,000-line import, then a re-run, gives the same rows as a clean import', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 1_000_000, linesPerFile: 350_000, seed: 7 });
    const cleanDb = join(tmp(), 'clean.db');
    expect(cli(['--dir', dir, '--db', cleanDb, 'import']).code).toBe(0);
    const clean = digest(cleanDb);

    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 100_000);
    const r = rng(seed);
    const db = join(dir, 'killed.db');
    const kills: number[] = [];
    for (let i = 0; i < 5; i++) {
      const child = cliAsync(['--dir', dir, '--db', db, 'import']);
      const exited = new Promise((res) => child.on('exit', res));
      const at = 100 + Math.floor(r() * 1500);
      await sleep(at);
      child.kill('SIGKILL');
      await exited;
      kills.push(at);
    }
    const finish = cli(['--dir', dir, '--db', db, 'import', '--json']);
    expect(finish.code, `seed ${seed}, kills at ${kills.join(',')} ms`).toBe(0);
    expect(digest(db), `seed ${seed} (replay with CRASH_SEED=${seed})`).toEqual(clean);
    expect(clean.events).toBeGreaterThan(990_000);
    const store = openStore(db, { readonly: true });
    expect(verifyMirror(store, dir).ok).toBe(true);
    store.close();
    // Two imports of a million lines and the killed runs: 90 s on a quiet host here, past the default 120 s under load.
  }, 300_000);

  it('two processes importing the same files at the same time store each line once', async () => {
    const dir = tmp();
    generateLog({ dir, lines: 200_000, linesPerFile: 70_000, seed: 3 });
    const run = () =>
      new Promise<number>((res) => cliAsync(['--dir', dir, 'import']).on('exit', (c) => res(c ?? -1)));
    expect(await Promise.all([run(), run(), run()])).toEqual([0, 0, 0]);
    const cleanDb = join(tmp(), 'clean.db');
    cli(['--dir', dir, '--db', cleanDb, 'import']);
    expect(digest(join(dir, 'mirror.db'))).toEqual(digest(cleanDb));
    expect(withSql(join(dir, 'mirror.db'), (db) => db.prepare('SELECT SUM(rows) AS n FROM sources').get())).toEqual({ n: digest(cleanDb).events });
  });
});
