import { resolve } from 'node:path';
import { MirrorError } from '../errors.js';
import { engineEntry, refusal } from '../store/engine.js';

// What --db names, before anything is opened: the CLI asks on every run, so this loads no engine.

/** --db as commands use it: a file's path resolved, a URL as given. */
export function locateDb(given: string): string {
  return engineEntry(given).file ? resolve(given) : given;
}

/** The mirror is a file at --db (else a database server's, which a folder's import never creates). */
export function isMirrorFile(db: string): boolean {
  return engineEntry(db).file;
}

/** A command --db's engine cannot run says so before touching anything. */
export function refuseUnsupported(db: string, command: string): void {
  const why = refusal(db, command);
  if (why !== undefined) throw new MirrorError('INVALID_ARGUMENT', why);
}
