import type { NormalEvent } from '../ingest/normalize.js';

/** USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
}

export interface PriceTable {
  /** By lower-cased model name. */
  prices: Record<string, ModelPrice>;
  /** Model whose prices apply to an unknown or missing model. */
  fallbackModel: string;
}

/**
 * The cost of an event (METRICS.md): cost_usd when positive, else priced
 * from tokens. read-sql.ts carries the same formula as SQL, term for term.
 */
export function costOf(e: NormalEvent, table: PriceTable): number {
  if (e.cost_usd !== null && e.cost_usd > 0) return e.cost_usd;
  const price = table.prices[(e.model ?? '').toLowerCase()] ?? table.prices[table.fallbackModel]!;
  return ((e.input_tokens ?? 0) / 1e6) * price.input + ((e.output_tokens ?? 0) / 1e6) * price.output;
}
