import { encodeLine } from './line-codec.js';
import type { NameCodes } from './names.js';
import type { EventRow } from './rows.js';
import type { Database, Statement } from './sqlite-module.js';
import { EVENT_GROUP, INSERT_EVENT_ROW_GROUP, INSERT_LINE_GROUP, type Statements } from './statements.js';

const ROW_COLUMNS = 13;
type RowTuple = unknown[];

/** Key order of event_rows: (stream_id, type_id, ts_epoch, rank, id). */
const byKey = (a: RowTuple, b: RowTuple): number =>
  (a[0] as number) - (b[0] as number) || (a[1] as number) - (b[1] as number) || (a[2] as number) - (b[2] as number) ||
  (a[3] as number) - (b[3] as number) || (a[4] as number) - (b[4] as number);

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
  private readonly pending: RowTuple[] = [];
  private sorting = false;
  private lineGroup: Statement | undefined;
  private rowGroup: Statement | undefined;
  private readonly lineParams: unknown[] = [];
  private readonly rowParams: unknown[] = new Array(EVENT_GROUP * ROW_COLUMNS);
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
    const line = this.sql.stmt('insertLine').run(r.sourceId, r.offset, type, f.ts_epoch, encodeLine(r.line));
    if (line.changes !== 1) return false;
    this.row([stream, type, f.ts_epoch, r.rank, Number(line.lastInsertRowid), f.issue, f.stage, f.result,
      f.duration_s, f.cost_usd, f.model, f.input_tokens, f.output_tokens]);
    return true;
  }

  /** EVENT_GROUP events in one statement, all or none: false, having added nothing, when any line is mirrored already. */
  insertGroup(rows: readonly EventRow[]): boolean {
    if (rows.length !== EVENT_GROUP) return false;
    const lp = this.lineParams;
    lp.length = 0;
    const tuples: RowTuple[] = [];
    // Codes first, outside the savepoint: one added there would vanish with a rolled-back group.
    for (const r of rows) {
      const f = r.fields;
      const type = this.names.typeCode(f.type);
      lp.push(r.sourceId, r.offset, type, f.ts_epoch, encodeLine(r.line));
      tuples.push([this.names.streamCode(r.stream), type, f.ts_epoch, r.rank, 0, f.issue, f.stage, f.result,
        f.duration_s, f.cost_usd, f.model, f.input_tokens, f.output_tokens]);
    }
    if (!this.groupTxn) {
      const lines = (this.lineGroup ??= this.db.prepare(INSERT_LINE_GROUP));
      this.groupTxn = this.db.transaction(() => {
        const info = lines.run(this.lineParams);
        if (info.changes !== EVENT_GROUP) throw new GroupHadDuplicates();
        return Number(info.lastInsertRowid);
      });
    }
    let last: number;
    try {
      last = this.groupTxn();
    } catch (err) {
      if (err instanceof GroupHadDuplicates) return false;
      throw err;
    }
    // One statement's new rows take consecutive ids ending at the last one.
    tuples.forEach((t, i) => (t[4] = last - EVENT_GROUP + 1 + i));
    if (this.waits()) this.pending.push(...tuples);
    else this.writeGroup(tuples, 0);
    return true;
  }

  /** Writes the rows waiting, in key order. */
  flush(): void {
    const rows = this.pending;
    if (rows.length === 0) return;
    rows.sort(byKey);
    let i = 0;
    for (; i + EVENT_GROUP <= rows.length; i += EVENT_GROUP) this.writeGroup(rows, i);
    for (; i < rows.length; i++) this.sql.stmt('insertEventRow').run(rows[i]);
    rows.length = 0;
  }

  /** The transaction these rows belonged to rolled back, with their lines. */
  drop(): void {
    this.pending.length = 0;
  }

  private waits(): boolean {
    return this.sorting && this.db.inTransaction;
  }

  private row(t: RowTuple): void {
    if (this.waits()) this.pending.push(t);
    else this.sql.stmt('insertEventRow').run(t);
  }

  /** rows[from .. from + EVENT_GROUP) as one statement. */
  private writeGroup(rows: RowTuple[], from: number): void {
    const p = this.rowParams;
    for (let k = 0; k < EVENT_GROUP; k++) {
      const t = rows[from + k]!;
      for (let c = 0; c < ROW_COLUMNS; c++) p[k * ROW_COLUMNS + c] = t[c];
    }
    (this.rowGroup ??= this.db.prepare(INSERT_EVENT_ROW_GROUP)).run(p);
  }
}
