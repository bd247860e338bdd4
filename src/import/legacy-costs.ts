import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/api.js';
import { parseLegacyCosts } from '../ingest/legacy-costs-file.js';
import { DayTally } from '../ingest/day-tally.js';
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
  return store.legacyCount(`${digest}#`, `${digest}$`);
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
  const tail = store
    .legacyTail(sourceId, digests.length)
    .map((line) => digestOf(JSON.parse(line)))
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
  if (opts.ifChanged && store.legacySource(COSTS_STREAM, LEGACY_COSTS_FILE)?.marker_hash === marker) {
    return undefined;
  }
  const parsed = parseLegacyCosts(text);
  const summary: LegacySummary = { file: LEGACY_COSTS_FILE, entries: 0, added: 0, alreadyImported: 0, rejects: 0 };
  const at = new Date().toISOString();
  store.transaction(importEntries)(store, { st, text, marker, parsed, summary, at });
  return summary;
}

interface CostsFile {
  st: Stats;
  text: string;
  marker: string;
  parsed: ReturnType<typeof parseLegacyCosts>;
  summary: LegacySummary;
  at: string;
}

/** The entries of costs.json the mirror does not hold yet, added under the write lock. */
function importEntries(store: Store, { st, text, marker, parsed, summary, at }: CostsFile): void {
  const src =
    store.legacySource(COSTS_STREAM, LEGACY_COSTS_FILE) ??
    store.insertSource({
      stream: COSTS_STREAM, kind: 'legacy-costs', path: LEGACY_COSTS_FILE, dev: st.dev, ino: st.ino,
      generation: 0, rank: 0, head_len: 0, head_hash: '', state: 'active', copy_of: null, now: at,
    });
  const reject = (offset: number, length: number, reason: string, sample: string): number =>
    store.insertReject({ sourceId: src.id, stream: COSTS_STREAM, path: LEGACY_COSTS_FILE, offset, length, reason, sample, at });
  if (!parsed.ok) {
    summary.error = `${LEGACY_COSTS_FILE}: ${parsed.reason}`;
    summary.rejects += reject(-1, text.length, 'invalid_json', parsed.sample);
    store.advanceCheckpoint(src.id, { offset: st.size, marker, size: st.size, rows: 0, rejects: summary.rejects, blanks: 0, at });
    return;
  }
  for (const r of parsed.rejects) {
    summary.rejects += reject(r.index, 0, 'not_object', r.sample);
  }
  let next = (store.maxOffset(src.id) ?? -1) + 1;
  const digests = parsed.events.map(({ event }) => digestOf(event));
  const fresh = newEntries(store, src.id, digests);
  summary.entries = digests.length;
  summary.alreadyImported = digests.length - fresh.length;
  const counts = new Map<string, number>();
  const tally = new DayTally(COSTS_STREAM);
  for (const i of fresh) {
    const digest = digests[i]!;
    const nth = (counts.get(digest) ?? importedCount(store, digest)) + 1;
    counts.set(digest, nth);
    const { event } = parsed.events[i]!;
    const offset = next++;
    const fields = normalize(event);
    store.insertEvent({ sourceId: src.id, offset, stream: COSTS_STREAM, rank: src.rank, fields, line: JSON.stringify(event) });
    tally.add(fields);
    // By the event's identity, not a row id: PostgreSQL batches events and returns none.
    store.insertLegacy(`${digest}#${nth}`, src.id, offset);
    summary.added++;
  }
  tally.writeTo(store);
  store.advanceCheckpoint(src.id, { offset: st.size, marker, size: st.size, rows: summary.added, rejects: summary.rejects, blanks: 0, at });
}
