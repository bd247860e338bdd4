import type { NormalEvent } from '../model/event.js';
import { wellFormed, writtenTs } from '../model/rules.js';

/** A number, or a numeric string; anything else (including "." and "") is absent. */
export function toNumber(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null;
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return null;
    const n = Number(t);
    return Number.isFinite(n) ? n : null;
  }
  return null;
}

/** A non-empty string; numbers and booleans as their text; anything else absent. */
export function toText(v: unknown): string | null {
  if (typeof v === 'string') return v === '' ? null : wellFormed(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function epochOf(tsEpoch: unknown, ts: unknown): number {
  const n = toNumber(tsEpoch);
  if (n !== null) return n;
  if (typeof ts === 'string') {
    const ms = Date.parse(ts);
    if (Number.isFinite(ms)) return Math.floor(ms / 1000);
  }
  return 0;
}

export function normalize(e: Record<string, unknown>): NormalEvent {
  const ts_epoch = epochOf(e.ts_epoch, e.ts);
  return {
    type: toText(e.type),
    ts_epoch,
    issue: toNumber(e.issue),
    stage: toText(e.stage),
    result: toText(e.result),
    duration_s: toNumber(e.duration_s),
    cost_usd: toNumber(e.cost_usd) ?? toNumber(e.estimated_cost_usd),
    model: toText(e.model),
    input_tokens: toNumber(e.input_tokens),
    output_tokens: toNumber(e.output_tokens),
    ts_text: writtenTs(e.ts, ts_epoch),
  };
}
