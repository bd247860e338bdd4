import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/open.js';
import type { SourceRow } from '../store/statements.js';
import { parseLegacyCosts } from '../ingest/legacy-costs-file.js';
import { normalize } from '../ingest/normalize.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** An entry's content, whatever the order of its keys. */
const digestOf = (event: unknown): string => createHash('sha1').update(canonical(event)).digest('hex');

/** How many entries with this content the mirror holds (their keys are digest#1 .. digest#n). */
function importedCount(store: Store, digest: string): number {
  return (store.sql.get('legacyCount').get(`${digest}#`, `${digest}$`) as { n: number }).n;
}

/**
 * Which entries of the file (by position) the mirror does not hold yet.
 * Shipwright appends to costs.json and trims its oldest entries, so the file
 * is a window sliding over one sequence: the longest start of the file that
 * repeats the end of what was imported is old, the rest is new, also when
 * the trim took away an entry equal to a new one. A file that overlaps
 * nothing imported (rewritten, or more entries than the cap since the last
 * look) keeps an entry unless the mirror already holds as many entries with
 * its content as the file has up to and including it.
 */
function newEntries(store: Store, sourceId: number, digests: string[]): number[] {
  const tail = (store.sql.get('legacyTail').all(sourceId, digests.length) as { line: string }[])
    .map((r) => digestOf(JSON.parse(r.line)))
    .reverse();
  const positions = (from: number) => Array.from({ length: digests.length - from }, (_, i) => from + i);
  if (tail.length === 0) return positions(0);
  for (let k = Math.min(tail.length, digests.length); k > 0; k--) {
    let same = true;
    for (let i = 0; i < k && same; i++) same = digests[i] === tail[tail.length - k + i];
    if (same) return positions(k);
  }
  const seen = new Map<string, number>();
  return positions(0).filter((i) => {
    const nth = (seen.get(digests[i]!) ?? 0) + 1;
    seen.set(digests[i]!, nth);
    return nth > importedCount(store, digests[i]!);
  });
}

export interface LegacySummary {
  file: string;
  entries: number;
  added: number;
  alreadyImported: number;
  rejects: number;
  error?: string;
}

/**
 * Imports costs.json into the `costs` stream. Entries carry no identity: an
 * entry is recorded by its content plus its occurrence number among equal
 * entries imported, and which entries of the file are new is worked out by
 * newEntries(). A re-import of a file that grew or was trimmed adds only the
 * new entries, and two genuinely equal entries still count twice. Entries the
 * cap trimmed stay in the mirror.
 */
export function importLegacyCosts(store: Store, dir: string, opts: { ifChanged?: boolean } = {}): LegacySummary | undefined {
  const path = join(dir, LEGACY_COSTS_FILE);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  let text: string;
  let st;
  try {
    st = fstatSync(fd);
    text = readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
  // The legacy source's marker is the hash of the whole file as last imported: an unchanged file needs no write.
  const marker = createHash('sha1').update(text).digest('hex');
  if (opts.ifChanged && (store.sql.get('legacySource').get(COSTS_STREAM, LEGACY_COSTS_FILE) as SourceRow | undefined)?.marker_hash === marker) {
    return undefined;
  }
  const parsed = parseLegacyCosts(text);
  const summary: LegacySummary = { file: LEGACY_COSTS_FILE, entries: 0, added: 0, alreadyImported: 0, rejects: 0 };
  const at = new Date().toISOString();
  store.db
    .transaction(() => {
      let src = store.sql.get('legacySource').get(COSTS_STREAM, LEGACY_COSTS_FILE) as SourceRow | undefined;
      if (!src) {
        const info = store.sql.get('insertSource').run({
          stream: COSTS_STREAM, kind: 'legacy-costs', path: LEGACY_COSTS_FILE, dev: st.dev, ino: st.ino,
          generation: 0, rank: 0, head_len: 0, head_hash: '', state: 'active', copy_of: null, now: at,
        });
        src = store.sql.get('sourceById').get(info.lastInsertRowid) as SourceRow;
      }
      if (!parsed.ok) {
        summary.error = `${LEGACY_COSTS_FILE}: ${parsed.reason}`;
        const info = store.sql.get('insertReject').run(src.id, COSTS_STREAM, LEGACY_COSTS_FILE, -1, text.length, 'invalid_json', parsed.sample, at);
        summary.rejects += info.changes;
        store.sql.get('checkpoint').run(st.size, marker, st.size, 0, summary.rejects, 0, at, src.id);
        return;
      }
      for (const r of parsed.rejects) {
        const info = store.sql.get('insertReject').run(src.id, COSTS_STREAM, LEGACY_COSTS_FILE, r.index, 0, 'not_object', r.sample, at);
        summary.rejects += info.changes;
      }
      let next = ((store.sql.get('maxOffset').get(src.id) as { o: number | null }).o ?? -1) + 1;
      const digests = parsed.events.map(({ event }) => digestOf(event));
      const fresh = newEntries(store, src.id, digests);
      summary.entries = digests.length;
      summary.alreadyImported = digests.length - fresh.length;
      const counts = new Map<string, number>();
      for (const i of fresh) {
        const digest = digests[i]!;
        const nth = (counts.get(digest) ?? importedCount(store, digest)) + 1;
        counts.set(digest, nth);
        const { event } = parsed.events[i]!;
        const n = normalize(event);
        const offset = next++;
        store.sql.get('insertEvent').run(
          src.id, offset, COSTS_STREAM, src.rank, n.type, n.ts_epoch, n.issue, n.stage, n.result,
          n.duration_s, n.cost_usd, n.model, n.input_tokens, n.output_tokens, JSON.stringify(event),
        );
        // By the event's identity, not a row id: PostgreSQL batches events and returns none.
        store.sql.get('insertLegacy').run(`${digest}#${nth}`, src.id, offset);
        summary.added++;
      }
      store.sql.get('checkpoint').run(st.size, marker, st.size, summary.added, summary.rejects, 0, at, src.id);
    })
    .immediate();
  return summary;
}
