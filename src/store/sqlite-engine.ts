import type { Engine } from './api.js';
import { openStore, translateOpenError } from './open.js';
import { isBrokenDb, moveAsideBroken, openHealed } from './quarantine.js';

/** SQLite as the registry (engine.ts) hands it out: a mirror file, moved aside when it is found broken. */
export const sqliteEngine: Engine = {
  open: (path, opts = {}) => openStore(path, { readonly: opts.readonly, busyTimeoutMs: opts.busyTimeoutMs, mustExist: opts.mustExist }),
  explainError: translateOpenError,
  quarantine: { isBroken: isBrokenDb, moveAside: moveAsideBroken, openHealed },
};
