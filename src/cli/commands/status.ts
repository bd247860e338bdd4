import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('status')
    .description('per file: checkpoint, bytes behind, rows and rejects; schema version and DB size')
    .action(action(() => import('../run/status.js')));
}
