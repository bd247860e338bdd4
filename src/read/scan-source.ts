import { closeSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLegacyCosts } from '../ingest/legacy-costs-file.js';
import { COSTS_STREAM, LEGACY_COSTS_FILE } from '../model/streams.js';
import { eventForHandout } from '../ingest/handout.js';
import { openStreamFile } from '../ingest/ingest-stream.js';
import { listStreams } from '../ingest/layout.js';
import { readLines } from '../ingest/lines.js';
import { normalize, toNumber, toText } from '../ingest/normalize.js';
import type { NormalEvent } from '../model/event.js';
import { resolveIngestOptions, type IngestOptions } from '../ingest/options.js';
import { parseLine } from '../ingest/parse-line.js';
import { cursorPosition, encodeCursor, groupEvents, type EventSource } from './source.js';
import type { EventQuery, FeedPage, FeedQuery, GroupQuery, GroupRow, RecordQuery } from '../model/query.js';
import type { LoggedEvent } from '../model/event.js';
import { hasDate, typeMatches } from '../model/rules.js';

type Visit = (value: Record<string, unknown>, text: string) => void;

/**
 * Streams the files themselves, with the ingest's own line rules, so that it
 * sees exactly the events the mirror would hold: streams by name, each
 * stream's legacy entries, then its files oldest first, then byte offset.
 */
export class ScanSource implements EventSource {
  readonly kind = 'scan';
  private readonly opts;
  constructor(private readonly dir: string, ingest: IngestOptions = {}) {
    this.opts = resolveIngestOptions(ingest);
  }

  private visit(streams: string[], visit: Visit): void {
    const all = listStreams(this.dir);
    for (const stream of [...new Set(streams)].sort()) {
      if (stream === COSTS_STREAM) this.visitLegacy(visit);
      for (const f of all.get(stream) ?? []) {
        // Rotated away since the listing (its lines are in the next file we read), or not a log file (a FIFO is never opened).
        const file = openStreamFile(this.dir, f);
        if (!file || 'kind' in file) continue;
        const { fd, st } = file;
        try {
          const final = this.opts.final || (f.rotation > 0 && Date.now() - st.mtimeMs >= this.opts.rotatedGraceMs);
          readLines(
            { fd, from: 0, to: st.size, final, maxLineBytes: this.opts.maxLineBytes, batchBytes: Number.POSITIVE_INFINITY },
            (buf, s, e, _offset, utf8) => {
              const p = parseLine(buf, s, e, utf8);
              if (p.kind === 'event') visit(p.value, p.text);
            },
            () => {},
          );
        } finally {
          closeSync(fd);
        }
      }
    }
  }

  private visitLegacy(visit: Visit): void {
    let text: string;
    try {
      text = readFileSync(join(this.dir, LEGACY_COSTS_FILE), 'utf8');
    } catch {
      return;
    }
    const parsed = parseLegacyCosts(text);
    if (parsed.ok) for (const { event } of parsed.events) visit(event, JSON.stringify(event));
  }

  events(q: EventQuery): NormalEvent[] {
    const types = new Set(q.types);
    const out: NormalEvent[] = [];
    this.visit(q.streams, (value) => {
      if (!types.has(toText(value.type) as string)) return;
      const n = normalize(value);
      if (q.since !== undefined && !(n.ts_epoch >= q.since)) return;
      if (q.until !== undefined && !(n.ts_epoch < q.until)) return;
      if (q.upTo !== undefined && !(n.ts_epoch <= q.upTo)) return;
      if (q.timed && !hasDate(n.ts_epoch)) return;
      out.push(n);
    });
    // Array.prototype.sort is stable: equal epochs keep their position in the log.
    return out.sort((a, b) => a.ts_epoch - b.ts_epoch);
  }

  groups(q: GroupQuery): GroupRow[] {
    return groupEvents(this.events(q), q);
  }

  feed(q: FeedQuery): FeedPage {
    const matches: { ts: number; text: string }[] = [];
    this.visit(q.streams, (value, text) => {
      if (!typeMatches(toText(value.type), q.type)) return;
      if (q.issue !== undefined && toNumber(value.issue) !== q.issue) return;
      const ts = normalize(value).ts_epoch;
      if (q.upTo !== undefined && !(ts <= q.upTo)) return;
      matches.push({ ts, text });
    });
    matches.sort((a, b) => a.ts - b.ts);
    matches.reverse();
    // The scan has no stable row positions; its cursor is the number of events already returned.
    const start = q.cursor === undefined ? q.offset : Number(cursorPosition(q.cursor, 'f')[0]);
    const page = matches.slice(start, start + q.limit);
    const end = start + page.length;
    return {
      events: page.map((m) => eventForHandout(m.text)),
      total: matches.length,
      nextCursor: page.length === q.limit ? encodeCursor(['f', end]) : null,
    };
  }

  records(q: RecordQuery): LoggedEvent[] {
    const types = q.types && new Set(q.types);
    const out: LoggedEvent[] = [];
    this.visit(q.streams, (value) => {
      if (types && !types.has(toText(value.type) as string)) return;
      const event = normalize(value);
      if (q.issue !== undefined && event.issue !== q.issue) return;
      if (q.since !== undefined && !(event.ts_epoch >= q.since)) return;
      if (q.upTo !== undefined && !(event.ts_epoch <= q.upTo)) return;
      out.push({ event, value });
    });
    out.sort((a, b) => a.event.ts_epoch - b.event.ts_epoch);
    return q.last === undefined ? out : out.slice(Math.max(0, out.length - q.last));
  }
}
