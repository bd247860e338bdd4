import type { NormalEvent } from '../model/event.js';
import { countsInStageTotals } from '../model/rules.js';
import type { Store } from '../store/engine.js';

/**
 * The stage_totals a batch adds (model/rules.ts says which events count),
 * summed per stage in memory and written once with the batch's checkpoint.
 */
export class StageTally {
  private readonly byStage = new Map<string, { n: number; sum: number }>();

  add(e: NormalEvent): void {
    if (!countsInStageTotals(e)) return;
    const t = this.byStage.get(e.stage);
    if (t) {
      t.n++;
      t.sum += e.duration_s ?? 0;
    } else {
      this.byStage.set(e.stage, { n: 1, sum: e.duration_s ?? 0 });
    }
  }

  writeTo(store: Store, stream: string): void {
    for (const [stage, t] of this.byStage) store.addStageTotal(stream, stage, t.n, t.sum);
  }
}
