import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { mirrorStatus } from '../src/ops/status.js';
import { createReader } from '../src/api/reader.js';
import { openStore } from '../src/store/open.js';
import { exampleDir, get, serve } from './serve-helpers.js';
import { CASES, NOW } from './serve-cases.js';

describe.each(['sqlite', 'scan'] as const)('serve: every endpoint equals its helper (source=%s)', (source) => {
  it('the JSON of each endpoint deep-equals the library helper with the same parameters', async () => {
    const dir = exampleDir();
    writeFileSync(join(dir, 'budget.json'), JSON.stringify({ daily_budget_usd: 25 }));
    const s = await serve({ dir, source });
    const reader = createReader({ dir, source });
    try {
      expect(s.reader.backend).toBe(source);
      for (const [path, helper] of CASES) {
        const r = await get(s.url, path);
        expect(r.status, `${path}: ${r.text}`).toBe(200);
        expect(r.headers['content-type']).toBe('application/json; charset=utf-8');
        expect(r.json, path).toEqual(JSON.parse(JSON.stringify(helper(reader))));
      }
      const timeline = await get(s.url, `/api/timeline?range=24h&now=${NOW}`);
      expect(Array.isArray(timeline.json) && timeline.json.length).toBeGreaterThan(0);
      // Pages by cursor as the library does (a cursor is the backend's own).
      const first = await get(s.url, '/api/activity?limit=10&type=stage');
      const next = await get(s.url, `/api/activity?limit=10&type=stage&cursor=${encodeURIComponent(first.json.nextCursor)}`);
      expect(next.json).toEqual(reader.activity({ limit: 10, type: 'stage', cursor: first.json.nextCursor }));
      expect(next.json.events[0]).not.toEqual(first.json.events[0]);
    } finally {
      reader.close();
    }
  });
});

describe('serve: status, health, errors', () => {
  it('/api/status equals mirrorStatus; /api/health names the backend, the tailer and the mirror totals', async () => {
    const dir = exampleDir();
    const s = await serve({ dir });
    const store = openStore(join(dir, 'mirror.db'), { readonly: true });
    try {
      const r = await get(s.url, '/api/status');
      expect(r.status).toBe(200);
      const expected = JSON.parse(JSON.stringify(mirrorStatus(store, dir)));
      expect({ ...r.json, dbBytes: 0 }).toEqual({ ...expected, dbBytes: 0 });
      expect(r.json.tailer.pid).toBe(process.pid);
      const h = await get(s.url, '/api/health');
      expect(h.json).toMatchObject({
        backend: 'sqlite', fallbackReason: null, streams: ['events'],
        mirror: { events: expected.totals.events, rejects: expected.totals.rejects },
        tailer: { mode: 'tailer', pid: process.pid },
      });
      expect(h.headers['cache-control']).toBe('no-store');
    } finally {
      store.close();
    }
  });

  it('status follows the mirror too: rows committed without a file change show at once', async () => {
    const dir = exampleDir();
    const s = await serve({ dir, tail: false });
    appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts_epoch: NOW, type: 'heartbeat' })}\n`);
    const before = (await get(s.url, '/api/health')).json;
    expect(before.mirror.behindBytes).toBeGreaterThan(0);
    expect(before.tailer.mode).toBe('off');
    // A metric read catches the mirror up (the files do not change, the mirror does).
    await get(s.url, `/api/metrics/dora?now=${NOW}`);
    const after = (await get(s.url, '/api/health')).json;
    expect(after.mirror.behindBytes).toBe(0);
    expect(after.mirror.events).toBe(before.mirror.events + 1);
    expect((await get(s.url, '/api/status')).json.totals.behindBytes).toBe(0);
  });

  it('bad parameters are 400 {error:{code,message}}, unknown paths 404, anything but GET/HEAD 405', async () => {
    const s = await serve({ dir: exampleDir() });
    const bad = [
      '/api/metrics/dora?period=0', '/api/metrics/dora?period=-3', '/api/metrics/dora?period=1.5', '/api/metrics/dora?period=abc',
      '/api/metrics/dora?period=99999999', '/api/costs/trend?now=yesterday-ish', '/api/metrics/history?stream=../etc',
      '/api/activity?limit=0', '/api/activity?offset=-1', '/api/activity?offset=2&cursor=abc', '/api/activity?cursor=nonsense',
      '/api/activity?stream=a,b', '/api/metrics/dora?perod=7', '/api/metrics/dora?period=7&period=8',
      '/api/timeline?range=0h', '/api/timeline?range=soon', '/api/events/0', '/api/events/abc', '/api/events/:issue', '/api/metrics/bottlenecks?period=7',
    ];
    for (const path of bad) {
      const r = await get(s.url, path);
      expect(r.status, `${path}: ${r.text}`).toBe(400);
      expect(r.json.error.code, path).toMatch(/^[A-Z_]+$/);
      expect(typeof r.json.error.message).toBe('string');
    }
    // The library's and the CLI's words for a window past a century, and the value as it was sent.
    expect((await get(s.url, '/api/metrics/dora?period=36501')).json.error.message).toBe('period takes a whole number from 1 to 36500, got "36501"');
    expect((await get(s.url, '/api/timeline?range=876001h')).json.error.message).toBe('range takes a whole number from 1 to 876000, got "876001h"');
    expect((await get(s.url, `/api/timeline?range=876000h&now=${NOW}`)).status).toBe(200);
    for (const path of ['/api/nope', '/api/metrics', '/api/events/', '/nope.html', '/api/metrics/dora/extra']) {
      const r = await get(s.url, path);
      expect(r.status, path).toBe(404);
      expect(r.json.error.code).toBe('NOT_FOUND');
    }
    for (const method of ['POST', 'PUT', 'DELETE', 'PATCH']) {
      expect((await get(s.url, '/api/metrics/dora', {}, method)).status).toBe(405);
    }
    const head = await get(s.url, `/api/metrics/dora?now=${NOW}`, {}, 'HEAD');
    expect(head.status).toBe(200);
    expect(head.text).toBe('');
    expect(Number(head.headers['content-length'])).toBeGreaterThan(0);
  });

  it('ETag and If-None-Match: 304 while the answer holds, a new body once the files change it', async () => {
    const dir = exampleDir();
    const s = await serve({ dir });
    const path = `/api/metrics/history?now=${NOW + 3600}`;
    const a = await get(s.url, path);
    const etag = a.headers.etag as string;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const b = await get(s.url, path, { 'if-none-match': etag });
    expect(b.status).toBe(304);
    expect(b.text).toBe('');
    expect((await get(s.url, path, { 'if-none-match': `"other", W/${etag}` })).status).toBe(304);
    // Another period is another answer, with its own tag.
    const other = await get(s.url, `/api/metrics/history?period=30&now=${NOW + 3600}`);
    expect(other.headers.etag).not.toBe(etag);
    // A line that changes the answer: a successful completion.
    appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts_epoch: NOW + 60, type: 'pipeline.completed', issue: 9, result: 'success', duration_s: 10 })}\n`);
    const c = await get(s.url, path, { 'if-none-match': etag });
    expect(c.status).toBe(200);
    expect(c.headers.etag).not.toBe(etag);
    expect(c.json.total_completed).toBe(a.json.total_completed + 1);
    // A line that does not change it: the files moved, the body is the same, so the old tag still answers 304.
    const etag2 = c.headers.etag as string;
    appendFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ ts_epoch: NOW + 61, type: 'heartbeat' })}\n`);
    expect((await get(s.url, path, { 'if-none-match': etag2 })).status).toBe(304);
  });

  it('nothing writes: the log files are untouched by every endpoint', async () => {
    const dir = exampleDir();
    const { snapshot } = await import('./helpers.js');
    const before = snapshot(dir);
    const s = await serve({ dir, source: 'scan' });
    for (const [path] of CASES) await get(s.url, path);
    expect(snapshot(dir)).toEqual(before);
  });
});
