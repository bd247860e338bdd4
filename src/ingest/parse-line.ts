import { isUtf8 } from 'node:buffer';

export type RejectReason = 'invalid_json' | 'not_object' | 'invalid_utf8' | 'line_too_long';

export type ParsedLine =
  | { kind: 'event'; text: string; value: Record<string, unknown> }
  | { kind: 'reject'; reason: RejectReason }
  | { kind: 'blank' };

const BLANK = { kind: 'blank' } as const;
const NOT_OBJECT = { kind: 'reject', reason: 'not_object' } as const;
const INVALID_JSON = { kind: 'reject', reason: 'invalid_json' } as const;
const INVALID_UTF8 = { kind: 'reject', reason: 'invalid_utf8' } as const;

function isSpace(b: number): boolean {
  return b === 0x20 || b === 0x09 || b === 0x0d;
}

/**
 * Classifies the bytes of one line (without its `\n`). Shared by the ingest,
 * the scan and `verify`, so all three agree on what is an event.
 * `utf8Checked` lets the caller skip validation when it already validated the
 * whole chunk the line sits in.
 */
export function parseLine(buf: Buffer, start: number, end: number, utf8Checked: boolean): ParsedLine {
  let s = start;
  while (s < end && isSpace(buf[s]!)) s++;
  if (s === end) return BLANK;
  if (!utf8Checked && !isUtf8(buf.subarray(start, end))) return INVALID_UTF8;
  const text = buf.toString('utf8', start, end);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return INVALID_JSON;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return NOT_OBJECT;
  return { kind: 'event', text, value: value as Record<string, unknown> };
}

const SAMPLE_BYTES = 200;

/** A short, printable excerpt of a rejected line (invalid bytes become U+FFFD). */
export function sampleOf(buf: Buffer, start: number, end: number): string {
  return buf.toString('utf8', start, Math.min(end, start + SAMPLE_BYTES));
}
