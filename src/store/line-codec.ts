import { LINE_CODES, LINE_TOKENS, LONGEST_FIRST } from '../model/line-tokens.js';

/** How the SQLite mirror's SQL reads and writes token-coded lines (src/model/line-tokens.ts). */

/**
 * decodeLine in plain SQL over `source`'s column `line`, in layers of
 * subqueries of at most 10 nested replace() each (28 nested calls overflow
 * the parser stack of the sqlite3 shell): what the `events` view of sql/005
 * spells out, and what test/line-codec.test.ts checks it against.
 */
export function decodeLineSql(select: string, source: string): string {
  let from = source;
  for (let i = 0; i < LINE_TOKENS.length; i += 10) {
    let expr = 'line';
    for (let k = i; k < Math.min(i + 10, LINE_TOKENS.length); k++) expr = `replace(${expr}, char(${LINE_CODES[k]}), '${LINE_TOKENS[k]!.replace(/'/g, "''")}')`;
    from = `(SELECT ${select}, ${expr} AS line FROM ${from})`;
  }
  return from;
}

/** encodeLine as a plain SQL expression (sql/005 codes the lines an older mirror holds with it). */
export function encodeLineSql(column: string): string {
  let sql = column;
  for (const [t, c] of LONGEST_FIRST) sql = `replace(${sql}, '${t.replace(/'/g, "''")}', char(${c.charCodeAt(0)}))`;
  return sql;
}
