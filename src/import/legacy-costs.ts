import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Store } from '../store/open.js';
import type { SourceRow } from '../store/statements.js';
import { normalize } from '../ingest/normalize.js';

export const LEGACY_COSTS_FILE = 'costs.json';
export const COSTS_STREAM = 'costs';

export interface LegacyCostEvent {
  /** The entry's position in costs.json. */
  index: number;
  event: Record<string, unknown>;
}

export type LegacyParse =
  | { ok: true; events: LegacyCostEvent[]; rejects: { index: number; sample: string }[] }
  | { ok: false; reason: string; sample: string };

/**
 * Shipwright's costs.json: {"entries":[{input_tokens, output_tokens, model,
 * stage, issue, cost_usd, ts, ts_epoch}]}. Each entry becomes a cost.record
 * event; the same conversion serves the import and the scan fallback.
 */
export function parseLegacyCosts(text: string): LegacyParse {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})`, sample: text.slice(0, 200) };
  }
  const entries = (doc as { entries?: unknown } | null)?.entries;
  if (!Array.isArray(entries)) {
    return { ok: false, reason: 'no "entries" array', sample: text.slice(0, 200) };
  }
  const events: LegacyCostEvent[] = [];
  const rejects: { index: number; sample: string }[] = [];
  entries.forEach((entry: unknown, index) => {
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) {
      rejects.push({ index, sample: JSON.stringify(entry)?.slice(0, 200) ?? String(entry) });
    } else {
      events.push({ index, event: { ...(entry as Record<string, unknown>), type: 'cost.record' } });
    }
  });
  return { ok: true, events, rejects };
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const keys = Object.keys(v).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
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
 * Imports costs.json into the `costs` stream. Entries carry no identity, so
 * an entry is known by its content plus its occurrence number among equal
 * entries: a re-import of a file that grew (or was trimmed) adds only entries
 * not seen before, and two genuinely equal entries still count twice.
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
      const occurrences = new Map<string, number>();
      for (const { event } of parsed.events) {
        summary.entries++;
        const digest = createHash('sha1').update(canonical(event)).digest('hex');
        const nth = (occurrences.get(digest) ?? 0) + 1;
        occurrences.set(digest, nth);
        const key = `${digest}#${nth}`;
        if (store.sql.get('legacyKnown').get(key)) {
          summary.alreadyImported++;
          continue;
        }
        const n = normalize(event);
        const line = JSON.stringify(event);
        const info = store.sql.get('insertEvent').run(
          src.id, next++, COSTS_STREAM, src.rank, n.type, n.ts_epoch, n.issue, n.stage, n.result,
          n.duration_s, n.cost_usd, n.model, n.input_tokens, n.output_tokens, line,
        );
        store.sql.get('insertLegacy').run(key, info.lastInsertRowid);
        summary.added++;
      }
      store.sql.get('checkpoint').run(st.size, marker, st.size, summary.added, summary.rejects, 0, at, src.id);
    })
    .immediate();
  return summary;
}
