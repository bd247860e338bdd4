import { MirrorError } from '../errors.js';
import { MAX_PERIOD_DAYS } from '../model/rules.js';
import { parseTime } from '../values.js';
import { HttpError } from './http-error.js';

/** Past this the request is refused with 414 before anything is parsed. */
export const MAX_URL_BYTES = 2048;
/** Parameters per request, and bytes per value: dashboards send a handful of short ones. */
export const MAX_PARAMS = 16;
export const MAX_VALUE_BYTES = 256;

const bad = (message: string): MirrorError => new MirrorError('INVALID_ARGUMENT', message);

/**
 * The query of one request, checked against what its route accepts: an
 * unknown, repeated or oversized parameter is a 400, never silently ignored.
 * `token` (the one-time login) is consumed by the auth layer and never reaches a route.
 */
export class Query {
  private readonly values = new Map<string, string[]>();

  constructor(search: URLSearchParams, allowed: readonly string[]) {
    let n = 0;
    for (const [name, value] of search) {
      if (name === 'token') continue;
      if (++n > MAX_PARAMS) throw new HttpError(400, 'TOO_MANY_PARAMETERS', `at most ${MAX_PARAMS} query parameters are accepted`);
      if (!allowed.includes(name)) {
        throw bad(`unknown parameter "${name.slice(0, 40)}"; this endpoint takes ${allowed.length ? allowed.join(', ') : 'no parameters'}`);
      }
      if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw new HttpError(400, 'PARAMETER_TOO_LONG', `parameter "${name}" is longer than ${MAX_VALUE_BYTES} bytes`);
      const list = this.values.get(name) ?? [];
      if (list.length > 0 && name !== 'stream') throw bad(`parameter "${name}" is given more than once`);
      list.push(value);
      this.values.set(name, list);
    }
  }

  string(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }

  /** A whole number within [min, max], or undefined when absent. */
  int(name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.string(name);
    if (v === undefined) return undefined;
    const n = /^-?\d+$/.test(v) ? Number(v) : Number.NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      throw bad(`${name} takes a whole number${max < Number.MAX_SAFE_INTEGER ? ` from ${min} to ${max}` : ` >= ${min}`}, got "${v}"`);
    }
    return n;
  }

  /**
   * A number, passed on for the helper to check (docs/metrics.md: a window is
   * a whole number from 1 to a century); refused here when it is no number or
   * past the century, as a huge window is a lot of work. `text` is the value
   * as written, `v` the number in it.
   */
  bounded(name: string, max: number, text = this.string(name), v = text): number | undefined {
    if (text === undefined || v === undefined) return undefined;
    const n = /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : Number.NaN;
    if (Number.isNaN(n) || n > max) throw bad(`${name} takes a whole number from 1 to ${max}, got "${text}"`);
    return n;
  }

  period(): number | undefined {
    return this.bounded('period', MAX_PERIOD_DAYS);
  }

  /** Epoch seconds or an ISO date, as the CLI's --now; absent means the current second. */
  now(): number {
    const v = this.string('now');
    return v === undefined ? Math.floor(Date.now() / 1000) : parseTime('now')(v);
  }

  /** `stream=a,b` or `stream=a&stream=b`; undefined leaves each helper its default streams. */
  streams(): string[] | undefined {
    const list = this.values.get('stream');
    if (!list) return undefined;
    const names = list.flatMap((v) => v.split(',')).filter((s) => s !== '');
    for (const s of names) {
      if (!/^[A-Za-z0-9_.-]+$/.test(s)) throw bad(`stream name "${s}" may only hold letters, digits, '_', '-' and '.'`);
    }
    if (names.length === 0) throw bad('stream needs at least one stream name');
    return names;
  }

  /** Timeline range: hours as Shipwright writes them (`24h`) or a bare number. */
  hours(name: string): number | undefined {
    const text = this.string(name);
    return this.bounded(name, MAX_PERIOD_DAYS * 24, text, text?.replace(/h$/, ''));
  }
}
