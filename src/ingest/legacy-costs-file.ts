export interface LegacyCostEvent {
  /** The entry's position in costs.json. */
  index: number;
  event: Record<string, unknown>;
}

export type LegacyParse =
  | { ok: true; events: LegacyCostEvent[]; rejects: { index: number; sample: string }[] }
  | { ok: false; reason: string; sample: string };

/**
 * Shipwright's costs.json: {"entries":[{input_tokens, output_tokens, model,
 * stage, issue, cost_usd, ts, ts_epoch}]}. Each entry becomes a cost.record
 * event; the same conversion serves the import and the scan fallback.
 */
export function parseLegacyCosts(text: string): LegacyParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})`, sample: text.slice(0, 200) };
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) {
    return { ok: false, reason: 'no "entries" array', sample: text.slice(0, 200) };
  }
  const events: LegacyCostEvent[] = [];
  const rejects: { index: number; sample: string }[] = [];
  entries.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      rejects.push({ index, sample: JSON.stringify(entry)?.slice(0, 200) ?? String(entry) });
    } else {
      events.push({ index, event: { ...(entry as Record<string, unknown>), type: 'cost.record' } });
    }
  });
  return { ok: true, events, rejects };
}
