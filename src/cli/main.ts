#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { register as registerAppend } from './commands/append.js';
import { register as registerImport } from './commands/import.js';
import { register as registerMetrics } from './commands/metrics.js';
import { register as registerOperate } from './commands/operate.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerTail } from './commands/tail.js';
import { register as registerVerify } from './commands/verify.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('jsonl-mirror')
  .description('Mirror append-only JSONL event logs into SQLite; the files stay the source of truth.')
  .version(pkg.version)
  .option('--dir <dir>', 'log directory (default: $JSONL_MIRROR_DIR, else the current directory)')
  .option('--db <file>', 'mirror database (default: $JSONL_MIRROR_DB, else DIR/mirror.db)')
  .option('--json', 'print exactly one JSON document on stdout')
  .showHelpAfterError('(run with --help for usage)');

for (const register of [registerAppend, registerImport, registerStatus, registerVerify, registerMetrics, registerTail, registerOperate, registerServe]) register(program);

await program.parseAsync(process.argv);
