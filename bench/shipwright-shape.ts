import { closeSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { rng } from '../fixtures/generate.js';

/**
 * A log shaped like the real Shipwright fixture (fixtures/shipwright/): the
 * generator's log has a handful of event types with the same few keys, the
 * real one has ~34 types, ~36 key sets and 0.7% corrupt lines. Each line here
 * is a fixture line drawn at random (so the type mix, key sets, value shapes
 * and corruption follow the fixture's own frequencies), re-stamped so time
 * moves forward over `days` and issue numbers move on every fixture-length
 * so that per-issue counts stay as in the fixture.
 */
export interface ShapeOptions {
  dir: string;
  lines: number;
  seed?: number;
  endEpoch: number;
  days?: number;
  /** Files the lines are spread over (rotated NAME.jsonl.N then NAME.jsonl), default 3. */
  files?: number;
  fixtureDir: string;
}

interface Template {
  /** A parsed object, or the raw bytes of a line that is not one. */
  value?: Record<string, unknown>;
  raw?: Buffer;
}

function templates(fixtureDir: string): Template[] {
  const out: Template[] = [];
  for (const f of ['events-a.jsonl', 'events-b.jsonl']) {
    const buf = readFileSync(join(fixtureDir, f));
    let s = 0;
    for (let i = buf.indexOf(10); i !== -1; s = i + 1, i = buf.indexOf(10, s)) {
      const line = buf.subarray(s, i);
      if (line.length === 0) continue;
      try {
        const v = JSON.parse(line.toString('utf8'));
        out.push(v && typeof v === 'object' && !Array.isArray(v) ? { value: v } : { raw: Buffer.from(line) });
      } catch {
        out.push({ raw: Buffer.from(line) });
      }
    }
  }
  return out;
}

export function generateShipwrightShaped(o: ShapeOptions): { files: string[]; lines: number; bytes: number } {
  const pool = templates(o.fixtureDir);
  const r = rng(o.seed ?? 7);
  const days = o.days ?? 90;
  const files = o.files ?? 3;
  const perFile = Math.ceil(o.lines / files);
  const step = (days * 86400) / Math.max(1, o.lines);
  let t = o.endEpoch - days * 86400;
  mkdirSync(o.dir, { recursive: true });
  const names: string[] = [];
  let bytes = 0;
  for (let k = files - 1; k >= 0; k--) {
    const name = k === 0 ? 'events.jsonl' : `events.jsonl.${k}`;
    names.push(name);
    const fd = openSync(join(o.dir, name), 'w');
    const from = (files - 1 - k) * perFile;
    const to = Math.min(o.lines, from + perFile);
    let chunk: Buffer[] = [];
    let size = 0;
    for (let i = from; i < to; i++) {
      const tpl = pool[Math.floor(r() * pool.length)]!;
      let b: Buffer;
      if (tpl.raw) {
        b = tpl.raw;
      } else {
        t += r() * step * 2;
        const epoch = Math.floor(t);
        const e: Record<string, unknown> = { ...tpl.value };
        if ('ts' in e) e.ts = new Date(epoch * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
        if ('ts_epoch' in e) e.ts_epoch = typeof e.ts_epoch === 'string' ? String(epoch) : epoch;
        const era = Math.floor(i / pool.length) * 1000;
        if (typeof e.issue === 'number' && e.issue > 0) e.issue += era;
        else if (typeof e.issue === 'string' && Number(e.issue) > 0) e.issue = String(Number(e.issue) + era);
        b = Buffer.from(JSON.stringify(e));
      }
      chunk.push(b, NL);
      size += b.length + 1;
      if (size > 1 << 20) {
        bytes += size;
        writeSync(fd, Buffer.concat(chunk));
        chunk = [];
        size = 0;
      }
    }
    bytes += size;
    writeSync(fd, Buffer.concat(chunk));
    closeSync(fd);
  }
  return { files: names, lines: o.lines, bytes };
}

const NL = Buffer.from('\n');
