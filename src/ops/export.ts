import type { Store } from '../store/open.js';

export interface ExportOptions {
  streams?: string[];
  /** ts_epoch >= since */
  since?: number;
  /** ts_epoch < until */
  until?: number;
  /** file (default): oldest rotated file first, then byte offset; time: log order (METRICS.md). */
  sort?: 'file' | 'time';
}

/** The mirrored events' original lines, streamed (the text is exactly the line's bytes without its newline). */
export function* exportLines(store: Store, o: ExportOptions = {}): Generator<string> {
  const where: string[] = [];
  const params: unknown[] = [];
  if (o.streams?.length) {
    where.push(`stream IN (${o.streams.map(() => '?').join(', ')})`);
    params.push(...o.streams);
  }
  if (o.since !== undefined) {
    where.push('ts_epoch >= ?');
    params.push(o.since);
  }
  if (o.until !== undefined) {
    where.push('ts_epoch < ?');
    params.push(o.until);
  }
  const order = o.sort === 'time' ? 'ts_epoch, stream, rank, "offset"' : 'stream, rank, "offset"';
  const sql = `SELECT line FROM events ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order}`;
  for (const row of store.db.prepare(sql).pluck().iterate(...params)) yield row as string;
}
