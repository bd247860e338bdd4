/**
 * The token-coded form of a line, in which the SQLite mirror stores it
 * (issue #15: the mirror at most 1.5x its logs). A line is stored only once
 * it parsed as a JSON object, and valid JSON text never holds the raw bytes
 * 0x01-0x08, 0x0B, 0x0C, 0x0E-0x1F (control characters must be escaped
 * inside strings and are not whitespace outside them). Each of those 28
 * bytes stands for one frequent key token, so a stored line is about half
 * its bytes, and decoding is byte-exact whatever the line holds. The list is fixed forever: the `events`
 * view of sql/005 decodes with the same pairs in plain SQL (nested
 * replace(), src/store/line-codec.ts), so any SQLite client reads the
 * original text. It sits below the layers because the parse-ahead worker
 * codes lines for a store that asks for them coded.
 *
 * The tokens are the keys that carry the most bytes in Shipwright's own logs
 * (fixtures/shipwright) and the bench generator's events, weighted equally.
 */
export const LINE_TOKENS: readonly string[] = [
  ',"ts_epoch":', ',"type":"', ',"issue":', '{"ts":"', ',"stage":"', ',"duration_s":', ',"output_tokens":', ',"input_tokens":',
  ',"model":"', ',"success":"', ',"estimated_cost_usd":', ',"cost_usd":', ',"pipeline":"', ',"self_heal_count":', ',"result":"',
  ',"failure_mode":"', ',"predicted_complexity":', ',"actual_iterations":', ',"attempt":', ',"actual_failure":"', ',"check":"',
  ',"predicted_risk":', ',"pr_url":"', ',"count":', ',"attempts":', ',"goal":"', ',"valid":"', ',"template":"',
];

/** The code byte of LINE_TOKENS[i]. */
export const LINE_CODES: readonly number[] = [1, 2, 3, 4, 5, 6, 7, 8, 11, 12, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31];

const CODE_CLASS = `[${LINE_CODES.map((c) => `\\x${c.toString(16).padStart(2, '0')}`).join('')}]`;
const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// Longest first, so a token is never cut short by a shorter one that starts the same way.
export const LONGEST_FIRST: readonly (readonly [token: string, code: string])[] = LINE_TOKENS
  .map((t, i) => [t, String.fromCharCode(LINE_CODES[i]!)] as const)
  .sort((a, b) => b[0].length - a[0].length);
// Alternatives grouped by their first two characters (`,"` for all but one): the regex then skips quickly to where a token can start.
const byStart = new Map<string, string[]>();
for (const [t] of LONGEST_FIRST) byStart.set(t.slice(0, 2), [...(byStart.get(t.slice(0, 2)) ?? []), t.slice(2)]);
const ENCODE = new RegExp([...byStart].map(([start, rests]) => `${escape(start)}(?:${rests.map(escape).join('|')})`).join('|'), 'g');
const DECODE = new RegExp(CODE_CLASS, 'g');
const HAS_CODE = new RegExp(CODE_CLASS);
const codeOf = new Map(LONGEST_FIRST);
const tokenOf = new Map(LONGEST_FIRST.map(([t, c]) => [c, t]));
const toCode = (t: string): string => codeOf.get(t)!;
const toToken = (c: string): string => tokenOf.get(c)!;

/** The stored form of a line (the text of a JSON object). */
export function encodeLine(line: string): string {
  if (HAS_CODE.test(line)) {
    // Unreachable for text that parsed as JSON; refusing keeps decoding exact if a caller ever breaks that rule.
    throw new Error('jsonl-mirror: a line holding raw control bytes is not JSON text and cannot be stored as an event');
  }
  return line.replace(ENCODE, toCode);
}

/** The original text of a stored line. */
export function decodeLine(stored: string): string {
  return stored.replace(DECODE, toToken);
}
