import type { Command } from 'commander';
import { action } from '../context.js';

export function register(program: Command): void {
  program
    .command('completion')
    .description('print shell completion for bash or zsh')
    .argument('<shell>', 'bash or zsh')
    .action(action(() => import('../run/completion.js')));
}
