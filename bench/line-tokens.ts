/** Issue #15 prototype: token-coded lines (see bench/DESIGN-15.md, 2b). */
/** Control bytes never appear raw in valid JSON: each stands for one frequent key token. */
export const CODES = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31].map((c) => String.fromCharCode(c));

/** The most frequent `"key":` tokens (weighted by length) of some lines. */
export function learnTokens(lines: string[]): string[] {
  const counts = new Map<string, number>();
  const re = /[{,]"[^"\\]{1,40}":"?/g;
  for (const line of lines) for (const m of line.matchAll(re)) counts.set(m[0], (counts.get(m[0]) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] * b[0].length - a[1] * a[0].length).slice(0, CODES.length).map(([k]) => k);
}

/** Lossless: each code byte stands for one token; valid JSON text never holds them raw. */
export function tokenCodec(tokens: string[]): { encode(s: string): string; decode(s: string): string } {
  const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  // Longest first so that a token is never split by a shorter one.
  const order = tokens.map((t, i) => [t, CODES[i]!] as const).sort((a, b) => b[0].length - a[0].length);
  const enc = new Map(order);
  const dec = new Map(order.map(([t, c]) => [c, t]));
  const encRe = new RegExp(order.map(([t]) => esc(t)).join('|'), 'g');
  const decRe = new RegExp(`[${order.map(([, c]) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`).join('')}]`, 'g');
  return { encode: (s) => s.replace(encRe, (m) => enc.get(m)!), decode: (s) => s.replace(decRe, (c) => dec.get(c)!) };
}

