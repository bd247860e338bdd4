import type { Engine } from '../api.js';
import { openPgStore, translatePgError } from './open.js';
import { redact } from '../../model/mirror-db.js';

/** PostgreSQL as the registry (../engine.ts) hands it out: the fleet's database, every statement scoped to this host. */
export const pgEngine: Engine = {
  open: (url, opts = {}) =>
    openPgStore(url, { hostId: opts.hostId, readonly: opts.readonly, migrate: opts.migrate, connectMs: opts.connectMs, statementMs: opts.statementMs }),
  explainError: (err, url) => translatePgError(err, redact(url)),
};
