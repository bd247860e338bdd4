import { writeSync } from 'node:fs';
import type { Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { assertDir } from '../../ingest/layout.js';
import { doctor } from '../../ops/doctor.js';
import { exportLines } from '../../ops/export.js';
import { runQuery } from '../../ops/query.js';
import { rebuildMirror } from '../../ops/rebuild.js';
import { openStore } from '../../store/open.js';
import { action, note, parseTime, withStore } from '../context.js';
import { bytes, count, table } from '../format.js';
import { progressHooks } from '../progress.js';
import { describe as describeImport } from './import.js';

function csvCell(v: unknown): string {
  const s = v === null || v === undefined ? '' : String(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function toCsv(rows: Record<string, unknown>[]): string {
  if (rows.length === 0) return '';
  const cols = Object.keys(rows[0]!);
  return [cols.map(csvCell).join(','), ...rows.map((r) => cols.map((c) => csvCell(r[c])).join(','))].join('\n');
}

/** Blocking writes keep memory flat on a slow pipe; a closed pipe (| head) ends the export quietly. */
function writeOut(text: string): boolean {
  try {
    writeSync(1, text);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return false;
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      return writeOut(text);
    }
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('query')
    .description('read-only SQL over the mirror (tables: events, rejects, sources, meta); refuses anything that writes')
    .argument('<sql>', 'one SELECT / WITH / EXPLAIN / read-only PRAGMA statement')
    .option('--csv', 'CSV with a header row')
    .action(
      action((g, o, args) => {
        return withStore(g.db, { readonly: true }, (store) => {
          store.db.pragma('query_only = ON');
          const rows = runQuery(store, args[0]!);
          const cols = rows[0] ? Object.keys(rows[0]) : [];
          const human = o.csv ? toCsv(rows) : `${table(cols, rows.map((r) => cols.map((c) => String(r[c] ?? ''))))}\n${count(rows.length)} rows`;
          return { json: rows, human };
        });
      }),
    );

  program
    .command('export')
    .description('the mirrored events as JSONL on stdout, each line byte-identical to the log line')
    .option('--stream <name...>', 'only these streams')
    .option('--since <when>', 'ts_epoch >= this (epoch seconds or ISO date)', parseTime('--since'))
    .option('--until <when>', 'ts_epoch < this', parseTime('--until'))
    .option('--sort <order>', 'file (default: oldest rotated file first, then byte offset) or time (log order)', 'file')
    .action(
      action((g, o) => {
        if (o.sort !== 'file' && o.sort !== 'time') throw new MirrorError('INVALID_ARGUMENT', `--sort is file or time, not "${o.sort}"`);
        const store = openStore(g.db, { readonly: true });
        let n = 0;
        try {
          let chunk = '';
          let open = writeOut(g.json ? '[' : '');
          for (const line of exportLines(store, { streams: o.stream as string[] | undefined, since: o.since as number | undefined,
            until: o.until as number | undefined, sort: o.sort as 'file' | 'time' })) {
            if (!open) break;
            chunk += g.json ? `${n === 0 ? '' : ','}${line}` : `${line}\n`;
            n++;
            if (chunk.length > 1 << 20) {
              open = writeOut(chunk);
              chunk = '';
            }
          }
          if (open) writeOut(chunk + (g.json ? ']\n' : ''));
        } finally {
          store.close();
        }
        note(`jsonl-mirror: exported ${count(n)} events`);
        return { json: null, printed: true };
      }),
    );

  program
    .command('rebuild')
    .description('build a fresh mirror from the files and swap it in atomically (readers and a tailer never see half of it)')
    .option('--yes', 'drop rows of deleted or truncated files without asking')
    .option('--final', 'ingest unterminated last lines too')
    .option('--no-progress', 'no progress bar')
    .action(
      action(async (g, o) => {
        assertDir(g.dir);
        const progress = progressHooks(Boolean(o.progress) && !g.json, 'rebuild');
        try {
          const r = await rebuildMirror(g.dir, g.db, { yes: Boolean(o.yes), final: Boolean(o.final), ...progress.hooks });
          const extra = [
            r.movedAside ? `the broken mirror was moved aside to ${r.movedAside}` : '',
            r.droppedHistoryRows ? `${count(r.droppedHistoryRows)} rows of deleted files dropped` : '',
          ].filter(Boolean);
          return { json: r, human: [`rebuilt: ${describeImport(r, g.db)}`, ...extra].join('\n') };
        } finally {
          progress.stop();
        }
      }),
    );

  program
    .command('migrate')
    .description('apply pending schema migrations and print the versions')
    .action(
      action((g) => {
        const started = new Date().toISOString();
        return withStore(g.db, { mustExist: true }, (store) => {
          const rows = store.sql.get('migrationsApplied').all() as {
            version: number; name: string; applied_at: string;
          }[];
          const applied = rows.filter((r) => r.applied_at >= started).map((r) => r.name);
          return {
            json: { db: g.db, version: store.schemaVersion, applied, migrations: rows },
            human: `${g.db}: schema version ${store.schemaVersion}; ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`,
          };
        });
      }),
    );

  program
    .command('doctor')
    .description('integrity, schema, WAL size, lag, rejects, last import, tailer; exits non-zero on problems, each with its fix')
    .action(
      action((g) => {
        assertDir(g.dir);
        return withStore(g.db, { readonly: true }, (store) => {
          const r = doctor(store, g.dir);
          const human = [
            table(['check', 'ok', 'detail', 'fix'], r.checks.map((c) => [c.name, c.ok ? 'ok' : 'PROBLEM', c.detail, c.fix ?? ''])),
            `mirror ${g.db}: ${bytes(r.status.dbBytes)}`,
            r.ok ? 'no problems' : 'problems found: run the commands in the fix column',
          ].join('\n');
          return { json: r, human, exitCode: r.ok ? 0 : 1 };
        });
      }),
    );
}
