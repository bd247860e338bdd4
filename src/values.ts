import { MirrorError } from './errors.js';

// How the CLI and the HTTP server read a time or a count typed by a user: one rule, one message, for both.

/** Epoch seconds, or an ISO date, as epoch seconds. */
export function parseTime(name: string) {
  return (v: string): number => {
    const n = v.trim() === '' ? Number.NaN : Number(v);
    if (Number.isFinite(n)) return n;
    const ms = Date.parse(v);
    if (!Number.isFinite(ms)) throw new MirrorError('INVALID_ARGUMENT', `${name} takes epoch seconds or an ISO date, got "${v}"`);
    return Math.floor(ms / 1000);
  };
}

/** A whole number, at least `min` (0 unless told) and, when told, at most `max`. */
export function parseIntOption(name: string, min = 0, max?: number) {
  const range = max !== undefined ? ` from ${min} to ${max}` : min > 0 ? ` of at least ${min}` : '';
  return (value: string): number => {
    const n = value.trim() === '' ? Number.NaN : Number(value);
    if (!Number.isInteger(n) || n < min || (max !== undefined && n > max)) {
      throw new MirrorError('INVALID_ARGUMENT', `${name} takes a whole number${range}, got "${value}"`);
    }
    return n;
  };
}
