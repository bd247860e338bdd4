import type { Command } from 'commander';
import { action } from '../context.js';
import { withStore } from '../../ops/mirror.js';

export function register(program: Command): void {
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
}
