import { parseTime } from '../../values.js';
import { fstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { assertDir, listStreams } from '../../ingest/layout.js';
import { doctor } from '../../ops/doctor.js';
import { exportLines } from '../../ops/export.js';
import { queryRows } from '../../ops/query.js';
import { rebuildMirror } from '../../ops/rebuild.js';
import { action, note, sqliteOnly } from '../context.js';
import { openMirror, queryOnly, withStore } from '../../ops/mirror.js';
import { bytes, plural, rowFormatOf, rowWriter, table } from '../format.js';
import { Chunked } from '../output.js';
import { progressHooks } from '../progress.js';
import { describe as describeImport } from './import.js';

/**
 * `export > x.jsonl` inside the log folder would make the export a stream
 * of its own, mirrored a second time by the next import: refuse before
 * writing anything when stdout is a log file of --dir.
 */
function refuseLogAsOutput(dir: string): void {
  let out;
  try {
    out = fstatSync(1);
  } catch {
    return;
  }
  if (!out.isFile()) return;
  let streams;
  try {
    streams = listStreams(dir);
  } catch {
    return; // no folder to list, so no log the export could land in
  }
  for (const list of streams.values()) {
    for (const f of list) {
      const st = statSync(join(dir, f.name), { throwIfNoEntry: false });
      if (st && st.dev === out.dev && st.ino === out.ino) {
        throw new MirrorError(
          'INVALID_ARGUMENT',
          `stdout is ${join(dir, f.name)}, a log file of stream "${f.stream}": the next import would mirror the export a second time; ` +
            `nothing was exported. Write it outside ${dir}, or under a name that is not NAME.jsonl (e.g. ${f.stream}-export.ndjson)`,
        );
      }
    }
  }
}

export function register(program: Command): void {
  program
    .command('query')
    .description('read-only SQL over the mirror (tables: events, rejects, sources, meta); refuses anything that writes')
    .argument('<sql>', 'one SELECT / WITH / EXPLAIN / read-only PRAGMA statement')
    .option('--csv', 'CSV with a header row')
    .option('--tsv', 'TSV with a header row (tab, newline and backslash escaped)')
    .option('--nl', 'one JSON object per line (NDJSON)')
    .action(
      action((g, o, args) => {
        const format = rowFormatOf(g.json, o);
        return withStore(g.db, { readonly: true }, (store) => {
          // PostgreSQL: a read-only session, and each query in its own READ ONLY transaction.
          queryOnly(store);
          const { columns, rows } = queryRows(store, args[0]!);
          const out = rowWriter(format, columns);
          for (const row of rows) if (!out.row(row)) break;
          out.end();
          return { json: null, printed: true };
        }, g.hostId);
      }),
    );

  program
    .command('export')
    .description('the mirrored events as JSONL on stdout, each line byte-identical to the log line')
    .option('--stream <name...>', 'only these streams')
    .option('--since <when>', 'ts_epoch >= this (epoch seconds or ISO date)', parseTime('--since'))
    .option('--until <when>', 'ts_epoch < this', parseTime('--until'))
    .option('--sort <order>', 'file (default: oldest rotated file first, then byte offset) or time (log order)', 'file')
    .option('--host <id>', 'with a postgres:// --db: only this host (default: every host)')
    .action(
      action((g, o) => {
        if (o.sort !== 'file' && o.sort !== 'time') throw new MirrorError('INVALID_ARGUMENT', `--sort is file or time, not "${o.sort}"`);
        refuseLogAsOutput(g.dir);
        const store = openMirror(g.db, { readonly: true }, g.hostId);
        let n = 0;
        try {
          const out = new Chunked(1 << 20);
          out.write(g.json ? '[' : '');
          for (const line of exportLines(store, { streams: o.stream as string[] | undefined, since: o.since as number | undefined,
            until: o.until as number | undefined, sort: o.sort as 'file' | 'time', host: o.host as string | undefined })) {
            if (!out.write(g.json ? `${n === 0 ? '' : ','}${line}` : `${line}\n`)) break;
            n++;
          }
          out.write(g.json ? ']\n' : '');
          out.flush();
        } finally {
          store.close();
        }
        note(`jsonl-mirror: exported ${plural(n, 'event')}`);
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
        sqliteOnly(g, 'rebuild');
        assertDir(g.dir);
        const progress = progressHooks(Boolean(o.progress) && !g.json, 'rebuild');
        try {
          const r = await rebuildMirror(g.dir, g.db, { yes: Boolean(o.yes), final: Boolean(o.final), ...progress.hooks });
          const extra = [
            r.movedAside ? `the broken mirror was moved aside to ${r.movedAside}` : '',
            r.droppedHistoryRows ? `${plural(r.droppedHistoryRows, 'row')} of deleted files dropped` : '',
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
          const rows = store.migrationsApplied();
          const applied = rows.filter((r) => r.applied_at >= started).map((r) => r.name);
          return {
            json: { db: g.db, version: store.schemaVersion, applied, migrations: rows },
            human: `${g.db}: schema version ${store.schemaVersion}; ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`,
          };
        }, g.hostId);
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
        }, g.hostId);
      }),
    );
}
