import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exampleDir, get, serve } from './serve-helpers.js';
import { tmp } from './helpers.js';
import { promValue, promValues, startPrometheus } from './prometheus-helpers.js';

/** One series of an exposition: its value, or undefined when the exposition lacks it. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

const LINE = '{"ts":"2026-02-11T00:00:00Z","ts_epoch":1770768000,"type":"stage.completed","stage":"build","issue":7,"duration_s":12}\n';

describe('GET /metrics: the mirror and the server in the Prometheus text format', () => {
  it('counts what /api/status counts, per stream, with the tailer up and each request under its route', async () => {
    const dir = exampleDir();
    const s = await serve({ dir });
    const status = (await get(s.url, '/api/status')).json;
    await get(s.url, '/api/metrics/dora');
    await get(s.url, '/api/no/such/endpoint');
    await get(s.url, '/no-such-page-9f3');
    const r = await get(s.url, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    const host = JSON.stringify((await import('../src/model/mirror-db.js')).defaultHostId());
    const rows = (stream: string) => sample(r.text, `jsonl_mirror_rows{host=${host},stream="${stream}"}`);
    expect(rows('events')! + rows('costs')!).toBe(status.totals.events);
    expect(sample(r.text, `jsonl_mirror_rejects{host=${host},stream="events"}`)).toBe(status.totals.rejects);
    expect(sample(r.text, `jsonl_mirror_lag_bytes{host=${host},stream="events"}`)).toBe(0);
    expect(sample(r.text, `jsonl_mirror_up{host=${host}}`)).toBe(1);
    expect(sample(r.text, `jsonl_mirror_tailer_up{host=${host}}`)).toBe(1);
    expect(sample(r.text, `jsonl_mirror_last_commit_timestamp_seconds{host=${host}}`)).toBeGreaterThan(Date.now() / 1000 - 600);
    expect(sample(r.text, 'jsonl_mirror_http_requests_total{route="/api/metrics/dora",code="200"}')).toBe(1);
    // Paths nobody serves are two labels, however many different ones arrive.
    expect(sample(r.text, 'jsonl_mirror_http_requests_total{route="unknown",code="404"}')).toBe(1);
    expect(sample(r.text, 'jsonl_mirror_http_requests_total{route="page",code="404"}')).toBe(1);
    expect(sample(r.text, 'jsonl_mirror_http_request_duration_seconds_count{route="/api/status"}')).toBe(1);
    expect(r.text).toMatch(/^process_cpu_seconds_total /m);
    // Refused before routing (405), still under the route asked for.
    expect((await get(s.url, '/metrics', {}, 'POST')).status).toBe(405);
    // The scrape itself is counted by the next one.
    const next = (await get(s.url, '/metrics')).text;
    expect(sample(next, 'jsonl_mirror_http_requests_total{route="/metrics",code="200"}')).toBe(1);
    expect(sample(next, 'jsonl_mirror_http_requests_total{route="/metrics",code="405"}')).toBe(1);
  });

  it('lag: bytes appended since the last ingest, and for how long, while no tailer runs', async () => {
    const dir = exampleDir();
    const s = await serve({ dir, tail: false });
    appendFileSync(join(dir, 'events.jsonl'), LINE);
    const host = JSON.stringify((await import('../src/model/mirror-db.js')).defaultHostId());
    const text = (await get(s.url, '/metrics')).text;
    expect(sample(text, `jsonl_mirror_lag_bytes{host=${host},stream="events"}`)).toBe(Buffer.byteLength(LINE));
    expect(sample(text, `jsonl_mirror_tailer_up{host=${host}}`)).toBe(0);
    // The wait grows with the clock while nothing on disk changes (a stuck mirror must trip an alert on it).
    const waited = sample(text, `jsonl_mirror_lag_seconds{host=${host},stream="events"}`)!;
    await new Promise((r) => setTimeout(r, 1200));
    const later = sample((await get(s.url, '/metrics')).text, `jsonl_mirror_lag_seconds{host=${host},stream="events"}`)!;
    expect(later - waited).toBeGreaterThanOrEqual(1);
    expect(later - waited).toBeLessThan(30);
  });

  it('without a usable mirror: up is 0 and no stream series, never an error page', async () => {
    const dir = join(tmp('jm-prom-'), 'logs');
    mkdirSync(dir);
    writeFileSync(join(dir, 'events.jsonl'), LINE);
    const s = await serve({ dir, tail: false });
    const r = await get(s.url, '/metrics');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/^jsonl_mirror_up\{host="[^"]*"\} 0$/m);
    expect(r.text).not.toMatch(/^jsonl_mirror_rows\{/m);
  });

  it('is behind the token like every other path', async () => {
    const s = await serve({ dir: exampleDir(), token: 'prom-secret-0123456789abcdef' });
    expect((await get(s.url, '/metrics')).status).toBe(401);
    expect((await get(s.url, '/metrics', { authorization: 'Bearer prom-secret-0123456789abcdef' })).status).toBe(200);
  });
});

describe('a real Prometheus scraping /metrics', () => {
  it("stores the mirror's row count and lag, scraped with the server's token", async () => {
    const dir = exampleDir();
    const s = await serve({ dir, tail: false, token: 'scrape-token-0123456789abcdef' });
    appendFileSync(join(dir, 'events.jsonl'), LINE);
    const status = (await get(s.url, '/api/status', { authorization: 'Bearer scrape-token-0123456789abcdef' })).json;
    const events = status.files.filter((f: { stream: string }) => f.stream === 'events').reduce((a: number, f: { rows: number }) => a + f.rows, 0);

    const prom = await startPrometheus(new URL(s.url).host, 'scrape-token-0123456789abcdef');
    const [rows, lag] = await promValues(prom, ['jsonl_mirror_rows{job="jsonl-mirror",stream="events"}', 'jsonl_mirror_lag_bytes{job="jsonl-mirror",stream="events"}']);
    expect({ rows, lag }, `Prometheus: ${prom.log().slice(-2000)}`).toEqual({ rows: events, lag: Buffer.byteLength(LINE) });
    expect(await promValue(prom.base, 'up{job="jsonl-mirror"}')).toBe(1);
  });
});
