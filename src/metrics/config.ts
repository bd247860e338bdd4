import { readFileSync } from 'node:fs';
import { MirrorError } from '../errors.js';

import type { ModelPrice, PriceTable } from '../model/cost.js';

/** Thresholds of Elite, High, Medium; anything else is Low. */
export interface Bands {
  /** per day, value >= threshold */
  deploy_freq: [number, number, number];
  /** hours, value < threshold (also used for time to restore) */
  lead_time: [number, number, number];
  /** percent, value < threshold */
  cfr: [number, number, number];
}

export interface MetricsConfig extends PriceTable {
  bands: Bands;
}

export const DEFAULT_CONFIG: MetricsConfig = {
  prices: {
    opus: { input: 15, output: 75 },
    sonnet: { input: 3, output: 15 },
    haiku: { input: 0.25, output: 1.25 },
  },
  fallbackModel: 'sonnet',
  bands: {
    deploy_freq: [1, 1 / 7, 1 / 30],
    lead_time: [1, 24, 168],
    cfr: [5, 10, 15],
  },
};

export interface PartialConfig {
  prices?: Record<string, ModelPrice>;
  fallbackModel?: string;
  bands?: Partial<Bands>;
}

const KNOWN = { config: ['prices', 'fallbackModel', 'bands'], price: ['input', 'output'], bands: ['deploy_freq', 'lead_time', 'cfr'] };

/** A misspelt key would silently leave the default in place: refuse it, naming the keys that exist. */
function refuseUnknownKeys(where: string, value: unknown, known: string[]): void {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new MirrorError('INVALID_ARGUMENT', `${where} must be a JSON object with ${known.join(', ')}`);
  }
  const unknown = Object.keys(value).filter((k) => !known.includes(k));
  if (unknown.length > 0) {
    throw new MirrorError('INVALID_ARGUMENT', `unknown key ${unknown.map((k) => `"${k}"`).join(', ')} in ${where}; the keys are ${known.join(', ')}`);
  }
}

/** Elite, High, Medium thresholds run from best to worst: down for deploy frequency, up for the others. */
function refuseReversedBands(bands: Bands): void {
  for (const [name, b] of Object.entries(bands) as [keyof Bands, number[]][]) {
    const falling = name === 'deploy_freq';
    const ordered = b.every((v, i) => i === 0 || (falling ? b[i - 1]! > v : b[i - 1]! < v));
    if (!ordered) {
      throw new MirrorError('INVALID_ARGUMENT', `band "${name}" [${b.join(', ')}] must list Elite, High, Medium thresholds ` +
        `${falling ? 'from highest to lowest (per day)' : 'from lowest to highest'}`);
    }
  }
}

/** Overrides merge onto the defaults: prices by model, bands by metric. */
export function mergeConfig(partial: PartialConfig = {}): MetricsConfig {
  refuseUnknownKeys('the config', partial, KNOWN.config);
  if (partial.prices !== undefined && (partial.prices === null || typeof partial.prices !== 'object' || Array.isArray(partial.prices))) {
    throw new MirrorError('INVALID_ARGUMENT', '"prices" must be a JSON object of model: {input, output}');
  }
  for (const [model, price] of Object.entries(partial.prices ?? {})) refuseUnknownKeys(`the price of "${model}"`, price, KNOWN.price);
  if (partial.bands !== undefined) refuseUnknownKeys('"bands"', partial.bands, KNOWN.bands);
  const prices: Record<string, ModelPrice> = { ...DEFAULT_CONFIG.prices };
  for (const [model, price] of Object.entries(partial.prices ?? {})) prices[model.toLowerCase()] = price;
  const config = {
    prices,
    fallbackModel: (partial.fallbackModel ?? DEFAULT_CONFIG.fallbackModel).toLowerCase(),
    bands: { ...DEFAULT_CONFIG.bands, ...partial.bands },
  };
  if (!config.prices[config.fallbackModel]) {
    throw new MirrorError('INVALID_ARGUMENT', `fallbackModel "${config.fallbackModel}" has no price; add it to prices`);
  }
  for (const [model, p] of Object.entries(config.prices)) {
    if (!Number.isFinite(p?.input) || !Number.isFinite(p?.output)) {
      throw new MirrorError('INVALID_ARGUMENT', `price of model "${model}" needs numeric "input" and "output" (USD per million tokens)`);
    }
    // A negative price would make a spend out of nothing, or out of a refund: costs are priced per event and one of cost <= 0 is skipped.
    if (p.input < 0 || p.output < 0) {
      throw new MirrorError('INVALID_ARGUMENT', `price of model "${model}" must not be negative (USD per million tokens), got input ${p.input} and output ${p.output}`);
    }
  }
  for (const [name, b] of Object.entries(config.bands)) {
    if (!Array.isArray(b) || b.length !== 3 || !b.every(Number.isFinite)) {
      throw new MirrorError('INVALID_ARGUMENT', `band "${name}" needs three numbers (Elite, High, Medium thresholds)`);
    }
  }
  refuseReversedBands(config.bands);
  return config;
}

/** A JSON file with { prices?, fallbackModel?, bands? }. */
export function loadConfig(path: string): MetricsConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MirrorError('INVALID_ARGUMENT', `cannot read config ${path} (${(err as NodeJS.ErrnoException).code}); check the path given to --config`);
  }
  try {
    return mergeConfig(JSON.parse(text) as PartialConfig);
  } catch (err) {
    if (err instanceof MirrorError) throw new MirrorError(err.code, `${path}: ${err.message}`);
    throw new MirrorError('INVALID_ARGUMENT', `${path} is not valid JSON (${(err as Error).message})`);
  }
}
