import { encodeLine } from '../model/line-tokens.js';
import type { NameCodes } from './names.js';
import type { EventRow } from './rows.js';
import type { Database, Statement } from './sqlite-module.js';
import { EVENT_GROUP } from './api.js';
import { INSERT_EVENT_ROW_GROUP, INSERT_LINE_GROUP, type Statements } from './statements.js';

const ROW_COLUMNS = 14;
/** Rows held back at most (about half an 8 MiB ingest batch): then they are written, sorted, within the transaction. 32k keeps the import of a 1 GB log under 200 MB of RSS at the same speed as 64k. */
const MAX_PENDING = 32_768;

/** Key order of event_rows, (stream_id, type_id, ts_epoch, rank, id), of two rows held in `flat`. */
function compareKeys(flat: unknown[], a: number, b: number): number {
  for (let c = 0; c < 5; c++) {
    const d = (flat[a + c] as number) - (flat[b + c] as number);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Where each of the first n rows of `flat` starts, in key order. The rows
 * come in file order, which is time order within each (stream, type): so
 * they are grouped by those two codes first, and a group is sorted only if
 * it is not in order already (a comparison sort of the whole batch was a
 * fifth of an import's event_rows time).
 */
function keyOrder(flat: unknown[], n: number): number[] {
  const groups = new Map<number, Map<number, number[]>>();
  for (let at = 0; at < n * ROW_COLUMNS; at += ROW_COLUMNS) {
    const stream = flat[at] as number;
    const type = flat[at + 1] as number;
    let byType = groups.get(stream);
    if (!byType) groups.set(stream, (byType = new Map()));
    let group = byType.get(type);
    if (!group) byType.set(type, (group = []));
    group.push(at);
  }
  const order: number[] = [];
  const byCode = (a: number, b: number) => a - b;
  for (const stream of [...groups.keys()].sort(byCode)) {
    const byType = groups.get(stream)!;
    for (const type of [...byType.keys()].sort(byCode)) {
      const group = byType.get(type)!;
      if (!inKeyOrder(flat, group)) group.sort((a, b) => compareKeys(flat, a, b));
      for (const at of group) order.push(at);
    }
  }
  return order;
}

function inKeyOrder(flat: unknown[], group: number[]): boolean {
  for (let i = 1; i < group.length; i++) if (compareKeys(flat, group[i - 1]!, group[i]!) > 0) return false;
  return true;
}

class GroupHadDuplicates extends Error {}

/**
 * How the SQLite store writes an event: its line into `lines` (the identity
 * decides whether it is new), then its columns into `event_rows` under the
 * line's id. event_rows is clustered by (stream, type, time), so rows in file
 * order land all over the table; during a bulk load they wait for the end of
 * their transaction and go in sorted, which a B-tree takes a third faster
 * (DESIGN-15). Pending rows are written before any transaction (or
 * savepoint) begins and before it ends, and dropped with one that fails, so
 * no line is ever committed without its row.
 */
export class EventInserts {
  /** Rows held back, ROW_COLUMNS values each, in one array reused from batch to batch: no object per row to collect. */
  private readonly flat: unknown[] = [];
  private pending = 0;
  private sorting = false;
  private lineGroup: Statement | undefined;
  private rowGroup: Statement | undefined;
  private readonly lineParams: unknown[] = [];
  private readonly groupRows: unknown[] = new Array(EVENT_GROUP * ROW_COLUMNS);
  private readonly oneRow: unknown[] = new Array(ROW_COLUMNS);
  /** A savepoint inside the batch's transaction: a group that met a mirrored line rolls back alone. */
  private groupTxn: (() => number) | undefined;

  constructor(
    private readonly db: Database,
    private readonly sql: Statements,
    private readonly names: NameCodes,
  ) {}

  /** Bulk load: rows wait for their transaction's end, sorted by key (off: written as they come). */
  sortRows(on: boolean): void {
    this.flush();
    this.sorting = on;
  }

  /** False when the mirror already holds the line's (source, offset). */
  insert(r: EventRow): boolean {
    const f = r.fields;
    const type = this.names.typeCode(f.type);
    const stream = this.names.streamCode(r.stream);
    const line = this.sql.stmt('insertLine').run(r.sourceId, r.offset, type, f.ts_epoch, storedLine(r));
    if (line.changes !== 1) return false;
    const row = this.oneRow;
    put(row, 0, stream, type, r, Number(line.lastInsertRowid));
    if (this.waits()) this.hold(row, 1);
    else this.sql.stmt('insertEventRow').run(row);
    return true;
  }

  /** EVENT_GROUP events in one statement, all or none: false, having added nothing, when any line is mirrored already. */
  insertGroup(rows: readonly EventRow[]): boolean {
    if (rows.length !== EVENT_GROUP) return false;
    const lp = this.lineParams;
    lp.length = 0;
    const group = this.groupRows;
    // Codes first, outside the savepoint: one added there would vanish with a rolled-back group.
    rows.forEach((r, i) => {
      const f = r.fields;
      const type = this.names.typeCode(f.type);
      lp.push(r.sourceId, r.offset, type, f.ts_epoch, storedLine(r));
      put(group, i * ROW_COLUMNS, this.names.streamCode(r.stream), type, r, 0);
    });
    if (!this.groupTxn) {
      const lines = (this.lineGroup ??= this.db.prepare(INSERT_LINE_GROUP));
      this.groupTxn = this.db.transaction(() => {
        const info = lines.run(this.lineParams);
        if (info.changes !== EVENT_GROUP) throw new GroupHadDuplicates();
        return Number(info.lastInsertRowid);
      }, 'deferred');
    }
    let last: number;
    try {
      last = this.groupTxn();
    } catch (err) {
      if (err instanceof GroupHadDuplicates) return false;
      throw err;
    }
    // One statement's new rows take consecutive ids ending at the last one.
    for (let i = 0; i < EVENT_GROUP; i++) group[i * ROW_COLUMNS + 4] = last - EVENT_GROUP + 1 + i;
    if (this.waits()) this.hold(group, EVENT_GROUP);
    else (this.rowGroup ??= this.db.prepare(INSERT_EVENT_ROW_GROUP)).run(group);
    return true;
  }

  /** Writes the rows held back, in key order. */
  flush(): void {
    const n = this.pending;
    if (n === 0) return;
    const flat = this.flat;
    const order = keyOrder(flat, n);
    const group = this.groupRows;
    const statement = (this.rowGroup ??= this.db.prepare(INSERT_EVENT_ROW_GROUP));
    let i = 0;
    for (; i + EVENT_GROUP <= n; i += EVENT_GROUP) {
      for (let k = 0; k < EVENT_GROUP; k++) copyRow(flat, order[i + k]!, group, k * ROW_COLUMNS);
      statement.run(group);
    }
    for (; i < n; i++) {
      copyRow(flat, order[i]!, this.oneRow, 0);
      this.sql.stmt('insertEventRow').run(this.oneRow);
    }
    this.pending = 0;
  }

  /** The transaction these rows belonged to rolled back, with their lines. */
  drop(): void {
    this.pending = 0;
  }

  private waits(): boolean {
    return this.sorting && this.db.inTransaction;
  }

  private hold(rows: unknown[], count: number): void {
    const flat = this.flat;
    let at = this.pending * ROW_COLUMNS;
    for (let i = 0; i < count * ROW_COLUMNS; i++) flat[at++] = rows[i];
    this.pending += count;
    if (this.pending >= MAX_PENDING) this.flush();
  }
}

/** The line as `lines` stores it: coded here unless the parse worker coded it already. */
function storedLine(r: EventRow): string {
  return r.coded ? r.line : encodeLine(r.line);
}

/** An event's event_rows values at `at` of `into`, in the column order of insertEventRow. */
function put(into: unknown[], at: number, stream: number, type: number, r: EventRow, id: number): void {
  const f = r.fields;
  into[at] = stream;
  into[at + 1] = type;
  into[at + 2] = f.ts_epoch;
  into[at + 3] = r.rank;
  into[at + 4] = id;
  into[at + 5] = f.issue;
  into[at + 6] = f.stage;
  into[at + 7] = f.result;
  into[at + 8] = f.duration_s;
  into[at + 9] = f.cost_usd;
  into[at + 10] = f.model;
  into[at + 11] = f.input_tokens;
  into[at + 12] = f.output_tokens;
  into[at + 13] = f.ts_text;
}

function copyRow(from: unknown[], at: number, to: unknown[], into: number): void {
  for (let c = 0; c < ROW_COLUMNS; c++) to[into + c] = from[at + c];
}
