import type { NormalEvent } from './event.js';

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

/** Prices are per this many tokens. */
export const TOKENS_PER_PRICE = 1e6;

/**
 * The cost of an event (docs/metrics.md): cost_usd when positive, else priced
 * from tokens. The store's SQL (store/read-sql.ts, store/pg/read-sql.ts) is
 * built from the same table and TOKENS_PER_PRICE, term for term in this
 * order, so each event's cost is the same double in every backend.
 */
export function costOf(e: NormalEvent, table: PriceTable): number {
  if (e.cost_usd !== null && e.cost_usd > 0) return e.cost_usd;
  const key = (e.model ?? '').toLowerCase();
  // Own keys only: a model named "constructor" is priced as unknown, as the SQL's CASE prices it.
  const price = (Object.hasOwn(table.prices, key) ? table.prices[key] : undefined) ?? table.prices[table.fallbackModel]!;
  return ((e.input_tokens ?? 0) / TOKENS_PER_PRICE) * price.input + ((e.output_tokens ?? 0) / TOKENS_PER_PRICE) * price.output;
}
