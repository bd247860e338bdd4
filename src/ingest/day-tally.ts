import type { NormalEvent } from '../model/event.js';
import { rollupDay, isSuccess, PIPELINE_COMPLETED, PIPELINE_STARTED } from '../model/rules.js';
import type { Store } from '../store/api.js';
import type { DayTotal, IssueCost, PairRef } from '../store/rows.js';

/**
 * The rollup cells a batch adds (day_totals, sql/006-007; issue_costs,
 * sql/008), summed in memory and written once with the batch's checkpoint,
 * so they count exactly the rows the same transaction inserts; and the
 * issues whose DORA pairs (sql/009) those rows change.
 */
export class DayTally {
  // Keyed by type, stage, model, then day and success: Map keys tell null from any text, with no key string built per event.
  private readonly byType = new Map<string | null, Map<string | null, Map<string | null, Map<number, DayTotal>>>>();
  private readonly cells: DayTotal[] = [];
  // Keyed by type, issue, model, then day: only events with a cost (sql/008).
  private readonly byIssue = new Map<string | null, Map<number | null, Map<string | null, Map<number, IssueCost>>>>();
  private readonly issueCells: IssueCost[] = [];
  // The issues whose DORA pairs (sql/009) the batch's pipeline events can change, each from its earliest epoch.
  private readonly pairs = new Map<number, PairRef>();

  constructor(private readonly stream: string) {}

  add(e: NormalEvent): void {
    if ((e.type === PIPELINE_STARTED || e.type === PIPELINE_COMPLETED) && e.issue !== null && e.issue !== 0) {
      const p = this.pairs.get(e.issue);
      if (!p) this.pairs.set(e.issue, { stream: this.stream, issue: e.issue, from: e.ts_epoch });
      else if (e.ts_epoch < p.from) p.from = e.ts_epoch;
    }
    const day = rollupDay(e.ts_epoch);
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
    const tin = e.input_tokens ?? 0;
    const tout = e.output_tokens ?? 0;
    if (e.cost_usd !== null && e.cost_usd > 0) {
      cell.usd_sum += e.cost_usd;
      this.issueCell(e, day).usd_sum += e.cost_usd;
    } else if (tin >= 0 && tout >= 0) {
      cell.tok_in += tin;
      cell.tok_out += tout;
      if (tin > 0 || tout > 0) {
        const c = this.issueCell(e, day);
        c.tok_in += tin;
        c.tok_out += tout;
      }
    }
  }

  private issueCell(e: NormalEvent, day: number): IssueCost {
    const byIssue = this.byIssue.get(e.type) ?? this.byIssue.set(e.type, new Map()).get(e.type)!;
    const byModel = byIssue.get(e.issue) ?? byIssue.set(e.issue, new Map()).get(e.issue)!;
    const byDay = byModel.get(e.model) ?? byModel.set(e.model, new Map()).get(e.model)!;
    let cell = byDay.get(day);
    if (!cell) {
      cell = { stream: this.stream, type: e.type, day, issue: e.issue, model: e.model, usd_sum: 0, tok_in: 0, tok_out: 0 };
      byDay.set(day, cell);
      this.issueCells.push(cell);
    }
    return cell;
  }

  writeTo(store: Store): void {
    store.addDayTotals(this.cells);
    store.addIssueCosts(this.issueCells);
    if (this.pairs.size > 0) store.repairPairs(this.pairs.values());
  }
}
