import { closeSync } from 'node:fs';
import type { Store } from '../store/api.js';
import type { AllTotal, DayTotal, DoraPair, EventFields, IssueCost, SourceRow } from '../store/rows.js';
import { dayKeyOf } from '../model/rules.js';
import { lagBytes, MID_LINE_MS, unterminatedBytes } from '../ingest/lag.js';
import { listStreams } from '../ingest/layout.js';
import { readLines } from '../ingest/lines.js';
import { parseLine } from '../ingest/parse-line.js';
import { normalize } from '../ingest/normalize.js';
import { openStreamFile } from '../ingest/ingest-stream.js';
import { findHeld, holdsLineAt, LineCursor, walk } from '../ingest/held.js';
import { continues, intact } from '../ingest/sources.js';
import { DEFAULT_MAX_LINE_BYTES } from '../ingest/lines.js';

export interface VerifyProblem {
  path: string;
  offset: number;
  /** duplicate: a line the mirror holds twice, through two generations of its stream. */
  problem: 'missing' | 'extra' | 'changed' | 'not_mirrored' | 'behind' | 'duplicate';
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  files: number;
  lines: number;
  events: number;
  rejects: number;
  behindBytes: number;
  /** Bytes of live files' last lines not ended yet (a writer mid-line): they wait for their newline, not a problem. */
  pendingBytes: number;
  problems: VerifyProblem[];
  /** Problems beyond the first 1000 are counted, not listed. */
  moreProblems: number;
}

const MAX_LISTED = 1000;
/** No source has this id: the file being verified is not one yet. */
const NO_SOURCE = -1;

/**
 * Re-reads every file up to its checkpoint and checks that each complete,
 * non-blank line is exactly one events row (with the same text) or one
 * rejects row, and that nothing else is there. Lines past the checkpoint are
 * reported as behind.
 */
export function verifyMirror(store: Store, dir: string, opts: { maxLineBytes?: number } = {}): VerifyReport {
  const report: VerifyReport = { ok: true, files: 0, lines: 0, events: 0, rejects: 0, behindBytes: 0, pendingBytes: 0, problems: [], moreProblems: 0 };
  const add = (p: VerifyProblem): void => {
    if (report.problems.length < MAX_LISTED) report.problems.push(p);
    else report.moreProblems++;
  };
  const maxLineBytes = opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  for (const [stream, list] of listStreams(dir)) {
    for (const f of list) {
      const file = openStreamFile(dir, f);
      if (!file || 'kind' in file) continue; // gone since the listing, or not a log file the ingest would read
      const { fd, st } = file;
      try {
        report.files++;
        const known = store.sourceByInode(stream, st.dev, st.ino);
        // Same inode but other content (truncated or replaced since the last ingest): not this source any more.
        const src = known && (known.state === 'copy' || continues(fd, st.size, known)) ? known : undefined;
        if (!src) {
          const rest = st.size - copiedBytes(store, dir, stream, new LineCursor(fd, st.size, maxLineBytes), st.size);
          if (rest > 0) {
            report.behindBytes += rest;
            add({ path: f.name, offset: st.size - rest, problem: 'not_mirrored', detail: `${rest} bytes never mirrored` });
          }
          continue;
        }
        const held = checkHeld(store, dir, f.name, fd, st.size, maxLineBytes, src, add);
        report.lines += held.lines;
        report.events += held.lines - held.rejects;
        report.rejects += held.rejects;
        if (src.state === 'copy') continue;
        verifySource(store, f.name, fd, src, maxLineBytes, report, add);
        // A live file's last line that its writer is still writing waits by design (docs/design.md#invariant-5): pending, not behind.
        const pending = f.rotation === 0 && Date.now() - st.mtimeMs < MID_LINE_MS ? unterminatedBytes(fd, src.offset, st.size) : 0;
        const behind = lagBytes(st.size, src) - pending;
        report.pendingBytes += pending;
        if (behind > 0) {
          report.behindBytes += behind;
          add({ path: f.name, offset: src.offset, problem: 'behind', detail: `${behind} bytes after the checkpoint` });
        }
      } finally {
        closeSync(fd);
      }
    }
  }
  verifyRollups(store, add);
  report.ok = report.problems.length === 0;
  return report;
}

/**
 * How much of a file no source describes is lines another generation already
 * holds: an archive (`NAME.jsonl.2.gz`) that the ingest has not linked to the
 * generation it compresses yet is mirrored line for line, not lost. An
 * unterminated tail after those lines is no row of any generation, so it is
 * not counted as held.
 */
function copiedBytes(store: Store, dir: string, stream: string, cursor: LineCursor, size: number): number {
  return findHeld(store, cursor, { stream, id: NO_SOURCE }, size, (s) => intact(dir, s))?.run.held ?? 0;
}

/** Lines mirrored twice through two generations of a stream (doctor's check: the file heads only, not every line). */
export function findDuplicates(store: Store, dir: string, maxLineBytes = DEFAULT_MAX_LINE_BYTES): VerifyProblem[] {
  const found: VerifyProblem[] = [];
  for (const [stream, list] of listStreams(dir)) {
    for (const f of list) {
      const file = openStreamFile(dir, f);
      if (!file || 'kind' in file) continue;
      try {
        const src = store.sourceByInode(stream, file.st.dev, file.st.ino);
        if (!src || !(src.state === 'copy' || continues(file.fd, file.st.size, src))) continue;
        checkHeld(store, dir, f.name, file.fd, file.st.size, maxLineBytes, src, (p) => {
          if (p.problem === 'duplicate') found.push(p);
        });
      } finally {
        closeSync(file.fd);
      }
    }
  }
  return found;
}

/**
 * The generation's held prefix must still be the lines it holds, and its own
 * rows must not start with lines the mirror already holds from another
 * generation (what the ingest recognises, checked again). Returns the lines
 * of the held prefix (and how many of them are rejects), which the file
 * holds as surely as its own.
 */
function checkHeld(
  store: Store, dir: string, path: string, fd: number, size: number, maxLineBytes: number, src: SourceRow, add: (p: VerifyProblem) => void,
): { lines: number; rejects: number } {
  const parent = src.copy_of === null ? undefined : store.sourceById(src.copy_of);
  const held = parent ? walk(store, new LineCursor(fd, Math.min(size, src.held_len), maxLineBytes), 0, parent, src.held_at) : undefined;
  if (parent && held!.held < src.held_len) {
    add({ path, offset: 0, problem: 'changed', detail: `the first ${src.held_len} bytes are no longer the lines of ${parent.path} they were taken for` });
    return { lines: 0, rejects: 0 };
  }
  const counted = { lines: held?.lines ?? 0, rejects: held?.rejects ?? 0 };
  const below = src.held_len > 0 ? store.ownRowBelow(src.id, src.held_len) : undefined;
  if (below !== undefined) {
    add({ path, offset: below, problem: 'duplicate', detail: `a row for a line this file holds from ${parent?.path ?? 'an earlier generation'}` });
  }
  // A generation that continues another has each own line checked against it where it is read (verifySource).
  if (src.state === 'copy' || parent) return counted;
  const dup = findHeld(store, new LineCursor(fd, size, maxLineBytes), src, Number.MAX_SAFE_INTEGER, (s) => intact(dir, s));
  if (!dup || dup.run.lines === 0) return counted;
  add({
    path,
    offset: 0,
    problem: 'duplicate',
    detail: `${dup.run.lines} lines (bytes 0-${dup.run.held}) are mirrored twice: also held from ${dup.parent.path} ` +
      `(generation ${dup.parent.generation}) at offset ${dup.shift}`,
  });
  return counted;
}

const COLUMNS: readonly (keyof EventFields)[] = [
  'type', 'ts_epoch', 'issue', 'stage', 'result', 'duration_s', 'cost_usd', 'model', 'input_tokens', 'output_tokens', 'ts_text',
];

/** The first column whose kept value is not what the ingest gives the line (a row written by other code, or edited since). */
function columnDrift(kept: EventFields, line: EventFields): string | undefined {
  const c = COLUMNS.find((k) => kept[k] !== line[k]);
  return c && `${c} is ${JSON.stringify(kept[c])}, the line gives ${JSON.stringify(line[c])}`;
}

/** A rollup cell by its keys, for messages and for matching kept cells with recounted ones. */
const cellName = (t: DayTotal): string =>
  `${t.stream} ${t.type ?? '(no type)'} on ${dayKeyOf(t.day)}, stage ${t.stage ?? '(none)'}, model ${t.model ?? '(none)'}, ${t.ok ? 'success' : 'not success'}`;
const allTimeName = (t: AllTotal): string =>
  `${t.stream} ${t.type ?? '(no type)'} of all time, stage ${t.stage ?? '(none)'}, model ${t.model ?? '(none)'}, ${t.ok ? 'success' : 'not success'}`;
const issueName = (c: IssueCost): string =>
  `${c.stream} ${c.type ?? '(no type)'} on ${dayKeyOf(c.day)}, issue ${c.issue ?? '(none)'}, model ${c.model ?? '(none)'}`;
const pairName = (p: DoraPair): string => `${p.stream} issue ${p.issue}, the pipeline.completed at epoch ${p.ts_epoch} (event ${p.id})`;

const near = (a: number, b: number): boolean => a === b || Math.abs(a - b) <= 1e-6 * Math.max(1, Math.abs(b));

interface Rollup<T> {
  path: string;
  name: (t: T) => string;
  /** The values compared, each within a sum's rounding; a function when they depend on the kept cell. */
  values: readonly (keyof T & string)[] | ((kept: T) => readonly (keyof T & string)[]);
  kept: T[];
  counted: T[];
  /** What `counted` was counted from. */
  from: string;
  /** Values that are not sums (epochs) must be equal, not near. */
  exact?: boolean;
}

/** A rollup (sql/006-009) must equal what the rows (or, for all_totals, day_totals) say, cell for cell and value for value. */
function verifyRollup<T>(r: Rollup<T>, add: (p: VerifyProblem) => void): void {
  const kept = new Map<string, T>();
  for (const t of r.kept) kept.set(r.name(t), t);
  const valuesOf = (k: T) => (typeof r.values === 'function' ? r.values(k) : r.values);
  const shown = (t: T, k = t) => valuesOf(k).map((v) => `${v} ${t[v] as number}`).join(', ');
  for (const a of r.counted) {
    const name = r.name(a);
    const k = kept.get(name);
    kept.delete(name);
    if (!k || valuesOf(k).some((v) => (r.exact ? k[v] !== a[v] : !near(k[v] as number, a[v] as number)))) {
      add({ path: r.path, offset: 0, problem: 'changed', detail: `${name}: kept ${k ? shown(k) : 'nothing'}, ${r.from} say ${shown(a, k)}; run \`jsonl-mirror rebuild\`` });
    }
  }
  for (const [name, k] of kept) add({ path: r.path, offset: 0, problem: 'extra', detail: `${name}: kept ${shown(k)}, ${r.from} have none; run \`jsonl-mirror rebuild\`` });
}

function verifyRollups(store: Store, add: (p: VerifyProblem) => void): void {
  const dayValues = ['n', 'duration_sum', 'dur_min', 'dur_max', 'usd_sum', 'tok_in', 'tok_out'] as const;
  verifyRollup({ path: 'day_totals', name: cellName, values: dayValues, kept: store.dayTotalsKept(), counted: store.dayTotalsFromRows(), from: 'the rows' }, add);
  // A sum no longer read (inexact) may round apart from its days': only its count is checked.
  const allTime = (k: AllTotal) => (k.inexact ? (['n'] as const) : (['n', 'duration_sum'] as const));
  verifyRollup({ path: 'all_totals', name: allTimeName, values: allTime, kept: store.allTotalsKept(), counted: store.allTotalsFromDays(), from: 'day_totals' }, add);
  // Pairs still to fill are not a drift: reads pair the rows until the next open that may write fills them.
  if (!store.pairsPending()) {
    verifyRollup({ path: 'dora_pairs', name: pairName, values: ['lead_from', 'fail_from'], kept: store.pairsKept(), counted: store.pairsFromRows(), from: 'the rows', exact: true }, add);
  }
  verifyRollup({ path: 'issue_costs', name: issueName, values: ['usd_sum', 'tok_in', 'tok_out'], kept: store.issueCostsKept(), counted: store.issueCostsFromRows(), from: 'the rows' }, add);
}

function verifySource(
  store: Store,
  path: string,
  fd: number,
  src: SourceRow,
  maxLineBytes: number,
  report: VerifyReport,
  add: (p: VerifyProblem) => void,
): void {
  const rejects = new Map<number, number>();
  for (const r of store.rejectOffsets(src.id)) {
    rejects.set(r.offset, r.length);
  }
  const parent = src.copy_of === null ? undefined : store.sourceById(src.copy_of);
  const mappedEnd = parent ? parent.offset - src.held_at : 0;
  const rows = store.eventOffsets(src.id);
  let row = rows.next();
  while (!row.done && row.value.offset < src.held_len) row = rows.next(); // reported by checkHeld
  const extrasBefore = (offset: number): void => {
    while (!row.done && row.value.offset < offset) {
      add({ path, offset: row.value.offset, problem: 'extra', detail: 'events row with no line at this offset' });
      row = rows.next();
    }
  };
  const expectEvent = (offset: number, text: string, value: Record<string, unknown>): void => {
    extrasBefore(offset);
    if (!row.done && row.value.offset === offset) {
      const kept = row.value;
      if (kept.line !== text) add({ path, offset, problem: 'changed', detail: 'events row text differs from the line' });
      else if (!kept.fields) add({ path, offset, problem: 'missing', detail: 'mirrored line with no event_rows row: metrics miss it; run `jsonl-mirror rebuild`' });
      else {
        const drift = columnDrift(kept.fields, store.keptFields(normalize(value)));
        if (drift) add({ path, offset, problem: 'changed', detail: `events row ${drift}; run \`jsonl-mirror rebuild\`` });
      }
      report.events++;
      row = rows.next();
    } else {
      add({ path, offset, problem: 'missing', detail: 'valid line with no events row' });
    }
  };
  const expectReject = (offset: number): void => {
    extrasBefore(offset);
    if (!row.done && row.value.offset === offset) {
      add({ path, offset, problem: 'extra', detail: 'rejected line also has an events row' });
      row = rows.next();
    }
    if (rejects.delete(offset)) report.rejects++;
    else add({ path, offset, problem: 'missing', detail: 'unusable line with no rejects row' });
  };
  readLines(
    { fd, from: src.held_len, to: src.offset, final: true, maxLineBytes, batchBytes: Number.POSITIVE_INFINITY },
    (buf, s, e, offset, utf8) => {
      report.lines++;
      if (offset < mappedEnd && holdsLineAt(store, parent!, offset + src.held_at, buf, s, e)) {
        // Held by the generation this one continues: a row of its own here would be the line twice.
        extrasBefore(offset);
        if (!row.done && row.value.offset === offset) {
          add({ path, offset, problem: 'duplicate', detail: `line also held by ${parent!.path} at offset ${offset + src.held_at}` });
          row = rows.next();
        }
        if (rejects.delete(offset)) add({ path, offset, problem: 'duplicate', detail: `rejected line also held by ${parent!.path}` });
        return;
      }
      const parsed = parseLine(buf, s, e, utf8);
      if (parsed.kind === 'event') expectEvent(offset, parsed.text, parsed.value);
      else if (parsed.kind === 'reject') expectReject(offset);
      else extrasBefore(offset + 1);
    },
    (offset) => {
      report.lines++;
      expectReject(offset);
    },
  );
  extrasBefore(Number.POSITIVE_INFINITY);
  for (const offset of rejects.keys()) {
    if (offset >= src.held_len) add({ path, offset, problem: 'extra', detail: 'rejects row with no line at this offset' });
  }
}
