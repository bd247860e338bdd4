import { resolve } from 'node:path';
import { engineEntry } from '../store/engine.js';

// What --db names, before anything is opened: the CLI asks on every run, so this loads no engine.

/** --db as commands use it: a file's path resolved, a URL as given. */
export function locateDb(given: string): string {
  return engineEntry(given).file ? resolve(given) : given;
}

/** The mirror is a file at --db (else a database server's, which a folder's import never creates). */
export function isMirrorFile(db: string): boolean {
  return engineEntry(db).file;
}

/** Many machines feed the mirror at --db, each with its own tailer (a fleet's database). */
export function isFleet(db: string): boolean {
  return engineEntry(db).fleet;
}

/** --db as messages show it (a URL without its password). */
export function dbLabel(db: string): string {
  return engineEntry(db).label(db);
}
