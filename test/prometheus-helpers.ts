import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { freePort } from '../fixtures/free-port.js';
import { tmp } from './helpers.js';

const procs: ChildProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill('SIGKILL');
});

function prometheusBin(): string {
  const which = spawnSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error('Prometheus is not installed: run `apt-get install -y prometheus` (.ci/system-deps does); this test needs the real one');
  return which.stdout.trim();
}

/** A real Prometheus on a free loopback port scraping `target` (host:port) every second with `token`; killed after the test. */
export async function startPrometheus(target: string, token: string): Promise<{ base: string; log: () => string; running: () => boolean }> {
  const work = tmp('jm-prom-');
  const port = await freePort();
  writeFileSync(join(work, 'prometheus.yml'), [
    'global:', '  scrape_interval: 1s', 'scrape_configs:', '  - job_name: jsonl-mirror',
    '    authorization:', `      credentials: ${token}`, '    static_configs:', `      - targets: ['${target}']`, '',
  ].join('\n'));
  const prom = spawn(prometheusBin(), [
    `--config.file=${join(work, 'prometheus.yml')}`, `--storage.tsdb.path=${join(work, 'data')}`, `--web.listen-address=127.0.0.1:${port}`,
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  procs.push(prom);
  let log = '';
  prom.stderr!.on('data', (d) => (log += d));
  return { base: `http://127.0.0.1:${port}`, log: () => log, running: () => prom.exitCode === null };
}

/** Prometheus's own answer to an instant query: the one value it has for `query`, or undefined. */
export async function promValue(base: string, query: string): Promise<number | undefined> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`).catch(() => undefined);
  if (!res?.ok) return undefined;
  const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
  const first = body.data.result[0];
  return first ? Number(first.value[1]) : undefined;
}

/** Polls Prometheus until every query has a value (or a minute passed, or it died); the values found. */
export async function promValues(prom: { base: string; running: () => boolean }, queries: string[]): Promise<(number | undefined)[]> {
  const end = Date.now() + 60_000;
  let values: (number | undefined)[] = [];
  while (Date.now() < end && prom.running()) {
    values = await Promise.all(queries.map((q) => promValue(prom.base, q)));
    if (values.every((v) => v !== undefined)) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  return values;
}
