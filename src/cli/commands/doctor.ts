import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('doctor')
    .description('integrity, schema, WAL size, lag, rejects, last import, tailer; exits non-zero on problems, each with its fix')
    .action(action(() => import('../run/doctor.js')));
}
