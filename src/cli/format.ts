import { MirrorError } from '../errors.js';
import { Chunked } from './output.js';

export { bytes } from '../units.js';

/**
 * The width a table fits: the terminal's; when stdout is not a terminal,
 * $COLUMNS if set, else 80, so that a table in a log, a mail from cron or
 * `| less` reads the same as on a standard terminal (--json, --csv and --nl
 * are the forms for scripts).
 */
export function outputWidth(): number {
  if (process.stdout.isTTY && process.stdout.columns > 0) return process.stdout.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : 80;
}

/** A box of rows, each cell as given (a newline starts a new line in the cell), fitted to `width`. */
export function table(head: string[], rows: (string | number)[][], width = outputWidth()): string {
  const out: string[] = [];
  drawTable(head, rows.map((r) => r.map((c) => String(c))), { write: (t) => out.push(t) > 0 }, width);
  return out.join('').replace(/\n$/, '');
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

/**
 * Prints a list result as CSV, TSV or NDJSON: flat rows, the columns of every
 * row (the declared ones first, then their union in order of appearance).
 */
export function printList(format: 'csv' | 'tsv' | 'nl', list: Record<string, unknown>[], declared: readonly string[] = []): void {
  const rows = list.map((r) => flatRow(r));
  const columns = [...new Set([...declared, ...rows.flatMap((r) => Object.keys(r))])];
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
 * widths need every row) and is drawn in one linear pass.
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

const length = (s: string): number => [...s].length;
const longestWord = (s: string): number => Math.max(0, ...s.split(/[ \n]/).map(length));

/**
 * Column widths that fit `width`: the natural ones when they fit; else the
 * widest columns are cut to one common width, each no narrower than its
 * longest word, so that text wraps between words while narrow columns (an
 * ok, a count) keep theirs. Only when words alone are too wide are they
 * broken; a table that cannot fit even so (under 8 characters a column)
 * keeps its natural widths.
 */
function fitWidths(natural: number[], words: number[], width: number): number[] {
  const room = width - (3 * natural.length + 1);
  const cut = (cap: number, floor: number[]) => natural.map((w, i) => Math.min(w, Math.max(cap, floor[i]!)));
  const total = (ws: number[]) => ws.reduce((a, w) => a + w, 0);
  if (total(natural) <= room) return natural;
  for (const floor of [words, natural.map(() => 0)]) {
    for (let cap = Math.max(...natural); cap >= 8; cap--) if (total(cut(cap, floor)) <= room) return cut(cap, floor);
  }
  return natural;
}

/** A cell's text as lines of at most `width` characters, broken after spaces where it can be. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  for (const line of text.split('\n')) {
    let rest = [...line];
    while (rest.length > width) {
      const space = rest.lastIndexOf(' ', width);
      const cut = space > 0 ? space + 1 : width;
      lines.push(rest.slice(0, cut).join('').trimEnd());
      rest = rest.slice(cut);
    }
    lines.push(rest.join(''));
  }
  return lines;
}

/** The box `table()` draws, in one pass: widths first, then each line once; cells wider than their column wrap. */
function drawTable(head: string[], rows: string[][], out: { write(text: string): boolean }, width = outputWidth()): void {
  const natural = head.map(length);
  for (const r of rows) r.forEach((c, i) => (natural[i] = Math.max(natural[i]!, ...c.split('\n').map(length))));
  const room = width - (3 * natural.length + 1);
  // The longest words are looked for only in a table that does not fit: a large query result pays nothing for them.
  const words = natural.reduce((a, w) => a + w, 0) <= room ? natural : head.map(longestWord);
  if (words !== natural) for (const r of rows) r.forEach((c, i) => (words[i] = Math.max(words[i]!, longestWord(c))));
  const widths = fitWidths(natural, words, width);
  const rule = (l: string, m: string, r: string) => `${l}${widths.map((w) => '─'.repeat(w + 2)).join(m)}${r}\n`;
  const row = (cells: string[]): string => {
    const wrapped = cells.map((c, i) => (length(c) <= widths[i]! && !c.includes('\n') ? [c] : wrap(c, widths[i]!)));
    const height = Math.max(1, ...wrapped.map((w) => w.length));
    let text = '';
    for (let k = 0; k < height; k++) {
      text += `│${wrapped.map((w, i) => ` ${w[k] ?? ''}${' '.repeat(widths[i]! - length(w[k] ?? ''))} `).join('│')}│\n`;
    }
    return text;
  };
  out.write(rule('┌', '┬', '┐'));
  out.write(row(head));
  for (const r of rows) if (!out.write(row(r))) return;
  out.write(rule('└', '┴', '┘'));
}
