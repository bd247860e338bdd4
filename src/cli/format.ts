import Table from 'cli-table3';
import { MirrorError } from '../errors.js';
import { Chunked } from './output.js';

export { bytes } from '../units.js';

/** No rule between rows: long tables stay readable. */
export const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export function table(head: string[], rows: (string | number)[][]): string {
  const t = new Table({ head, style: { head: [], border: [] }, chars: COMPACT });
  for (const r of rows) t.push(r.map((c) => String(c)));
  return t.toString();
}

export function count(n: number): string {
  return n.toLocaleString('en-US');
}

/** "1 row", "2 rows": a count with its noun. */
export function plural(n: number, noun: string, many = `${noun}s`): string {
  return `${count(n)} ${n === 1 ? noun : many}`;
}

export type RowFormat = 'table' | 'json' | 'nl' | 'csv' | 'tsv';

/** The format a command's --json/--nl/--csv/--tsv flags ask for; at most one may be given. */
export function rowFormatOf(json: boolean, o: Record<string, unknown>): RowFormat {
  const asked = (['nl', 'csv', 'tsv'] as const).filter((f) => o[f]);
  if (asked.length + (json ? 1 : 0) > 1) {
    throw new MirrorError('INVALID_ARGUMENT', `choose one output format: ${[...(json ? ['--json'] : []), ...asked.map((f) => `--${f}`)].join(', ')} were given`);
  }
  return asked[0] ?? (json ? 'json' : 'table');
}

const text = (v: unknown): string => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));

function csvCell(v: unknown): string {
  const s = text(v);
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** TSV cannot quote: tab, newline and backslash are escaped as \t, \n, \\ (the PostgreSQL text convention). */
function tsvCell(v: unknown): string {
  return text(v).replace(/[\\\t\n\r]/g, (c) => ({ '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' })[c]!);
}

/** A table cell stays on one line: control characters are shown escaped. */
function tableCell(v: unknown): string {
  // eslint-disable-next-line no-control-regex
  return text(v).replace(/[\u0000-\u001f]/g, (c) => JSON.stringify(c).slice(1, -1));
}

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * The list a result is, if it is one: an array of objects, or an object whose
 * one array of objects sits next to nothing but scalars (a page's total and
 * cursor, say). Any other shape (a map, several lists) is not a list.
 */
export function listOf(result: unknown): Record<string, unknown>[] | undefined {
  if (Array.isArray(result)) return result.every(isRecord) ? result : undefined;
  if (!isRecord(result)) return undefined;
  const values = Object.values(result);
  const lists = values.filter((v) => Array.isArray(v));
  const others = values.filter((v) => !Array.isArray(v));
  if (lists.length !== 1 || others.some((v) => v !== null && typeof v === 'object')) return undefined;
  const [list] = lists as unknown[][];
  return list!.every(isRecord) ? (list as Record<string, unknown>[]) : undefined;
}

/** Nested objects become dotted columns (grades.cfr.value), so that a row fits a sheet. */
export function flatRow(row: Record<string, unknown>, prefix = '', into: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(row)) {
    if (isRecord(v)) flatRow(v, `${prefix}${k}.`, into);
    else into[`${prefix}${k}`] = v;
  }
  return into;
}

/** Prints a list result as CSV, TSV or NDJSON: flat rows, the columns of every row (their union, in order of appearance). */
export function printList(format: 'csv' | 'tsv' | 'nl', list: Record<string, unknown>[]): void {
  const rows = list.map((r) => flatRow(r));
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const out = rowWriter(format, columns);
  for (const r of rows) if (!out.row(r)) break;
  out.end();
}

/** Writes rows to stdout as they come, in time linear in the rows. */
export interface RowWriter {
  /** False once stdout is closed: stop producing rows. */
  row(r: Record<string, unknown>): boolean;
  /** Finishes the document; returns the number of rows written. */
  end(): number;
}

/**
 * Rows of any shape as a table, one JSON array, NDJSON, CSV or TSV. All but
 * the table stream with flat memory; the table holds its cells (its column
 * widths need every row) and is drawn in one linear pass, not by cli-table3,
 * whose layout grows faster than the rows.
 */
export function rowWriter(format: RowFormat, columns: string[] = []): RowWriter {
  const out = new Chunked();
  let cols = columns;
  let n = 0;
  const cells: string[][] = [];
  const header = (): void => {
    if (format === 'csv') out.write(`${cols.map(csvCell).join(',')}\n`);
    if (format === 'tsv') out.write(`${cols.map(tsvCell).join('\t')}\n`);
  };
  if (format === 'json') out.write('[');
  if (cols.length > 0) header();
  return {
    row(r) {
      if (cols.length === 0) {
        // Columns not known in advance: the first row's keys.
        cols = Object.keys(r);
        header();
      }
      n++;
      switch (format) {
        case 'json':
          return out.write(`${n === 1 ? '' : ','}${JSON.stringify(r)}`);
        case 'nl':
          return out.write(`${JSON.stringify(r)}\n`);
        case 'csv':
          return out.write(`${cols.map((c) => csvCell(r[c])).join(',')}\n`);
        case 'tsv':
          return out.write(`${cols.map((c) => tsvCell(r[c])).join('\t')}\n`);
        default:
          cells.push(cols.map((c) => tableCell(r[c])));
          return true;
      }
    },
    end() {
      if (format === 'json') out.write(']\n');
      if (format === 'table') {
        drawTable(cols, cells, out);
        out.write(`${plural(n, 'row')}\n`);
      }
      out.flush();
      return n;
    },
  };
}

/** The same box as `table()` draws, one pass: widths first, then each line once. */
function drawTable(head: string[], rows: string[][], out: Chunked): void {
  const widths = head.map((h) => [...h].length);
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i]!, [...c].length)));
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}\n`;
  const line = (cells: string[]) => `│${cells.map((c, i) => ` ${c}${' '.repeat(widths[i]! - [...c].length)} `).join('│')}│\n`;
  out.write(rule('┌', '┬', '┐'));
  out.write(line(head));
  for (const r of rows) if (!out.write(line(r))) return;
  out.write(rule('└', '┴', '┘'));
}
