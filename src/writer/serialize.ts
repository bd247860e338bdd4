import { MirrorError } from '../errors.js';
import { DEFAULT_MAX_LINE_BYTES } from '../ingest/lines.js';
import { epochOf, toNumber } from '../ingest/normalize.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

let lastEpoch = Number.NaN;
let lastIso = '';

/** ISO-8601 UTC at second precision, as Shipwright's emit_event writes it; a burst of appends shares its second's. */
function isoSeconds(epoch: number): string {
  if (epoch !== lastEpoch) {
    lastIso = new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    lastEpoch = epoch;
  }
  return lastIso;
}

/**
 * One event as exactly one line, in the shape Shipwright's bash emit_event
 * writes: {"ts":...,"ts_epoch":...,"type":...,<fields>}. JSON.stringify
 * escapes every control character, so no raw newline can reach the file.
 * What the ingest could only reject (a line over the limit, a time it cannot
 * read) is refused here, before anything is written.
 */
export function serializeEvent(event: unknown, nowMs = Date.now(), maxLineBytes = DEFAULT_MAX_LINE_BYTES): Buffer {
  if (!isPlainObject(event)) {
    throw new MirrorError('INVALID_EVENT', 'an event must be a plain JSON object, like {"type":"stage.completed","stage":"build"}');
  }
  if (typeof event.type !== 'string' || event.type === '') {
    throw new MirrorError('INVALID_EVENT', 'an event needs a "type" string, like "pipeline.started"');
  }
  const { ts, ts_epoch, type, ...fields } = event;
  if (ts_epoch !== undefined && toNumber(ts_epoch) === null) {
    throw new MirrorError('INVALID_EVENT', `"ts_epoch" must be epoch seconds, not ${JSON.stringify(ts_epoch)}; give a number, or leave it out to use the time of the append`);
  }
  if (ts !== undefined && ts_epoch === undefined && (typeof ts !== 'string' || !Number.isFinite(Date.parse(ts)))) {
    throw new MirrorError('INVALID_EVENT', `"ts" must be an ISO date such as "2026-02-11T07:49:06Z", not ${JSON.stringify(ts)}; or leave it out to use the time of the append`);
  }
  const epoch = ts_epoch ?? (ts === undefined ? Math.floor(nowMs / 1000) : epochOf(undefined, ts));
  const line = { ts: ts ?? isoSeconds(typeof epoch === 'number' ? epoch : Math.floor(nowMs / 1000)), ts_epoch: epoch, type, ...fields };
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch (err) {
    throw new MirrorError('INVALID_EVENT', `the event cannot be written as JSON (${(err as Error).message})`);
  }
  const out = Buffer.from(`${text}\n`, 'utf8');
  if (out.length - 1 > maxLineBytes) {
    throw new MirrorError('INVALID_EVENT', `the event is ${out.length - 1} bytes as a line, over the line limit of ${maxLineBytes} bytes ` +
      '(the mirror would reject it as line_too_long); nothing was written. Shorten it, e.g. store large payloads in a file and log its path');
  }
  return out;
}
