/**
 * Events handed to callers (the change feed, the activity feed) must survive
 * recursive consumers: JSON.stringify, structuredClone and most loggers
 * overflow the stack on an event nested thousands of levels deep, which is
 * still valid JSON and a valid log line. Up to MAX_DEPTH levels an event is
 * handed out as parsed; a top-level field nested deeper is handed out as its
 * JSON text, exactly as in the line.
 */
export const MAX_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The deepest nesting of objects and arrays in a JSON text (linear, no recursion). */
function depthOf(text: string, start = 0, end = text.length): number {
  let depth = 0;
  let max = 0;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) i = stringEnd(text, i);
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** The index of the quote that closes the string opening at `i`. */
function stringEnd(text: string, i: number): number {
  for (let j = i + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (c === BACKSLASH) j++;
    else if (c === QUOTE) return j;
  }
  return text.length;
}

/** The members of a top-level JSON object: key and the [start, end) of its value. */
function members(text: string): { key: string; start: number; end: number }[] {
  const out: { key: string; start: number; end: number }[] = [];
  let i = text.indexOf('{') + 1;
  while (i > 0 && i < text.length) {
    const k = text.indexOf('"', i);
    if (k === -1) break;
    const kEnd = stringEnd(text, k);
    const key = JSON.parse(text.slice(k, kEnd + 1)) as string;
    const start = text.indexOf(':', kEnd) + 1;
    let depth = 0;
    let j = start;
    for (; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c === QUOTE) j = stringEnd(text, j);
      else if (c === 0x7b || c === 0x5b) depth++;
      else if (c === 0x7d || c === 0x5d) {
        if (depth === 0) break;
        depth--;
      } else if (c === 0x2c && depth === 0) break;
    }
    out.push({ key, start, end: j });
    i = j + 1;
  }
  return out;
}

/** One event line (a JSON object) as an object any caller can serialise again. */
export function eventForHandout(line: string): Record<string, unknown> {
  if (depthOf(line) <= MAX_DEPTH) return JSON.parse(line) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const m of members(line)) {
    const raw = line.slice(m.start, m.end).trim();
    const value: unknown = depthOf(line, m.start, m.end) < MAX_DEPTH ? JSON.parse(raw) : raw;
    Object.defineProperty(out, m.key, { value, enumerable: true, writable: true, configurable: true }); // "__proto__" too, as JSON.parse does
  }
  return out;
}
