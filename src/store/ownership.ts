import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { MirrorError, option } from '../errors.js';
import { parseStreamFile } from '../model/streams.js';
import type { Database } from './sqlite-module.js';
import { FIRST_MIGRATION, PRAGMA, TABLE_NAMES } from './statements.js';

/**
 * SQLite's header field for "which application owns this file" (offset 68):
 * "JMIR". It is what lets us prove a file is our mirror (docs/design.md#invariant-11) even
 * when its pages are corrupt, since the header is read without SQLite.
 */
export const APPLICATION_ID = 0x4a4d4952;

const MAGIC = 'SQLite format 3\u0000';

interface Header {
  /** The first 16 bytes are SQLite's magic string. */
  sqlite: boolean;
  applicationId: number;
  size: number;
}

/** The 100-byte SQLite header as the file holds it, or undefined when there is no file. */
function readHeader(path: string): Header | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const buf = Buffer.alloc(100);
    const n = readSync(fd, buf, 0, 100, 0);
    return {
      sqlite: n >= 16 && buf.toString('latin1', 0, 16) === MAGIC,
      applicationId: n >= 72 ? buf.readUInt32BE(68) : 0,
      size: statSync(path).size,
    };
  } finally {
    closeSync(fd);
  }
}

/** True only for a file whose SQLite header carries our application_id: the one kind of file we may move aside. */
export function isOurMirrorFile(path: string): boolean {
  const h = readHeader(path);
  return h !== undefined && h.sqlite && h.applicationId === APPLICATION_ID;
}

const notOurs = (path: string, what: string): MirrorError =>
  new MirrorError(
    'DB_FOREIGN',
    `${path} ${what}, not a jsonl-mirror mirror; nothing was changed. Pass --db with the mirror's path (default DIR/mirror.db) or a new file name`,
  );

/**
 * Refuses, before SQLite touches it, any path that cannot be our mirror: a
 * directory, a log file's name, a file that is not SQLite, a SQLite file that
 * another application marked as its own. Returns whether the file exists.
 */
export function checkDbPath(path: string): boolean {
  if (parseStreamFile(basename(path))) {
    throw new MirrorError(
      'INVALID_ARGUMENT',
      `${path} is named like a log file (NAME.jsonl), so it cannot be the mirror; nothing was changed. Pass --db with a name such as mirror.db`,
    );
  }
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    throw new MirrorError(
      'DB_UNREADABLE',
      `cannot access ${path} (${code}); give this user read and search permission on ${dirname(path)}, or pass ${option('db')} with another path`,
      { cause: err },
    );
  }
  if (st.isDirectory()) {
    throw new MirrorError('INVALID_ARGUMENT', `${path} is a directory; pass ${option('db')} with a file path, such as ${path}/mirror.db`);
  }
  if (!st.isFile()) throw notOurs(path, 'is not a regular file');
  let header: Header | undefined;
  try {
    header = readHeader(path);
  } catch (err) {
    throw new MirrorError('DB_UNREADABLE', `cannot read ${path} (${(err as NodeJS.ErrnoException).code}); give this user read permission on it`, {
      cause: err,
    });
  }
  if (header === undefined) {
    throw new MirrorError('DB_UNREADABLE', `cannot read ${path} (permission denied); give this user read permission on it`);
  }
  if (header.size > 0 && !header.sqlite) {
    throw new MirrorError('DB_NOT_A_DATABASE', `${path} is not a SQLite database, so not a jsonl-mirror mirror; nothing was changed. ` +
      "Pass --db with the mirror's path (default DIR/mirror.db), or move this file away and run `jsonl-mirror import`");
  }
  if (header.sqlite && header.applicationId !== 0 && header.applicationId !== APPLICATION_ID) {
    throw notOurs(path, `belongs to another application (application_id 0x${header.applicationId.toString(16)})`);
  }
  return true;
}

export type Ownership = 'ours' | 'earlier' | 'empty';

/**
 * Whose database is open: ours (marked), a mirror of an earlier version
 * (recognised by its schema table, not yet marked), or an empty one we may
 * create a mirror in. Anything with other tables is refused untouched.
 */
export function ownershipOf(db: Database, path: string): Ownership {
  // One snapshot: a mirror is marked before its first table exists, so a concurrent first open cannot look foreign.
  return db.transaction(() => ownershipIn(db, path), 'deferred')();
}

function ownershipIn(db: Database, path: string): Ownership {
  if (db.pragmaValue(PRAGMA.applicationId) === APPLICATION_ID) return 'ours';
  const tables = (db.prepare(TABLE_NAMES).all() as { name: string }[]).map((t) => t.name);
  if (tables.length === 0) return 'empty';
  if (tables.includes('schema_migrations')) {
    const first = db.prepare(FIRST_MIGRATION).get() as { name: string } | undefined;
    if (first?.name === '001_init.sql') return 'earlier';
  }
  const shown = tables.slice(0, 5).join(', ') + (tables.length > 5 ? ', ...' : '');
  throw notOurs(path, `is the SQLite database of another application (tables: ${shown})`);
}

/** Marks the file as ours, and puts the mark in the main file at once so it is there even if a WAL is lost. */
export function markOurs(db: Database): void {
  db.pragma(`${PRAGMA.applicationId} = ${APPLICATION_ID}`);
  if (db.pragmaValue(PRAGMA.journalMode) === 'wal') db.pragma(PRAGMA.walPassive);
}
