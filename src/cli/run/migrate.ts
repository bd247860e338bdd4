import type { Run } from '../context.js';
import { withStore } from '../../ops/mirror.js';

export const run: Run = (g) => {
  const started = new Date().toISOString();
  return withStore(g.db, { mustExist: true }, (store) => {
    const rows = store.migrationsApplied();
    const applied = rows.filter((r) => r.applied_at >= started).map((r) => r.name);
    return {
      json: { db: g.db, version: store.schemaVersion, applied, migrations: rows },
      human: `${g.db}: schema version ${store.schemaVersion}; ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`,
    };
  }, g.hostId);
};
