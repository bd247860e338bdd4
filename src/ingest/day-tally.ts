import type { NormalEvent } from '../model/event.js';
import { dayNumber, isSuccess } from '../model/rules.js';
import type { Store } from '../store/api.js';
import type { DayTotal } from '../store/rows.js';

/**
 * The day_totals cells a batch adds (sql/006), summed in memory and written
 * once with the batch's checkpoint, so they count exactly the rows the same
 * transaction inserts.
 */
export class DayTally {
  // Keyed by type, stage, model, then day and success: Map keys tell null from any text, with no key string built per event.
  private readonly byType = new Map<string | null, Map<string | null, Map<string | null, Map<number, DayTotal>>>>();
  private readonly cells: DayTotal[] = [];

  constructor(private readonly stream: string) {}

  add(e: NormalEvent): void {
    const day = dayNumber(e.ts_epoch);
    const ok = isSuccess(e) ? 1 : 0;
    const byStage = this.byType.get(e.type) ?? this.byType.set(e.type, new Map()).get(e.type)!;
    const byModel = byStage.get(e.stage) ?? byStage.set(e.stage, new Map()).get(e.stage)!;
    const byDay = byModel.get(e.model) ?? byModel.set(e.model, new Map()).get(e.model)!;
    const d = e.duration_s ?? 0;
    let cell = byDay.get(day * 2 + ok);
    if (cell) {
      cell.n++;
      cell.duration_sum += d;
      if (d < cell.dur_min) cell.dur_min = d;
      if (d > cell.dur_max) cell.dur_max = d;
    } else {
      cell = { stream: this.stream, type: e.type, day, stage: e.stage, model: e.model, ok, n: 1, duration_sum: d, dur_min: d, dur_max: d, usd_sum: 0, tok_in: 0, tok_out: 0 };
      byDay.set(day * 2 + ok, cell);
      this.cells.push(cell);
    }
    if (e.cost_usd !== null && e.cost_usd > 0) {
      cell.usd_sum += e.cost_usd;
    } else if ((e.input_tokens ?? 0) >= 0 && (e.output_tokens ?? 0) >= 0) {
      cell.tok_in += e.input_tokens ?? 0;
      cell.tok_out += e.output_tokens ?? 0;
    }
  }

  writeTo(store: Store): void {
    store.addDayTotals(this.cells);
  }
}
