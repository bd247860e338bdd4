import { join } from 'node:path';
import { MirrorError } from '../../errors.js';
import { readMigrations, type Migration } from '../migrations.js';
import type { SyncPg } from './bridge.js';
import { IS_APPLIED, MIGRATION_LOCK, MIGRATIONS_APPLIED, MIGRATIONS_TABLE, MIGRATIONS_TABLE_EXISTS, RECORD_MIGRATION } from './statements.js';

/** PostgreSQL's own numbered migrations, checksummed as SQLite's are. */
export const pgMigrations = (): Migration[] => readMigrations(join('sql', 'pg'));

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

/** Refuses a newer or changed schema (the same rules as SQLite's); returns the migrations still to apply. */
export function checkPgSchema(pg: SyncPg, label: string): { current: number; pending: Migration[] } {
  const known = pgMigrations();
  const latest = known.at(-1)?.version ?? 0;
  const exists = pg.query<{ ok: boolean }>(MIGRATIONS_TABLE_EXISTS).rows[0]!.ok;
  const done = exists ? pg.query<Applied>(MIGRATIONS_APPLIED).rows : [];
  for (const a of done) {
    if (a.version > latest) {
      throw new MirrorError(
        'DB_NEWER_SCHEMA',
        `${label} has schema version ${a.version}, newer than this jsonl-mirror knows (${latest}); upgrade jsonl-mirror on this machine`,
      );
    }
    const mine = known.find((m) => m.version === a.version);
    if (!mine || mine.checksum !== a.checksum) {
      throw new MirrorError(
        'DB_MIGRATION_CHANGED',
        `${label}: migration pg/${a.name} was applied with different contents than this version ships; ` +
          'the schema cannot be trusted: drop the mirror\'s tables (or use a fresh database) and run `jsonl-mirror import` on every host',
      );
    }
  }
  const appliedVersions = new Set(done.map((a) => a.version));
  return { current: done.at(-1)?.version ?? 0, pending: known.filter((m) => !appliedVersions.has(m.version)) };
}

/** Applies each pending migration in its own transaction, one opener at a time, recorded with its checksum. */
export function migratePg(pg: SyncPg, pending: Migration[]): void {
  for (const m of pending) {
    pg.query('BEGIN');
    try {
      pg.query(MIGRATION_LOCK);
      pg.query(MIGRATIONS_TABLE);
      if (pg.query(IS_APPLIED, [m.version]).rows.length === 0) {
        pg.query(m.sql);
        pg.query(RECORD_MIGRATION, [m.version, m.name, m.checksum, new Date().toISOString()]);
      }
      pg.query('COMMIT');
    } catch (err) {
      pg.query('ROLLBACK');
      throw err;
    }
  }
}
