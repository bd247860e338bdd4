import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('migrate')
    .description('apply pending schema migrations and print the versions')
    .action(action(() => import('../run/migrate.js')));
}
