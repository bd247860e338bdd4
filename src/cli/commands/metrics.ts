import { parseIntOption, parseTime } from '../../values.js';
import { Option, type Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { METRIC_KEYS, METRIC_LABELS, METRIC_NAMES } from '../../api/metric-names.js';
import { action } from '../context.js';
import { MAX_PERIOD_DAYS } from '../../model/rules.js';


/** A duration: 500ms, 5s, 2m, 1h, or plain seconds. */
function parseDuration(name: string) {
  const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600 };
  return (v: string): number => {
    const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(v.trim());
    if (!m) throw new MirrorError('INVALID_ARGUMENT', `${name} takes a duration such as 5s, 500ms, 2m or 1h, got "${v}"`);
    return Number(m[1]) * unit[m[2] ?? 's']!;
  };
}

function parseNumber(name: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n)) throw new MirrorError('INVALID_ARGUMENT', `${name} takes a number, got "${v}"`);
    return n;
  };
}

export function register(program: Command): void {
  program
    .command('metrics')
    .description(`dashboard metrics (docs/metrics.md): ${METRIC_NAMES.join(', ')}`)
    .argument('<name>', METRIC_KEYS.map((k) => `${METRIC_LABELS[k].name}: ${METRIC_LABELS[k].help}`).join('; '))
    .option('--period <days>', 'window in days (each metric has its default)', parseIntOption('--period', 1, MAX_PERIOD_DAYS))
    .option('--now <when>', 'evaluate as of this time: epoch seconds or ISO date (default: now)', parseTime('--now'))
    .option('--stream <name...>', 'streams to read (default events; cost-today reads costs)')
    .option('--grade-unrounded', 'DORA: grade the unrounded values (default: the value as shown, as the dashboard does)')
    .option('--range <hours>', 'timeline: hours before --now (default 24)', parseIntOption('--range', 1, MAX_PERIOD_DAYS * 24))
    .option('--source <kind>', 'auto | sqlite | scan', 'auto')
    .option('--from-host <id>', 'with a postgres:// --db: only the events of this host (default: every host)')
    // --host was this filter's first name; it also names serve's bind address, so it is kept only as a hidden alias.
    .addOption(new Option('--host <id>').hideHelp())
    .option('--max-lag <duration>', 'auto: answer from a mirror that cannot catch up if it is at most this far behind (e.g. 5s); default: the files answer',
      parseDuration('--max-lag'))
    .option('--config <file>', 'JSON with prices, fallbackModel and DORA bands')
    .option('--type <type>', 'activity: type t or any t.* (all: every type)')
    .option('--issue <n>', 'activity: one issue; issue-events: the issue', parseNumber('--issue'))
    .option('--limit <n>', 'activity: page size, at most 200', parseIntOption('--limit', 1))
    .option('--offset <n>', 'activity: skip this many', parseIntOption('--offset'))
    .option('--cursor <cursor>', 'activity: continue after a previous page')
    .option('--csv', 'a list result (trends, stages, bottlenecks, activity, ...) as CSV with a header row')
    .option('--tsv', 'a list result as TSV with a header row')
    .option('--nl', 'a list result as one JSON object per line')
    .action(action(() => import('../run/metrics.js')));
}
