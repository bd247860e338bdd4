import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MirrorError } from '../errors.js';
import type { Database } from './sqlite-module.js';
import { IS_APPLIED, MIGRATIONS_RECORDED, MIGRATIONS_TABLE, MIGRATIONS_TABLE_EXISTS, RECORD_MIGRATION } from './statements.js';

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

/** A folder of the package (sql/ or sql/pg/), found from this module whether it runs from src/ or dist/src/. */
function sqlDir(folder: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, folder);
    if (existsSync(join(candidate, '001_init.sql'))) return candidate;
    dir = dirname(dir);
  }
  throw new Error(`jsonl-mirror: ${folder}/ migrations folder not found next to the package; reinstall the package`);
}

const cached = new Map<string, Migration[]>();

/** One engine's numbered migrations (`sql` for SQLite, `sql/pg` for PostgreSQL), each checksummed (sha256 of the file). */
export function readMigrations(folder: string): Migration[] {
  let list = cached.get(folder);
  if (!list) {
    const dir = sqlDir(folder);
    list = readdirSync(dir)
      .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
      .sort()
      .map((f) => {
        const sql = readFileSync(join(dir, f), 'utf8');
        return { version: Number(f.slice(0, 3)), name: f, sql, checksum: createHash('sha256').update(sql).digest('hex') };
      });
    cached.set(folder, list);
  }
  return list;
}

export const migrations = (): Migration[] => readMigrations('sql');

export const LATEST_VERSION = (): number => migrations().at(-1)?.version ?? 0;

interface Applied {
  version: number;
  name: string;
  checksum: string;
}

function applied(db: Database): Applied[] {
  const exists = db.prepare(MIGRATIONS_TABLE_EXISTS).get();
  if (!exists) return [];
  return db.prepare(MIGRATIONS_RECORDED).all() as Applied[];
}

/**
 * Refuses a database written by a newer version or one whose recorded
 * migrations differ from ours; returns the migrations still to apply.
 */
export function checkSchema(db: Database, path: string): { current: number; pending: Migration[] } {
  const known = migrations();
  const done = applied(db);
  const latest = LATEST_VERSION();
  for (const a of done) {
    if (a.version > latest) {
      throw new MirrorError(
        'DB_NEWER_SCHEMA',
        `${path} has schema version ${a.version}, newer than this jsonl-mirror knows (${latest}); ` +
          'upgrade jsonl-mirror, or point --db at another file (reads fall back to scanning the logs)',
      );
    }
    const mine = known.find((m) => m.version === a.version);
    if (!mine || mine.checksum !== a.checksum) {
      throw new MirrorError(
        'DB_MIGRATION_CHANGED',
        `${path}: migration ${a.name} was applied with different contents than this version ships; ` +
          'the schema cannot be trusted: run `jsonl-mirror rebuild`, or delete the mirror and run `jsonl-mirror import`',
      );
    }
  }
  const current = done.at(-1)?.version ?? 0;
  // By version, not "above the highest": numbers taken on parallel branches may land out of order.
  const appliedVersions = new Set(done.map((a) => a.version));
  return { current, pending: known.filter((m) => !appliedVersions.has(m.version)) };
}

/** Applies each pending migration in its own transaction and records it with its checksum. */
export function migrate(db: Database, pending: Migration[]): void {
  db.exec(MIGRATIONS_TABLE);
  const record = db.prepare(RECORD_MIGRATION);
  const isApplied = db.prepare(IS_APPLIED);
  for (const m of pending) {
    db.transaction(() => {
      // Another process may have applied it since we looked: the write lock makes this check exact.
      if (isApplied.get(m.version)) return;
      db.exec(m.sql);
      record.run(m.version, m.name, m.checksum, new Date().toISOString());
    }, 'immediate')();
  }
}
