import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateLog } from '../fixtures/generate.js';
import { startPg, type PgServer } from '../fixtures/pg-server.js';
import { CLI, ROOT } from './helpers.js';
import { get } from './serve-helpers.js';

/** Debian's chromium; `.ci/run` installs it. Missing is a failure, never a skip. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** A month of synthetic pipelines ending now, today's legacy costs and a budget, imported. */
function demoLogs(dir: string, end: number, mirror: string[] = [], seed = 7): void {
  generateLog({ dir, lines: 20_000, seed, endEpoch: end, days: 30, corruptRate: 0.001 });
  const entry = (ago: number, cost: number, stage: string) =>
    ({ input_tokens: 0, output_tokens: 0, model: 'sonnet', stage, issue: '', cost_usd: cost, ts: new Date((end - ago) * 1000).toISOString().replace(/\.\d+Z$/, 'Z'), ts_epoch: end - ago });
  writeFileSync(join(dir, 'costs.json'), JSON.stringify({ entries: [entry(3000, 12.4, 'build'), entry(2000, 8.1, 'test'), entry(600, 6.35, 'review')] }));
  writeFileSync(join(dir, 'budget.json'), JSON.stringify({ daily_budget_usd: 60 }));
  const r = spawnSync(process.execPath, [CLI, '--dir', dir, ...mirror, 'import'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
}

// The same dashboard over a SQLite mirror and over a PostgreSQL fleet mirror of two hosts (the server is h0's).
describe.each(['sqlite', 'postgres'] as const)('the dashboard in Chromium (%s)', (engine) => {
  let pg: PgServer | undefined;
  /** --db and --host-id for every command: nothing for SQLite (DIR/mirror.db). */
  let mirror: string[] = [];
  let dir: string;
  let userData: string;
  let server: ChildProcess;
  let other: string | undefined;
  let url: string;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  // The logs end a few minutes ago: today's cost and the 24 h timeline have something to show.
  const end = Math.floor(Date.now() / 1000) - 300;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    dir = mkdtempSync(join(tmpdir(), 'jm-browser-'));
    userData = mkdtempSync(join(tmpdir(), 'jm-chromium-'));
    if (engine === 'postgres') {
      pg = await startPg();
      const url = await pg.createDb('browser');
      mirror = ['--db', url, '--host-id', 'h0'];
      other = mkdtempSync(join(tmpdir(), 'jm-browser-h1-'));
      demoLogs(other, end, ['--db', url, '--host-id', 'h1'], 8);
    }
    demoLogs(dir, end, mirror);
    server = spawn(process.execPath, [CLI, '--dir', dir, ...mirror, '--json', 'serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    url = await new Promise<string>((resolve, reject) => {
      let out = '';
      server.stdout!.on('data', (c) => {
        out += c;
        if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!).url);
      });
      server.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
    });
    context = await chromium.launchPersistentContext(userData, {
      executablePath: CHROMIUM, headless: true, args: ARGS, viewport: { width: 1440, height: 900 },
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') problems.push(`console ${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('requestfailed', (r) => {
      // A reload cancels what the page still had in flight (slower answers, as a database server's, are still out).
      if (!r.url().includes('/api/stream') && r.failure()?.errorText !== 'net::ERR_ABORTED') problems.push(`request failed: ${r.url()} (${r.failure()?.errorText})`);
    });
    await page.goto(`${url}/?now=${end}`);
    await page.waitForFunction(() => document.querySelector('.card.dora .value')?.textContent !== '–');
  });

  afterAll(async () => {
    await context?.close();
    server?.kill('SIGTERM');
    if (server) await new Promise((r) => server.once('exit', r));
    for (const d of [dir, userData, other]) if (d) rmSync(d, { recursive: true, force: true });
    pg?.stop();
  });

  it('loads with no console errors, and the DORA cards show the API\'s values', async () => {
    const dora = (await get(url, `/api/metrics/dora?period=7&now=${end}`)).json;
    for (const metric of ['deploy_freq', 'lead_time', 'cfr', 'mttr']) {
      const card = page.locator(`.card.dora[data-metric="${metric}"]`);
      expect(await card.locator('.value').textContent()).toBe(String(dora[metric].value));
      expect(await card.locator('.grade').textContent()).toBe(dora[metric].grade);
      expect(await card.locator('.unit').textContent()).toBe(dora[metric].unit);
    }
    const today = (await get(url, `/api/costs/today?now=${end}`)).json;
    expect(today.daily_budget).toBe(60);
    expect(await page.locator('#cost-today .value').textContent()).toBe(`$${today.today_spent.toFixed(2)}`);
    expect(await page.locator('#stages tbody tr').count()).toBeGreaterThan(3);
    expect(await page.locator('#timeline .seg').count()).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });

  it('the period selector changes the charts', async () => {
    const cost = page.locator('#cost-chart');
    expect(await cost.getAttribute('data-points')).toBe('7');
    await page.selectOption('#period', '30');
    await expect.poll(() => cost.getAttribute('data-points')).toBe('30');
    await expect.poll(() => page.locator('#throughput-chart').getAttribute('data-points')).toBe('30');
    const trend = (await get(url, `/api/costs/trend?period=30&now=${end}`)).json;
    const total = trend.daily.reduce((a: number, d: { cost: number }) => a + d.cost, 0);
    expect(await cost.getAttribute('aria-label')).toContain(`over 30 days, $${total.toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`);
    expect(new URL(page.url()).searchParams.get('period')).toBe('30');
    await page.selectOption('#period', '7');
    await expect.poll(() => cost.getAttribute('data-points')).toBe('7');
    expect(problems).toEqual([]);
  });

  it('pinned with ?now=, every panel asks as of then; live rows up to then land in time order and move the count, later ones stay out', async () => {
    // Every request a full refresh makes carries the pin (the live stream and the health check have no window).
    const asked: string[] = [];
    const onRequest = (r: { url(): string }) => {
      const u = new URL(r.url());
      if (u.pathname.startsWith('/api/') && !['/api/stream', '/api/health'].includes(u.pathname)) asked.push(`${u.pathname} now=${u.searchParams.get('now')}`);
    };
    page.on('request', onRequest);
    await page.reload();
    await page.waitForFunction(() => document.querySelector('.card.dora .value')?.textContent !== '–');
    await page.waitForSelector('#live.ok');
    await page.waitForFunction(() => /matching events/.test(document.querySelector('#feed-count')?.textContent ?? ''));
    page.off('request', onRequest);
    expect(asked.length).toBeGreaterThanOrEqual(9);
    expect(asked.filter((a) => !a.endsWith(`now=${end}`))).toEqual([]);
    expect(asked.some((a) => a.startsWith('/api/activity'))).toBe(true);
    const countOf = async () => Number((await page.locator('#feed-count').textContent())!.replace(/\D/g, ''));
    const before = await countOf();
    const marker = `browser-${process.pid}`;
    const append = (event: Record<string, unknown>) => {
      const r = spawnSync(process.execPath, [CLI, '--dir', dir, ...mirror, 'append', 'events', JSON.stringify(event)], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    // One after the pinned moment (not shown), then one a little before it (shown, below the newer rows).
    append({ type: 'stage.completed', ts_epoch: end + 600, issue: 4343, stage: 'deploy', marker: `${marker}-later` });
    append({ type: 'stage.completed', ts_epoch: end - 30, issue: 4242, stage: 'deploy', duration_s: 42, marker });
    await page.locator('#feed tbody tr', { hasText: marker }).first().waitFor({ timeout: 2000 });
    await expect.poll(countOf).toBe(before + 1);
    await page.waitForTimeout(500);
    expect(await page.locator('#feed tbody tr', { hasText: `${marker}-later` }).count()).toBe(0);
    const epochs = await page.locator('#feed tbody tr').evaluateAll((rows) => rows.map((r) => Number((r as HTMLElement).dataset.epoch)));
    expect(epochs.every((e) => e <= end)).toBe(true);
    expect(epochs).toEqual([...epochs].sort((a, b) => b - a));
    // Filters: another type hides it, its issue shows it.
    await page.selectOption('#type-filter', 'pipeline');
    await expect.poll(() => page.locator('#feed tbody tr', { hasText: marker }).count(), { timeout: 5000 }).toBe(0);
    await page.selectOption('#type-filter', '');
    await page.fill('#issue-filter', '4242');
    await page.press('#issue-filter', 'Enter');
    await expect.poll(() => page.locator('#feed tbody tr').count(), { timeout: 5000 }).toBe(1);
    await page.fill('#issue-filter', '');
    await page.press('#issue-filter', 'Enter');
    await page.locator('#issue-filter').blur();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.waitForTimeout(1000);
    mkdirSync(ARTIFACTS, { recursive: true });
    const shot = engine === 'sqlite' ? 'dashboard' : `dashboard-${engine}`;
    await page.screenshot({ path: join(ARTIFACTS, `${shot}.png`) });
    await page.screenshot({ path: join(ARTIFACTS, `${shot}-full.png`), fullPage: true });
    expect(existsSync(join(ARTIFACTS, `${shot}.png`))).toBe(true);
    expect(problems).toEqual([]);
  });

  it('a slow answer to an earlier choice of filters does not replace the answer to the latest one', async () => {
    // The feed with no issue filter answers 1.5 s late (as a busy database server might); the one filtered by issue answers at once.
    await page.route('**/api/activity?*', async (route) => {
      if (!new URL(route.request().url()).searchParams.has('issue')) await new Promise((r) => setTimeout(r, 1500));
      await route.continue();
    });
    try {
      await page.selectOption('#type-filter', 'stage');
      await page.selectOption('#type-filter', '');
      await page.fill('#issue-filter', '4242');
      await page.press('#issue-filter', 'Enter');
      await expect.poll(() => page.locator('#feed tbody tr').count(), { timeout: 5000 }).toBe(1);
      // Past the moment the slow, unfiltered answers arrived: the filtered rows stay.
      await page.waitForTimeout(2500);
      expect(await page.locator('#feed tbody tr').count()).toBe(1);
    } finally {
      await page.unroute('**/api/activity?*');
      await page.fill('#issue-filter', '');
      await page.press('#issue-filter', 'Enter');
      await page.locator('#issue-filter').blur();
    }
    await expect.poll(() => page.locator('#feed tbody tr').count(), { timeout: 5000 }).toBeGreaterThan(1);
  });

  it('shows the fleet\'s hosts, and one host\'s numbers when it is chosen (a one-machine mirror has no host choice)', async () => {
    const choice = page.locator('#host-choice');
    if (engine === 'sqlite') {
      expect(await choice.isHidden()).toBe(true);
      return;
    }
    await expect.poll(() => choice.isVisible()).toBe(true);
    expect(await page.locator('#host option').allTextContents()).toEqual(['every host', 'h0', 'h1']);
    expect(await page.locator('#health').textContent()).toMatch(/hostsh0 \([\d,]+\), h1 \([\d,]+\)/);
    await page.selectOption('#host', 'h1');
    const dora = (await get(url, `/api/metrics/dora?period=7&now=${end}&host=h1`)).json;
    const all = (await get(url, `/api/metrics/dora?period=7&now=${end}`)).json;
    expect(dora.deploy_freq.value).not.toBe(all.deploy_freq.value);
    for (const metric of ['deploy_freq', 'lead_time', 'cfr', 'mttr']) {
      await expect.poll(() => page.locator(`.card.dora[data-metric="${metric}"] .value`).textContent()).toBe(String(dora[metric].value));
    }
    expect(new URL(page.url()).searchParams.get('host')).toBe('h1');
    await page.selectOption('#host', '');
    await expect.poll(() => page.locator('.card.dora[data-metric="deploy_freq"] .value').textContent()).toBe(String(all.deploy_freq.value));
    expect(problems).toEqual([]);
  });
});
