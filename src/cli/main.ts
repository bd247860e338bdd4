#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MirrorError } from '../errors.js';
import { register as registerAppend } from './commands/append.js';
import { register as registerCompletion } from './commands/completion.js';
import { register as registerImport } from './commands/import.js';
import { register as registerMetrics } from './commands/metrics.js';
import { register as registerQuery } from './commands/query.js';
import { register as registerExport } from './commands/export.js';
import { register as registerRebuild } from './commands/rebuild.js';
import { register as registerMigrate } from './commands/migrate.js';
import { register as registerDoctor } from './commands/doctor.js';
import { register as registerServe } from './commands/serve.js';
import { register as registerPrune } from './commands/prune.js';
import { register as registerShell } from './commands/shell.js';
import { register as registerStatus } from './commands/status.js';
import { register as registerTail } from './commands/tail.js';
import { register as registerVerify } from './commands/verify.js';
import { reportError } from './context.js';
import { addExamples } from './help.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

const program = new Command('jsonl-mirror')
  .description('Mirror append-only JSONL event logs into SQLite; the files stay the source of truth.')
  .version(pkg.version)
  .option('--dir <dir>', 'log directory (default: $JSONL_MIRROR_DIR, else the current directory)')
  .option('--db <file>', 'mirror database: a SQLite file, or a postgres://… URL for a fleet mirror (default: $JSONL_MIRROR_DB, else DIR/mirror.db)')
  .option('--history-dir <dir>', "folder logrotate's olddir moves rotated logs to (default: $JSONL_MIRROR_HISTORY_DIR, else historyDir in DIR/jsonl-mirror.json)")
  .option('--host-id <id>', 'this machine in a PostgreSQL mirror (default: $JSONL_MIRROR_HOST_ID, else the hostname)')
  .option('--json', 'print exactly one JSON document on stdout')
  // Usage errors are reported below like every other failure: one line, and the JSON document with --json.
  .configureHelp({ showGlobalOptions: true })
  .exitOverride()
  .configureOutput({ outputError: () => {} });

for (const register of [registerAppend, registerImport, registerStatus, registerVerify, registerMetrics, registerTail, registerQuery, registerExport, registerRebuild, registerMigrate, registerDoctor, registerServe, registerPrune, registerShell, registerCompletion]) register(program);
addExamples(program);

/** Commander's "error: unknown option '--x'" as our one line, naming where the usage is. */
function usageError(err: CommanderError): MirrorError {
  const what = err.message.replace(/^error: /, '').split('\n')[0]!.replace(/\.$/, '');
  return new MirrorError('INVALID_ARGUMENT', `${what}; see \`jsonl-mirror --help\` (or \`jsonl-mirror COMMAND --help\`)`);
}

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed')) {
    process.exitCode = err.exitCode;
  } else {
    const json = process.argv.slice(2).includes('--json');
    process.exitCode = reportError(err instanceof CommanderError ? usageError(err) : err, json);
  }
}
