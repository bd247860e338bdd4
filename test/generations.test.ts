import { appendFileSync, copyFileSync, mkdirSync, readdirSync, readFileSync, readSync, renameSync, rmSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createReader } from '../src/api/reader.js';
import { importAll } from '../src/import/import.js';
import { FollowedFiles } from '../src/ingest/followed.js';
import { ingestStream } from '../src/ingest/ingest-stream.js';
import type { IngestOptions, IngestTotals } from '../src/ingest/options.js';
import { verifyMirror } from '../src/ops/verify.js';
import { openStore } from '../src/store/open.js';
import { createTailer } from '../src/tailer/tailer.js';
import { cli, tmp, withSql } from './helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const line = (n: number) => `{"ts_epoch":${1_764_000_000 + n},"type":"t","seq":${n}}\n`;
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => line(from + i)).join('');

/** Writes a generation, gzipped when its name ends in .gz, with the mtime it would have had when it was rotated. */
function generation(dir: string, name: string, from: number, to: number, mtimeS: number): void {
  const text = lines(from, to);
  writeFileSync(join(dir, name), name.endsWith('.gz') ? gzipSync(text) : text);
  utimesSync(join(dir, name), mtimeS, mtimeS);
}

const seqs = (db: string): number[] =>
  (withSql(db, (c) => c.prepare('SELECT line FROM events ORDER BY ts_epoch').all()) as { line: string }[]).map((r) => JSON.parse(r.line).seq);

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

function json(r: { stdout: string; code: number; stderr: string }): any {
  if (r.stdout.trim() === '') throw new Error(`no JSON (exit ${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** A folder as logrotate leaves it after years of changing configs: olddir, dateext, compress, numbered, a live file. */
function logrotatedFolder(): string {
  const dir = tmp();
  mkdirSync(join(dir, 'old'));
  writeFileSync(join(dir, 'jsonl-mirror.json'), JSON.stringify({ historyDir: 'old' }));
  const t0 = 1_764_000_000;
  generation(dir, 'old/events.jsonl-20261128.gz', 1, 3, t0 + 1);
  generation(dir, 'events.jsonl-20261129.gz', 4, 6, t0 + 2);
  generation(dir, 'events.jsonl-20261130', 7, 9, t0 + 3);
  generation(dir, 'events.jsonl.2.gz', 10, 12, t0 + 4);
  generation(dir, 'events.jsonl.1', 13, 15, t0 + 5);
  writeFileSync(join(dir, 'events.jsonl'), lines(16, 18));
  return dir;
}

describe("a stream's generations on disk: numbered, dated, compressed and in a history folder", () => {
  it('a fresh import holds every line of every generation once, and verify, status, prune, the scan and rebuild see them all', () => {
    const dir = logrotatedFolder();
    const db = join(dir, 'mirror.db');
    const imported = json(cli(['--dir', dir, '--json', 'import']));
    expect(imported.rows).toBe(18);
    expect(imported.files).toBe(6);
    expect(seqs(db)).toEqual(range(1, 18));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    const status = json(cli(['--dir', dir, '--json', 'status']));
    expect(status.files.map((f: { state: string }) => f.state)).toEqual(Array(6).fill('active'));
    expect(status.totals.goneSources).toBe(0);
    expect(json(cli(['--dir', dir, '--json', 'prune', '--dry-run'])).rows).toBe(0);
    // Log order follows the generations' own order: the rows' ranks rise with seq.
    const ranks = withSql(db, (c) => c.prepare('SELECT s.path FROM sources s ORDER BY s.rank').all()) as { path: string }[];
    expect(ranks.map((r) => r.path)).toEqual([
      'old/events.jsonl-20261128.gz', 'events.jsonl-20261129.gz', 'events.jsonl-20261130', 'events.jsonl.2.gz', 'events.jsonl.1', 'events.jsonl',
    ]);
    // A second import finds nothing new.
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(0);
    const fromSqlite = createReader({ dir, source: 'sqlite' }).activity({ limit: 200 });
    const fromScan = createReader({ dir, source: 'scan' }).activity({ limit: 200 });
    expect(fromScan.total).toBe(18);
    expect(fromScan).toEqual(fromSqlite);
    expect(json(cli(['--dir', dir, '--json', 'rebuild', '--yes'])).rows).toBe(18);
    expect(seqs(db)).toEqual(range(1, 18));
  });

  it('the history folder may come from --history-dir instead of jsonl-mirror.json', () => {
    const dir = logrotatedFolder();
    rmSync(join(dir, 'jsonl-mirror.json'));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(15);
    expect(json(cli(['--dir', dir, '--history-dir', join(dir, 'old'), '--json', 'import'])).rows).toBe(3);
    expect(seqs(join(dir, 'mirror.db'))).toEqual(range(1, 18));
  });

  it('a compressed copy of a mirrored generation is that generation: nothing added twice, not gone, never pruned, read back by rebuild', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    writeFileSync(join(dir, 'events.jsonl.1'), lines(1, 3));
    writeFileSync(join(dir, 'events.jsonl'), lines(4, 5));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(5);
    // logrotate with compress + delaycompress, at the next rotation: .1 becomes .2.gz, the live file .1.
    writeFileSync(join(dir, 'events.jsonl.2.gz'), gzipSync(readFileSync(join(dir, 'events.jsonl.1'))));
    unlinkSync(join(dir, 'events.jsonl.1'));
    renameSync(join(dir, 'events.jsonl'), join(dir, 'events.jsonl.1'));
    writeFileSync(join(dir, 'events.jsonl'), lines(6, 6));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(1);
    expect(seqs(db)).toEqual(range(1, 6));
    const status = json(cli(['--dir', dir, '--json', 'status']));
    expect(status.files.find((f: { rows: number }) => f.rows === 3).state).toBe('compressed');
    expect(status.totals.goneSources).toBe(0);
    expect(status.prunable.rows).toBe(0);
    expect(json(cli(['--dir', dir, '--json', 'prune', '--yes'])).rows).toBe(0);
    expect(seqs(db)).toEqual(range(1, 6));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
    expect(json(cli(['--dir', dir, '--json', 'rebuild', '--yes'])).rows).toBe(6);
    expect(seqs(db)).toEqual(range(1, 6));
  });

  it('verify counts an archive no ingest has linked yet as the lines it repeats, and names only the lines it adds', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl'), lines(1, 4));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(4);
    // logrotate with compress, and no ingest since: the mirrored generation lives on only as the archive.
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(1, 4)));
    unlinkSync(join(dir, 'events.jsonl'));
    const linked = cli(['--dir', dir, '--json', 'verify']);
    expect(json(linked).problems).toEqual([]);
    expect(linked.code).toBe(0);
    // An archive that goes on past the lines the mirror holds: those lines, and only those, were never mirrored.
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(1, 6)));
    const longer = cli(['--dir', dir, '--json', 'verify']);
    expect(longer.code).toBe(1);
    const held = Buffer.byteLength(lines(1, 4));
    expect(json(longer).problems).toEqual([
      { path: 'events.jsonl.1.gz', offset: held, problem: 'not_mirrored', detail: `${Buffer.byteLength(lines(5, 6))} bytes never mirrored` },
    ]);
    // An unterminated tail after the lines it repeats is no row of any generation: not mirrored, whatever it says.
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(1, 2) + line(99).trimEnd()));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).problems).toEqual([
      { path: 'events.jsonl.1.gz', offset: Buffer.byteLength(lines(1, 2)), problem: 'not_mirrored', detail: `${line(99).length - 1} bytes never mirrored` },
    ]);
    // One the mirror holds nothing of is never mirrored, from its first byte.
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(7, 8)));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).problems).toEqual([
      { path: 'events.jsonl.1.gz', offset: 0, problem: 'not_mirrored', detail: `${Buffer.byteLength(lines(7, 8))} bytes never mirrored` },
    ]);
  });

  it("a rotated generation's unterminated tail, compressed before the mirror took it, is taken from the archive", () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    writeFileSync(join(dir, 'events.jsonl.1'), lines(1, 3) + line(4).trimEnd());
    writeFileSync(join(dir, 'events.jsonl'), lines(5, 5));
    // Rotated a moment ago: its last line may still be finished, so it waits.
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(4);
    const text = readFileSync(join(dir, 'events.jsonl.1'));
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(text));
    utimesSync(join(dir, 'events.jsonl.1.gz'), 1_764_000_000, 1_764_000_000);
    // gzip has written the archive and not yet removed the file: the archive holds what the file holds.
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(0);
    unlinkSync(join(dir, 'events.jsonl.1'));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(1);
    expect(seqs(db)).toEqual(range(1, 5));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(0);
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
  });

  it('a truncated or corrupt archive is one warning naming it, never a crash or a partial read; the other files are imported', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    const good = gzipSync(lines(1, 200));
    writeFileSync(join(dir, 'events.jsonl.2.gz'), good.subarray(0, good.length - 40));
    const corrupt = Buffer.from(gzipSync(lines(201, 400)));
    corrupt.fill(0x55, 20, 60);
    writeFileSync(join(dir, 'events.jsonl.1.gz'), corrupt);
    writeFileSync(join(dir, 'events.jsonl'), lines(401, 402));
    const r = cli(['--dir', dir, 'import']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/events\.jsonl\.2\.gz: the archive is truncated/);
    expect(r.stderr).toMatch(/events\.jsonl\.1\.gz: the archive is corrupt/);
    expect(r.stderr).toMatch(/every other file was imported/);
    expect(seqs(db)).toEqual([401, 402]);
    // Restored from a backup: its lines come in once.
    writeFileSync(join(dir, 'events.jsonl.2.gz'), good);
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(201, 400)));
    expect(json(cli(['--dir', dir, '--json', 'import'])).rows).toBe(400);
    expect(seqs(db)).toEqual(range(1, 402));
  });
});

describe('archives and copies in chains', () => {
  it('copytruncate + compress + delaycompress: a generation held through a copy that was compressed later is never pruned, and prune works', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    const live = join(dir, 'events.jsonl');
    writeFileSync(live, lines(1, 10));
    cli(['--dir', dir, 'import']);
    copyFileSync(live, `${live}.1`);
    writeFileSync(live, lines(11, 15));
    cli(['--dir', dir, 'import']);
    writeFileSync(`${live}.2.gz`, gzipSync(readFileSync(`${live}.1`)));
    unlinkSync(`${live}.1`);
    copyFileSync(live, `${live}.1`);
    writeFileSync(live, lines(16, 20));
    cli(['--dir', dir, 'import']);
    expect(seqs(db)).toEqual(range(1, 20));
    const status = json(cli(['--dir', dir, '--json', 'status']));
    expect(status.prunable.rows).toBe(0);
    expect(status.files.filter((f: { state: string }) => f.state === 'compressed').length).toBeGreaterThan(0);
    const pruned = cli(['--dir', dir, '--json', 'prune', '--yes']);
    expect(pruned.code, pruned.stdout).toBe(0);
    expect(pruned.json.rows).toBe(0);
    // Once the archive is deleted too, the whole chain is history: pruned once, in one go.
    unlinkSync(`${live}.2.gz`);
    unlinkSync(`${live}.1`);
    cli(['--dir', dir, 'import']);
    const again = cli(['--dir', dir, '--json', 'prune', '--yes']);
    expect(again.code, again.stdout).toBe(0);
    expect(again.json.rows).toBe(15);
    expect(seqs(db)).toEqual(range(16, 20));
    expect(json(cli(['--dir', dir, '--json', 'verify'])).ok).toBe(true);
  });

  it('names that are no generation: another compressor, a temporary file; an archive gzip is still writing is passed over quietly', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl-20261201.xz'), Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
    writeFileSync(join(dir, 'events.jsonl-20261202.gz.tmp'), 'partial');
    writeFileSync(join(dir, 'events.jsonl.1'), lines(1, 50));
    // gzip has written part of the archive; the file it compresses is still there.
    writeFileSync(join(dir, 'events.jsonl.1.gz'), gzipSync(lines(1, 50)).subarray(0, 30));
    writeFileSync(join(dir, 'events.jsonl'), lines(51, 52));
    const r = cli(['--dir', dir, '--json', 'import']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.json).toMatchObject({ rows: 52, rejects: 0, skipped: [] });
    expect(r.stderr).toBe('');
  });

  it('inflating leaves nothing in the temp folder', () => {
    const before = readdirSync(tmpdir()).filter((n) => n.startsWith('jsonl-mirror-gz-')).length;
    const dir = tmp();
    for (let i = 1; i <= 5; i++) writeFileSync(join(dir, `events.jsonl.${i}.gz`), gzipSync(lines(i * 100, i * 100 + 9)));
    writeFileSync(join(dir, 'events.jsonl.6.gz'), 'not gzip at all');
    cli(['--dir', dir, 'import']);
    expect(readdirSync(tmpdir()).filter((n) => n.startsWith('jsonl-mirror-gz-')).length).toBe(before);
  });
});

describe('status and prune see a deleted file before any ingest does', () => {
  it('status says gone and prune --dry-run offers its rows', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'events.jsonl.1'), lines(1, 4));
    writeFileSync(join(dir, 'events.jsonl'), lines(5, 6));
    cli(['--dir', dir, 'import']);
    unlinkSync(join(dir, 'events.jsonl.1'));
    const status = json(cli(['--dir', dir, '--json', 'status']));
    expect(status.files.find((f: { path: string }) => f.path === 'events.jsonl.1').state).toBe('gone');
    expect(status.totals.goneSources).toBe(1);
    expect(status.prunable.rows).toBe(4);
    const dry = json(cli(['--dir', dir, '--json', 'prune', '--dry-run']));
    expect(dry.rows).toBe(4);
    expect(dry.sources.map((s: { path: string; state: string }) => [s.path, s.state])).toEqual([['events.jsonl.1', 'gone']]);
    expect(json(cli(['--dir', dir, '--json', 'prune', '--yes'])).rows).toBe(4);
    expect(seqs(join(dir, 'mirror.db'))).toEqual([5, 6]);
  });
});

describe('import with many streams', () => {
  it('the summary counts streams; names only with --verbose or --json', () => {
    const dir = tmp();
    for (const s of ['a', 'b', 'c']) writeFileSync(join(dir, `${s}.jsonl`), lines(1, 2));
    const r = cli(['--dir', dir, 'import', '--no-progress']);
    expect(r.stdout).toMatch(/^imported 6 events from 3 files of 3 streams into /);
    expect(r.stdout).not.toMatch(/streams: /);
    appendFileSync(join(dir, 'c.jsonl'), lines(3, 3));
    const v = cli(['--dir', dir, 'import', '--no-progress', '--verbose']);
    expect(v.stdout).toMatch(/^ {2}streams: a, b, c$/m);
    expect(json(cli(['--dir', dir, '--json', 'import'])).streams).toEqual(['a', 'b', 'c']);
  });
});

/**
 * A line written just before each rotation, by a writer that is not us, with
 * a tailer running: whatever the rotation renames the live file to, the
 * tailer reads it to its end through the descriptor it kept.
 */
/**
 * Rotates the live file eight times with a tailer running, each time just
 * after a line the tailer has not seen yet. `rotate` moves the live file away
 * and leaves a new one, holding `next`, at its name. Every line must be a row.
 */
async function rotateWhileTailing(dir: string, rotate: (i: number, next: string) => void): Promise<void> {
  const db = join(dir, 'mirror.db');
  const t = createTailer({ dir, pollIntervalMs: 5000, onError: () => {} });
  await t.start();
  let n = 0;
  try {
    for (let i = 1; i <= 8; i++) {
      appendFileSync(join(dir, 'events.jsonl'), lines(n + 1, n + 3));
      n += 3;
      await t.idle();
      appendFileSync(join(dir, 'events.jsonl'), line(++n));
      rotate(i, line(++n));
      await sleep(30);
    }
    for (let tries = 0; tries < 200 && seqs(db).length < n; tries++) await sleep(25);
  } finally {
    await t.stop();
  }
  expect(seqs(db)).toEqual(range(1, n));
}

describe('the tailer follows a generation, not its name', () => {
  const renames: Record<string, (dir: string, i: number) => void> = {
    'dateext (NAME.jsonl-DATE)': (dir, i) => renameSync(join(dir, 'events.jsonl'), join(dir, `events.jsonl-2026120${i}`)),
    'olddir (into the history folder)': (dir, i) => renameSync(join(dir, 'events.jsonl'), join(dir, 'old', `events.jsonl.${i}`)),
    'a name no listing knows (moved out of the folder)': (dir, i) => renameSync(join(dir, 'events.jsonl'), join(dir, 'away', `e${i}.log`)),
  };
  for (const [name, rename] of Object.entries(renames)) {
    it(name, async () => {
      const dir = tmp();
      for (const d of ['old', 'away']) mkdirSync(join(dir, d));
      writeFileSync(join(dir, 'jsonl-mirror.json'), JSON.stringify({ historyDir: 'old' }));
      writeFileSync(join(dir, 'events.jsonl'), '');
      await rotateWhileTailing(dir, (i, next) => {
        rename(dir, i);
        writeFileSync(join(dir, 'events.jsonl'), next);
      });
    });
  }

  it('a symlinked log switched to a new target (rotatelogs, cronolog)', async () => {
    const dir = tmp();
    mkdirSync(join(dir, 'targets'));
    const target = (i: number) => join(dir, 'targets', `events-${i}.log`);
    writeFileSync(target(0), '');
    symlinkSync(target(0), join(dir, 'events.jsonl'));
    await rotateWhileTailing(dir, (i, next) => {
      writeFileSync(target(i), next);
      symlinkSync(target(i), join(dir, 'events.jsonl.switch'));
      renameSync(join(dir, 'events.jsonl.switch'), join(dir, 'events.jsonl'));
    });
  });
});

/** A tailer's store (with kept descriptors) and an importer's on one mirror, as two processes would have them. */
type Tail = (o?: IngestOptions) => IngestTotals;

function tailerBesideImport(dir: string, fn: (o: { tailer: ReturnType<typeof openStore>; importer: ReturnType<typeof openStore>; tail: Tail }) => void): void {
  const db = join(dir, 'mirror.db');
  const tailer = openStore(db);
  const importer = openStore(db);
  const follow = new FollowedFiles();
  try {
    fn({ tailer, importer, tail: (o) => ingestStream(tailer, dir, 'events', { follow, ...o }) });
  } finally {
    follow.closeAll();
    tailer.close();
    importer.close();
  }
}

describe('a generation no name leads to any more, marked gone by an import, is still drained by the tailer that holds it open', () => {
  const moves: Record<string, (dir: string, live: string) => void> = {
    "a symlink switched (rotatelogs, cronolog)": (dir, live) => {
      writeFileSync(join(dir, 'targets', 'gen-2.log'), '');
      symlinkSync(join(dir, 'targets', 'gen-2.log'), `${live}.switch`);
      renameSync(`${live}.switch`, live);
    },
    'a rename out of the folder': (dir, live) => {
      renameSync(live, join(dir, 'targets', 'moved-away.jsonl'));
      writeFileSync(live, '');
    },
  };
  for (const [move, apply] of Object.entries(moves)) {
    it(`${move}: the lines written just before are mirrored once`, () => {
      const dir = tmp();
      const db = join(dir, 'mirror.db');
      const live = join(dir, 'events.jsonl');
      mkdirSync(join(dir, 'targets'));
      writeFileSync(join(dir, 'targets', 'gen-1.log'), lines(1, 1));
      symlinkSync(join(dir, 'targets', 'gen-1.log'), live);
      tailerBesideImport(dir, ({ importer, tail }) => {
        tail();
        appendFileSync(live, lines(2, 2));
        apply(dir, live);
        importAll(importer, dir);
        appendFileSync(live, lines(3, 3));
        tail();
        tail();
        expect(seqs(db)).toEqual(range(1, 3));
        importAll(importer, dir);
        tail();
        expect(seqs(db)).toEqual(range(1, 3));
      });
    });
  }
});

describe('a tailer and an import at once', () => {
  // The import keeps no descriptors: to it the generation's file is gone, so its copy reads on past the checkpoint.
  // The tailer still holds the file open and would drain it; the lines past the checkpoint are the copy's now.
  const logs: Record<string, (dir: string) => void> = {
    'a renamed file': (dir) => writeFileSync(join(dir, 'events.jsonl'), lines(1, 3)),
    "a symlink's target (rotatelogs, cronolog)": (dir) => {
      mkdirSync(join(dir, 'targets'));
      writeFileSync(join(dir, 'targets', 'gen-1.log'), lines(1, 3));
      symlinkSync(join(dir, 'targets', 'gen-1.log'), join(dir, 'events.jsonl'));
    },
  };
  const copies: Record<string, (live: string) => void> = {
    // logrotate's compress: renamed, a new live file, gzipped, the rotated name removed.
    'compressed': (live) => {
      renameSync(live, `${live}.1`);
      writeFileSync(live, '');
      writeFileSync(`${live}.1.gz`, gzipSync(readFileSync(`${live}.1`)));
      unlinkSync(`${live}.1`);
    },
    'kept as a suffix (tail -n K > tmp && mv tmp log)': (live) => {
      writeFileSync(`${live}.rotating`, lines(2, 5));
      renameSync(`${live}.rotating`, live);
    },
  };
  for (const [log, start] of Object.entries(logs)) {
    for (const [copy, rotate] of Object.entries(copies)) {
      it(`${log}, ${copy} before the tailer read its end: each line once`, () => {
        const dir = tmp();
        const db = join(dir, 'mirror.db');
        const live = join(dir, 'events.jsonl');
        start(dir);
        tailerBesideImport(dir, ({ tailer, importer, tail }) => {
          tail();
          appendFileSync(live, lines(4, 5));
          rotate(live);
          // The tailer's round comes between the import's read of the copy and the end of its pass.
          let rounds = 0;
          importAll(importer, dir, { onProgress: () => rounds++ === 0 && tail() });
          tail();
          expect(seqs(db)).toEqual(range(1, 5));
          expect(verifyMirror(tailer, dir).problems).toEqual([]);
        });
      });
    }
  }
});

describe('a file replaced by a copy of its last lines (tail -n K > tmp && mv tmp log) while the tailer holds it open', () => {
  // The tailer keeps the replaced file open and drains it; an import (no descriptors) or a listing made just before
  // the rename sees only the copy. Each line written is one row, whichever reads the copy first.
  const keeps: Record<string, [number, number]> = {
    'every unread line': [2, 4],
    'the last unread lines only': [3, 4],
    'a line already read and the unread ones': [1, 4],
  };
  for (const read of [0, 1]) {
    for (const [keep, [from, to]] of Object.entries(keeps)) {
      if (from === 1 && read === 0) continue; // no line read that the copy could keep
      it(`${read} line read by the tailer, ${keep} kept, the import reads the copy first: each line once`, () => {
        const dir = tmp();
        const db = join(dir, 'mirror.db');
        const live = join(dir, 'events.jsonl');
        writeFileSync(live, lines(1, read));
        tailerBesideImport(dir, ({ tailer, importer, tail }) => {
          tail();
          appendFileSync(live, lines(2, 4));
          writeFileSync(`${live}.rotating`, lines(from, to));
          renameSync(`${live}.rotating`, live);
          importAll(importer, dir);
          appendFileSync(live, lines(5, 5));
          tail();
          tail();
          expect(seqs(db)).toEqual(range(read === 1 ? 1 : 2, 5));
          expect(verifyMirror(tailer, dir).problems).toEqual([]);
          importAll(importer, dir);
          tail();
          expect(seqs(db)).toEqual(range(read === 1 ? 1 : 2, 5));
        });
      });
    }
  }

  it('a copy that opens with a blank line, and a drain of several rounds up to where the copy starts: each line once', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    const live = join(dir, 'events.jsonl');
    writeFileSync(live, lines(1, 1));
    tailerBesideImport(dir, ({ tailer, importer, tail: tailWith }) => {
      // The tailer reads one batch a round (at least one read of the line reader's chunk).
      const tail = () => tailWith({ maxBatches: 1, batchBytes: 64 * 1024 });
      tail();
      appendFileSync(live, lines(2, 300_000)); // 15 MB: the line reader reads 4 MiB at a time
      writeFileSync(`${live}.rotating`, `\n${lines(299_999, 300_000)}`); // what `tail -n 3` keeps of a log with a blank line there
      renameSync(`${live}.rotating`, live);
      importAll(importer, dir);
      appendFileSync(live, lines(300_001, 300_001));
      let rounds = 0;
      while (tail().pendingBytes > 0 && rounds < 100) rounds++;
      expect(rounds).toBeGreaterThan(1);
      expect(seqs(db)).toEqual(range(1, 300_001));
      expect(verifyMirror(tailer, dir).problems).toEqual([]);
    });
  });

  it('an import that mirrors the copy between the tailer looking for it and reading the replaced file: each line once', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    const live = join(dir, 'events.jsonl');
    writeFileSync(live, lines(1, 1));
    const flag = new Int32Array(new SharedArrayBuffer(4));
    tailerBesideImport(dir, ({ tail, tailer }) => {
      tail();
      writeFileSync(`${live}.1`, lines(100, 100)); // a newer generation with a row: the tailer looks at the kept file's lines
      tail();
      appendFileSync(live, lines(2, 4));
      writeFileSync(`${live}.rotating`, lines(2, 4));
      renameSync(`${live}.rotating`, live);
      const worker = new Worker(new URL('./workers/import-held-back.mjs', import.meta.url), { workerData: { flag: flag.buffer, db, dir } });
      let paused = false;
      // The tailer's first read is its look for a copy: there the import runs and commits the copy's lines.
      const read = (fd: number, buf: Buffer, offset: number, length: number, position: number): number => {
        if (!paused) {
          paused = true;
          Atomics.store(flag, 0, 1);
          Atomics.notify(flag, 0);
          Atomics.wait(flag, 0, 1, 20_000);
        }
        return readSync(fd, buf, offset, length, position);
      };
      tail({ read });
      Atomics.store(flag, 0, 3);
      Atomics.notify(flag, 0);
      Atomics.wait(flag, 0, 3, 20_000);
      worker.unref();
      expect(paused).toBe(true);
      expect(Atomics.load(flag, 0)).toBe(4); // the import finished
      tail();
      tail();
      expect(seqs(db)).toEqual([1, 2, 3, 4, 100]);
      expect(verifyMirror(tailer, dir).problems).toEqual([]);
    });
  });

  it('renamed over between the listing and the open: the replaced file is drained first, in the same pass', () => {
    const dir = tmp();
    const db = join(dir, 'mirror.db');
    const live = join(dir, 'events.jsonl');
    writeFileSync(`${live}.1`, lines(1, 1));
    writeFileSync(live, '');
    tailerBesideImport(dir, ({ tailer, tail }) => {
      tail();
      appendFileSync(`${live}.1`, lines(2, 2)); // a late writer: the pass reads events.jsonl.1 again, before events.jsonl
      appendFileSync(live, lines(3, 4));
      let renamed = false;
      const read = (fd: number, buf: Buffer, offset: number, length: number, position: number): number => {
        if (!renamed) {
          renamed = true;
          writeFileSync(`${live}.rotating`, lines(4, 4));
          renameSync(`${live}.rotating`, live);
        }
        return readSync(fd, buf, offset, length, position);
      };
      tail({ read });
      expect(renamed).toBe(true);
      expect(seqs(db)).toEqual(range(1, 4));
      appendFileSync(live, lines(5, 5));
      tail();
      tail();
      expect(seqs(db)).toEqual(range(1, 5));
      expect(verifyMirror(tailer, dir).problems).toEqual([]);
    });
  });
});
