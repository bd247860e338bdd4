import { appendFileSync, existsSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createTailer } from '../src/tailer/tailer.js';
import { createWriter } from '../src/writer/writer.js';
import { spawnSync } from 'node:child_process';
import { CLI, tmp } from './helpers.js';
import { get, serve, subscribe, until, type SseMessage } from './serve-helpers.js';

function logDir(): string {
  const dir = tmp('jm-sse-');
  writeFileSync(join(dir, 'events.jsonl'), `${JSON.stringify({ type: 'seed', n: -1 })}\n`);
  return dir;
}

const line = (n: number, extra: Record<string, unknown> = {}) => `${JSON.stringify({ ts_epoch: 1770000000 + n, type: 'tick', n, ...extra })}\n`;
const ns = (messages: SseMessage[]) => messages.flatMap((m) => m.data.events.map((e: any) => e.event.n as number));
const range = (a: number, b: number) => Array.from({ length: b - a }, (_, i) => a + i);

describe('serve: the live feed (SSE)', () => {
  it('one message per committed batch, id = its last event id, events as written', async () => {
    const dir = logDir();
    const s = await serve({ dir });
    const sub = subscribe(s.url);
    expect(await sub.opened).toBe(200);
    appendFileSync(join(dir, 'events.jsonl'), line(0) + line(1) + line(2));
    await until('the first batch', () => ns(sub.messages).length === 3);
    appendFileSync(join(dir, 'events.jsonl'), line(3));
    await until('the second batch', () => ns(sub.messages).length === 4);
    sub.close();
    expect(sub.messages).toHaveLength(2);
    const [a, b] = sub.messages as [SseMessage, SseMessage];
    expect(a.data.events.map((e: any) => e.event)).toEqual([0, 1, 2].map((n) => JSON.parse(line(n))));
    expect(Number(a.id)).toBe(a.data.events.at(-1).id);
    expect(Number(b.id)).toBe(Number(a.id) + 1);
    expect(b.data.events[0]).toMatchObject({ stream: 'events', event: { n: 3 } });
  });

  it('reconnecting with Last-Event-ID resumes with nothing missing or repeated, across a rotation', async () => {
    const dir = logDir();
    const live = join(dir, 'events.jsonl');
    const s = await serve({ dir });
    const first = subscribe(s.url);
    await first.opened;
    for (let n = 0; n < 20; n++) appendFileSync(live, line(n));
    await until('20 events', () => ns(first.messages).length === 20);
    first.close();
    const lastId = first.messages.at(-1)!.id!;
    // While disconnected: more lines, a rename rotation, lines in the new file.
    for (let n = 20; n < 30; n++) appendFileSync(live, line(n));
    renameSync(live, `${live}.1`);
    writeFileSync(live, '');
    for (let n = 30; n < 45; n++) appendFileSync(live, line(n));
    await until('the mirror to hold all 45', () => {
      const r = s.reader.activity({ type: 'tick', limit: 1 });
      return r.total === 45;
    });
    const second = subscribe(s.url, '/api/stream', { 'last-event-id': lastId });
    await second.opened;
    for (let n = 45; n < 50; n++) appendFileSync(live, line(n));
    await until('the rest', () => ns(second.messages).length >= 30);
    await new Promise((r) => setTimeout(r, 300)); // a repeat would arrive by now
    second.close();
    expect([...ns(first.messages), ...ns(second.messages)]).toEqual(range(0, 50));
    const ids = [...first.messages, ...second.messages].flatMap((m) => m.data.events.map((e: any) => e.id as number));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a client far behind catches up page by page, then goes live without a repeat', async () => {
    const dir = logDir();
    const s = await serve({ dir });
    appendFileSync(join(dir, 'events.jsonl'), range(0, 2500).map((n) => line(n)).join(''));
    await until('2,500 mirrored', () => s.reader.activity({ type: 'tick', limit: 1 }).total === 2500);
    const sub = subscribe(s.url, '/api/stream', { 'last-event-id': '0' });
    await sub.opened;
    appendFileSync(join(dir, 'events.jsonl'), line(2500));
    await until('all of them', () => ns(sub.messages).length >= 2501);
    await new Promise((r) => setTimeout(r, 300));
    sub.close();
    expect(ns(sub.messages)).toEqual([-1, ...range(0, 2501)]); // from the very first event
    expect(sub.messages.length).toBeGreaterThanOrEqual(3); // pages of at most 1,000
  });

  it('?stream= gives only that stream; ids still let a reconnect resume', async () => {
    const dir = logDir();
    writeFileSync(join(dir, 'other.jsonl'), '');
    const s = await serve({ dir });
    const sub = subscribe(s.url, '/api/stream?stream=other');
    await sub.opened;
    appendFileSync(join(dir, 'events.jsonl'), line(0));
    appendFileSync(join(dir, 'other.jsonl'), line(1));
    await until('the other stream', () => ns(sub.messages).length === 1);
    await new Promise((r) => setTimeout(r, 200));
    sub.close();
    expect(ns(sub.messages)).toEqual([1]);
    expect(sub.messages[0]!.data.events[0].stream).toBe('other');
    expect((await get(s.url, '/api/stream?stream=a/b')).status).toBe(400);
    expect((await get(s.url, '/api/stream', { 'last-event-id': 'x' })).status).toBe(400);
  });

  it('across a `rebuild` (swapped in by online backup) the server answers from the new mirror and feeds new rows', async () => {
    const dir = logDir();
    const s = await serve({ dir });
    expect((await get(s.url, '/api/health')).json.mirror.lastImport).toBeNull();
    appendFileSync(join(dir, 'events.jsonl'), line(0) + line(1));
    await until('two mirrored', () => s.reader.activity({ type: 'tick', limit: 1 }).total === 2);
    const r = spawnSync(process.execPath, [CLI, '--dir', dir, 'rebuild', '--yes'], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    await until('the server on the new mirror', () => {
      try {
        return s.reader.activity({ type: 'tick', limit: 1 }).total === 2;
      } catch {
        return false;
      }
    });
    await new Promise((res) => setTimeout(res, 300));
    const sub = subscribe(s.url);
    await sub.opened;
    appendFileSync(join(dir, 'events.jsonl'), line(2));
    await until('the new row', () => ns(sub.messages).includes(2));
    sub.close();
    const activity = (await get(s.url, '/api/activity?type=tick')).json;
    expect(activity.events.map((e: any) => e.n)).toEqual([2, 1, 0]);
    const health = (await get(s.url, '/api/health')).json;
    expect(health.mirror.events).toBe(4);
    expect(health.mirror.lastImport).not.toBeNull(); // the rebuilt mirror's, not the one the tailer started

  });

  it('a mirror deleted under the server: the tailer makes a new one, the server reopens it and feeds from it', async () => {
    const dir = logDir();
    const db = join(dir, 'mirror.db');
    const s = await serve({ dir });
    await until('the mirror', () => existsSync(db));
    const ino = statSync(db).ino;
    for (const suffix of ['', '-wal', '-shm']) rmSync(db + suffix, { force: true });
    await until('a new mirror', () => existsSync(db) && statSync(db).ino !== ino);
    await new Promise((res) => setTimeout(res, 500));
    const sub = subscribe(s.url);
    await sub.opened;
    appendFileSync(join(dir, 'events.jsonl'), line(5));
    await until('the row, from the new mirror', () => ns(sub.messages).includes(5));
    sub.close();
    expect((await get(s.url, '/api/health')).json.mirror.events).toBe(2);
  });

  it('when another process holds the tailer, serve follows its commits (writer appends too)', async () => {
    const dir = logDir();
    const other = createTailer({ dir, onError: () => {} });
    await other.start();
    try {
      const s = await serve({ dir });
      expect((await get(s.url, '/api/health')).json.tailer.mode).toBe('follower');
      const sub = subscribe(s.url);
      await sub.opened;
      appendFileSync(join(dir, 'events.jsonl'), line(0));
      const w = createWriter({ dir });
      w.append('events', { type: 'tick', n: 1 });
      w.close();
      await until('both', () => ns(sub.messages).length === 2);
      sub.close();
      expect(ns(sub.messages)).toEqual([0, 1]);
    } finally {
      await other.stop();
    }
  });

  it('a follower takes the tailer over when its holder stops', async () => {
    const dir = logDir();
    const other = createTailer({ dir, onError: () => {} });
    await other.start();
    const s = await serve({ dir });
    expect((await get(s.url, '/api/health')).json.tailer.mode).toBe('follower');
    await other.stop();
    const deadline = Date.now() + 15_000;
    let health = (await get(s.url, '/api/health')).json;
    while (health.tailer.mode !== 'tailer' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      health = (await get(s.url, '/api/health')).json;
    }
    expect(health.tailer).toMatchObject({ mode: 'tailer', pid: process.pid });
    const sub = subscribe(s.url);
    await sub.opened;
    appendFileSync(join(dir, 'events.jsonl'), line(7));
    await until('the event, through our own tailer', () => ns(sub.messages).length === 1);
    sub.close();
  });
});
