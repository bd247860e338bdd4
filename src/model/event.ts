/**
 * The normalised view of an event (docs/metrics.md "Event normalisation"). The
 * SQLite columns are filled from it and the scan produces it the same way,
 * which is what makes the two read backends agree.
 */
export interface NormalEvent {
  type: string | null;
  ts_epoch: number;
  issue: number | null;
  stage: string | null;
  result: string | null;
  duration_s: number | null;
  cost_usd: number | null;
  model: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  /**
   * The line's `ts` as written where the timeline cannot tell it from the
   * epoch: a string other than `isoSecond(ts_epoch)` (model/rules.ts), else
   * null; in the form `writtenTs` gives it, which `shownTs` reads. Read only
   * by a query that names it in its `fields`.
   */
  ts_text: string | null;
}

/** An event as normalised and as written in the log. */
export interface LoggedEvent {
  event: NormalEvent;
  value: Record<string, unknown>;
}
