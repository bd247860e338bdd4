import { MirrorError } from '../errors.js';
import { epochOf } from '../ingest/normalize.js';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** ISO-8601 UTC at second precision, as Shipwright's emit_event writes it. */
function isoSeconds(epoch: number): string {
  return new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * One event as exactly one line, in the shape Shipwright's bash emit_event
 * writes: {"ts":...,"ts_epoch":...,"type":...,<fields>}. JSON.stringify
 * escapes every control character, so no raw newline can reach the file.
 */
export function serializeEvent(event: unknown, nowMs = Date.now()): Buffer {
  if (!isPlainObject(event)) {
    throw new MirrorError('INVALID_EVENT', 'an event must be a plain JSON object, like {"type":"stage.completed","stage":"build"}');
  }
  if (typeof event.type !== 'string' || event.type === '') {
    throw new MirrorError('INVALID_EVENT', 'an event needs a "type" string, like "pipeline.started"');
  }
  const { ts, ts_epoch, type, ...fields } = event;
  const epoch = ts_epoch ?? (ts === undefined ? Math.floor(nowMs / 1000) : epochOf(undefined, ts));
  const line = { ts: ts ?? isoSeconds(typeof epoch === 'number' ? epoch : Math.floor(nowMs / 1000)), ts_epoch: epoch, type, ...fields };
  let text: string;
  try {
    text = JSON.stringify(line);
  } catch (err) {
    throw new MirrorError('INVALID_EVENT', `the event cannot be written as JSON (${(err as Error).message})`);
  }
  return Buffer.from(`${text}\n`, 'utf8');
}
