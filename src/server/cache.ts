import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { folderNames } from '../ingest/layout.js';
import { parseStreamFile } from '../model/streams.js';

/** Besides the streams, the files in the log directory that helpers read (docs/metrics.md: legacy costs, the daily budget). */
const ALSO_READ = new Set(['costs.json', 'budget.json']);

/**
 * The state every answer depends on: the log files (the truth, which reads
 * catch the mirror up with) and the mirror's own state, which moves with each
 * commit (the tailer's, another host's on a fleet mirror, which `status` shows). Sampled at
 * most every `refreshMs`, so a burst of requests costs one readdir; an answer
 * is at most that much behind the files.
 */
export class StateProbe {
  private sampledAt = -Infinity;
  private value = '';

  constructor(
    private readonly dir: string,
    private readonly refreshMs: number,
    /** What moves with each commit to the mirror (its store's changeStamp). */
    private readonly mirrorState: () => string,
  ) {}

  current(): string {
    const now = performance.now();
    if (now - this.sampledAt >= this.refreshMs) {
      this.sampledAt = now;
      this.value = this.sample();
    }
    return this.value;
  }

  private sample(): string {
    const parts: string[] = [];
    for (const name of folderNames(this.dir).sort()) {
      if (!parseStreamFile(basename(name)) && !ALSO_READ.has(name)) continue;
      const st = statSync(join(this.dir, name), { throwIfNoEntry: false });
      if (st) parts.push(`${name}:${st.ino}:${st.size}:${st.mtimeMs}`);
    }
    parts.push(this.mirrorState());
    return parts.join('|');
  }
}

export interface CachedBody {
  state: string;
  body: Buffer;
  /** A hash of the body: a client keeps its 304s while the answer stays the same, even when the files grew. */
  etag: string;
}

/**
 * Computed bodies by request (path and resolved options), reused while the
 * state they were computed at holds. Bounded: the oldest entry goes first.
 */
export class BodyCache {
  private readonly entries = new Map<string, CachedBody>();

  constructor(private readonly maxEntries = 512) {}

  get(key: string, state: string, compute: () => unknown): CachedBody {
    return this.fresh(key, state) ?? this.put(key, state, JSON.stringify(compute()));
  }

  /** The body computed at `state`, if it is kept. */
  fresh(key: string, state: string): CachedBody | undefined {
    const hit = this.entries.get(key);
    return hit && hit.state === state ? hit : undefined;
  }

  /** A body computed elsewhere (the read pool), kept as get keeps its own. */
  put(key: string, state: string, json: string): CachedBody {
    const body = Buffer.from(json);
    const entry = { state, body, etag: etagOf(body) };
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry;
  }
}

export function etagOf(body: Buffer | string): string {
  return `"${createHash('sha1').update(body).digest('base64url').slice(0, 22)}"`;
}

/** If-None-Match holds this ETag (a list, `*`, or a weak form of it). */
export function notModified(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
