import type { NormalEvent } from '../model/event.js';
import { dayNumber, isSuccess } from '../model/rules.js';
import type { Store } from '../store/engine.js';
import type { DayTotal } from '../store/rows.js';

/** A key part no other value can spell: null, or the text after its length. */
const part = (v: string | null): string => (v === null ? '-' : `${v.length}:${v}`);

/**
 * The day_totals cells a batch adds (sql/006), summed in memory and written
 * once with the batch's checkpoint, so they count exactly the rows the same
 * transaction inserts.
 */
export class DayTally {
  private readonly cells = new Map<string, DayTotal>();

  constructor(private readonly stream: string) {}

  add(e: NormalEvent): void {
    const day = dayNumber(e.ts_epoch);
    const ok = isSuccess(e) ? 1 : 0;
    const key = `${day}|${ok}${part(e.type)}${part(e.stage)}${part(e.model)}`;
    const t = this.cells.get(key);
    if (t) {
      t.n++;
      t.duration_sum += e.duration_s ?? 0;
    } else {
      this.cells.set(key, { stream: this.stream, type: e.type, day, stage: e.stage, model: e.model, ok, n: 1, duration_sum: e.duration_s ?? 0 });
    }
  }

  writeTo(store: Store): void {
    store.addDayTotals(this.cells.values());
  }
}
