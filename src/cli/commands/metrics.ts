import { parseIntOption, parseTime } from '../../values.js';
import type { Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { assertDir } from '../../ingest/layout.js';
import { DEFAULT_CONFIG, loadConfig } from '../../metrics/config.js';
import type { DoraGrades } from '../../metrics/dora.js';
import { createReader, type Reader, type SourceChoice } from '../../read/reader.js';
import { action, note } from '../context.js';
import { bytes, listOf, printList, rowFormatOf, table } from '../format.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

const doraRows = (g: DoraGrades) =>
  (['deploy_freq', 'lead_time', 'cfr', 'mttr'] as const).map((k) => [k, g[k].value, g[k].unit, g[k].grade]);

/** One entry per helper: how to call it and how a person reads its result. */
const HELPERS: Record<string, { call: (r: Reader, o: Json) => Json; human: (x: Json) => string; help: string }> = {
  dora: { help: 'DORA grades (period 7)', call: (r, o) => r.doraGrades(o), human: (x) => table(['metric', 'value', 'unit', 'grade'], doraRows(x)) },
  'dora-trend': {
    help: 'weekly DORA grades (period 30)',
    call: (r, o) => r.doraTrend(o),
    human: (x) => table(['week', 'deploys/day', 'lead time h', 'CFR %', 'MTTR h'],
      x.weeks.map((w: Json) => [w.week, ...(['deploy_freq', 'lead_time', 'cfr', 'mttr'] as const).map((k) => `${w.grades[k].value} ${w.grades[k].grade}`)])),
  },
  costs: {
    help: 'cost by stage, model and issue (period 7)',
    call: (r, o) => r.costBreakdown(o),
    human: (x) => [`total $${x.total}`,
      ...(['byStage', 'byModel', 'byIssue'] as const).map((k) => table([k, 'USD'], Object.entries(x[k]).map(([a, b]) => [a, b as number])))].join('\n'),
  },
  'cost-trend': { help: 'cost per UTC day (period 30)', call: (r, o) => r.costTrend(o), human: (x) => table(['date', 'USD'], x.daily.map((d: Json) => [d.date, d.cost])) },
  stages: {
    help: 'stage performance (period 7)',
    call: (r, o) => r.stagePerformance(o),
    human: (x) => table(['stage', 'avg s', 'min s', 'max s', 'count', 'USD', 'trend %'],
      x.stages.map((s: Json) => [s.name, s.avgDuration, s.minDuration, s.maxDuration, s.count, s.cost, s.trend])),
  },
  bottlenecks: {
    help: 'the 5 slowest stages of the last 7 days',
    call: (r, o) => r.bottlenecks(o),
    human: (x) => table(['stage', 'avg s', 'count', 'impact'], x.bottlenecks.map((b: Json) => [b.stage, b.avgDuration, b.count, b.impact])),
  },
  heatmap: {
    help: 'stage.failed per stage and UTC day, all time',
    call: (r, o) => r.failureHeatmap(o),
    human: (x) => table(['stage', 'date', 'failures'],
      Object.entries(x.heatmap).flatMap(([s, days]) => Object.entries(days as Record<string, number>).map(([d, n]) => [s, d, n]))),
  },
  throughput: {
    help: 'successful completions per hour, per UTC day (period 30)',
    call: (r, o) => r.throughputTrend(o),
    human: (x) => table(['date', 'per hour'], x.daily.map((d: Json) => [d.date, d.throughput])),
  },
  history: {
    help: 'all-time totals, last 7 days, DORA grades',
    call: (r, o) => r.metricsHistory(o),
    human: (x) => [
      table(['metric', 'value'], [['success rate %', x.success_rate], ['avg duration s', x.avg_duration_s],
        ['throughput/hour (24 h)', x.throughput_per_hour], ['completed', x.total_completed], ['failed', x.total_failed]]),
      table(['stage', 'mean s'], Object.entries(x.stage_durations).map(([a, b]) => [a, b as number])),
      table(['date', 'completed', 'failed'], x.daily_counts.map((d: Json) => [d.date, d.completed, d.failed])),
      table(['metric', 'value', 'unit', 'grade'], doraRows(x.dora_grades)),
    ].join('\n'),
  },
  'cost-today': {
    help: "today's spend from costs.json against budget.json's daily_budget_usd",
    call: (r, o) => r.costToday(o),
    human: (x) => table(['metric', 'value'], [['spent today USD', x.today_spent], ['daily budget USD', x.daily_budget], ['used %', x.pct_used]]),
  },
  timeline: {
    help: 'stage segments per issue over the last --range hours (default 24)',
    call: (r, o) => r.timeline(o),
    human: (x) => table(['issue', 'title', 'stage', 'start', 'end', 'status'],
      x.timeline.flatMap((i: Json) => i.segments.map((s: Json) => [i.issue, i.title, s.stage, s.start, s.end ?? '', s.status]))),
  },
  'issue-events': {
    help: 'every event of --issue N, oldest first',
    call: (r, o) => {
      if (o.issue === undefined) throw new MirrorError('INVALID_ARGUMENT', 'issue-events needs --issue N (an issue number other than 0)');
      return r.issueEvents(o);
    },
    human: (x) => table(['ts', 'type', 'stage'], x.events.map((e: Json) => [String(e.ts ?? e.ts_epoch ?? ''), String(e.type ?? ''), String(e.stage ?? '')])),
  },
  activity: {
    help: 'the newest events (--type, --issue, --limit, --offset, --cursor)',
    call: (r, o) => r.activity(o),
    human: (x) => [
      table(['ts', 'type', 'issue', 'stage'], x.events.map((e: Json) => [String(e.ts ?? e.ts_epoch ?? ''), String(e.type ?? ''), String(e.issue ?? ''), String(e.stage ?? '')])),
      `${x.events.length} of ${x.total}${x.hasMore ? ` (more: --offset or --cursor ${x.nextCursor})` : ''}`,
    ].join('\n'),
  },
};

/** The metric names, for completion. */
export const METRIC_NAMES = Object.keys(HELPERS);
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
    .description(`dashboard metrics (METRICS.md): ${Object.keys(HELPERS).join(', ')}`)
    .argument('<name>', Object.entries(HELPERS).map(([k, h]) => `${k}: ${h.help}`).join('; '))
    .option('--period <days>', 'window in days (each metric has its default)', parseIntOption('--period', 1))
    .option('--now <when>', 'evaluate as of this time: epoch seconds or ISO date (default: now)', parseTime('--now'))
    .option('--stream <name...>', 'streams to read (default events; cost-today reads costs)')
    .option('--grade-unrounded', 'DORA: grade the unrounded values (default: the value as shown, as the dashboard does)')
    .option('--range <hours>', 'timeline: hours before --now (default 24)', parseIntOption('--range'))
    .option('--source <kind>', 'auto | sqlite | scan', 'auto')
    .option('--host <id>', 'with a postgres:// --db: only this host (default: every host)')
    .option('--max-lag <duration>', 'auto: answer from a mirror that cannot catch up if it is at most this far behind (e.g. 5s); default: the files answer',
      parseDuration('--max-lag'))
    .option('--config <file>', 'JSON with prices, fallbackModel and DORA bands')
    .option('--type <type>', 'activity: type t or any t.*')
    .option('--issue <n>', 'activity: one issue; issue-events: the issue', parseNumber('--issue'))
    .option('--limit <n>', 'activity: page size, at most 200', parseIntOption('--limit', 1))
    .option('--offset <n>', 'activity: skip this many', parseIntOption('--offset'))
    .option('--cursor <cursor>', 'activity: continue after a previous page')
    .option('--csv', 'a list result (trends, stages, bottlenecks, activity, ...) as CSV with a header row')
    .option('--tsv', 'a list result as TSV with a header row')
    .option('--nl', 'a list result as one JSON object per line')
    .action(
      action((g, o, args) => {
        const name = args[0]!;
        const helper = HELPERS[name];
        if (!helper) throw new MirrorError('INVALID_ARGUMENT', `unknown metric "${name}"; one of: ${Object.keys(HELPERS).join(', ')}`);
        const format = rowFormatOf(g.json, o);
        const source = o.source as SourceChoice;
        if (!['auto', 'sqlite', 'scan'].includes(source)) throw new MirrorError('INVALID_ARGUMENT', `--source is auto, sqlite or scan, not "${source}"`);
        assertDir(g.dir);
        const reader = createReader({
          dir: g.dir, db: g.db, source, host: o.host as string | undefined,
          config: o.config ? loadConfig(o.config as string) : DEFAULT_CONFIG,
          onFallback: (reason) => note(`jsonl-mirror: ${reason}`),
          onProblem: (message) => note(`jsonl-mirror: ${message}`),
          maxLagSeconds: o.maxLag as number | undefined,
        });
        try {
          const streams = o.stream as string[] | undefined;
          const opts = name === 'activity'
            ? { type: o.type, issue: o.issue, limit: o.limit, offset: o.offset, cursor: o.cursor, stream: streams?.[0], now: o.now }
            : { period: o.period, now: o.now, streams, gradeUnrounded: o.gradeUnrounded, range: o.range, issue: o.issue };
          const result = helper.call(reader, opts);
          if (reader.lagBytes > 0 && reader.answeredBy === 'sqlite') {
            note(`jsonl-mirror: answered from SQLite ${bytes(reader.lagBytes)} (${reader.lagSeconds.toFixed(1)} s) behind the files: it could not catch up (read-only or locked)`);
          }
          if (format === 'csv' || format === 'tsv' || format === 'nl') {
            const list = listOf(result);
            if (!list) throw new MirrorError('INVALID_ARGUMENT', `metrics ${name} is not a list, so it has no --${format} form; use --json`);
            printList(format, list);
            return { json: null, printed: true };
          }
          return { json: result, human: helper.human(result) };
        } finally {
          reader.close();
        }
      }),
    );
}
