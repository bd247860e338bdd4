#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { MirrorError } from '../errors.js';
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

/** Every command's definition, in the order help lists them; a module each, imported only when its command may run. */
const COMMANDS: Record<string, () => Promise<{ register: (program: Command) => void }>> = {
  append: () => import('./commands/append.js'),
  import: () => import('./commands/import.js'),
  status: () => import('./commands/status.js'),
  verify: () => import('./commands/verify.js'),
  metrics: () => import('./commands/metrics.js'),
  tail: () => import('./commands/tail.js'),
  query: () => import('./commands/query.js'),
  export: () => import('./commands/export.js'),
  rebuild: () => import('./commands/rebuild.js'),
  migrate: () => import('./commands/migrate.js'),
  doctor: () => import('./commands/doctor.js'),
  serve: () => import('./commands/serve.js'),
  prune: () => import('./commands/prune.js'),
  'shell-init': () => import('./commands/shell.js'),
  completion: () => import('./commands/completion.js'),
};

/**
 * The definitions this run needs: the named command's alone (its parsing,
 * help and errors do not depend on the others); none for a bare --version;
 * every one for help, completion (it lists them), no command or a name that is
 * not a command (commander suggests the nearest). Scripts call the CLI in loops:
 * each definition not loaded is start time saved (issue #24).
 */
function definitionsFor(argv: string[]): (() => Promise<{ register: (program: Command) => void }>)[] {
  const takesValue = new Set(program.options.filter((o) => o.required || o.optional).flatMap((o) => [o.long, o.short]));
  let name: string | undefined;
  for (let i = 0; i < argv.length && name === undefined; i++) {
    const arg = argv[i]!;
    if (arg === '--') break;
    if (!arg.startsWith('-')) name = arg;
    else if (takesValue.has(arg)) i++;
  }
  const all = Object.values(COMMANDS);
  if (name !== undefined) return name !== 'completion' && Object.hasOwn(COMMANDS, name) ? [COMMANDS[name]!] : all;
  const asks = (...flags: string[]) => argv.some((a) => flags.includes(a));
  return asks('-V', '--version') && !asks('-h', '--help') ? [] : all;
}

/** Commander's "error: unknown option '--x'" as our one line, naming where the usage is. */
function usageError(err: CommanderError): MirrorError {
  const what = err.message.replace(/^error: /, '').split('\n')[0]!.replace(/\.$/, '');
  return new MirrorError('INVALID_ARGUMENT', `${what}; see \`jsonl-mirror --help\` (or \`jsonl-mirror COMMAND --help\`)`);
}

async function main(): Promise<void> {
  try {
    for (const { register } of await Promise.all(definitionsFor(process.argv.slice(2)).map((load) => load()))) register(program);
    addExamples(program);
    await program.parseAsync(process.argv);
  } catch (err) {
    if (err instanceof CommanderError && (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed')) {
      process.exitCode = err.exitCode;
    } else {
      const json = process.argv.slice(2).includes('--json');
      process.exitCode = reportError(err instanceof CommanderError ? usageError(err) : err, json);
    }
  }
}

// Not a top-level await: bin/jsonl-mirror runs this module bundled as one CommonJS file, which V8 can cache compiled.
void main();
