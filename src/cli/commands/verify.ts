import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('verify')
    .description('re-read the files and check every complete line is exactly one events or rejects row')
    .action(action(() => import('../run/verify.js')));
}
