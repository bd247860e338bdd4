// The dashboard: reads the JSON API (the browser revalidates with ETags, so
// an unchanged answer costs a 304), follows /api/stream for the live feed,
// and redraws the panels when new events land.
const $ = (sel) => document.querySelector(sel);
const page = new URLSearchParams(location.search);
const state = {
  period: Number(page.get('period') ?? 7),
  stream: page.get('stream') ?? '',
  // A fleet (PostgreSQL) mirror: one machine's events, or every host's ('').
  host: page.get('host') ?? '',
  // ?now= pins the dashboard to a moment (old logs, demos); otherwise it follows the clock.
  now: page.get('now') ?? '',
  type: '',
  issue: '',
};
const FEED_ROWS = 100;

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

async function api(path, params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== '' && v !== undefined && v !== null) q.set(k, String(v));
  const res = await fetch(`${path}${q.size ? `?${q}` : ''}`, { cache: 'no-cache' });
  const body = await res.json();
  if (!res.ok) throw new Error(body?.error?.message ?? `${path}: HTTP ${res.status}`);
  return body;
}

const common = () => ({ now: state.now, stream: state.stream, host: state.host });
const windowed = () => ({ ...common(), period: state.period });

function duration(s) {
  if (!Number.isFinite(s)) return '–';
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${Math.round(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${Math.round((s % 3600) / 60)}m`;
}
const usd = (n) => `$${Number(n).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`;
const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);

// ---------------------------------------------------------------- cards
async function loadDora() {
  const dora = await api('/api/metrics/dora', windowed());
  for (const card of document.querySelectorAll('.card.dora')) {
    const m = dora[card.dataset.metric];
    card.querySelector('.value').textContent = String(m.value);
    card.querySelector('.unit').textContent = m.unit;
    const g = card.querySelector('.grade');
    g.textContent = m.grade;
    g.className = `grade ${m.grade}`;
  }
}

async function loadCostToday() {
  const c = await api('/api/costs/today', { now: state.now });
  const card = $('#cost-today');
  card.querySelector('.value').textContent = usd(c.today_spent);
  card.querySelector('.unit').textContent = c.daily_budget > 0 ? `of ${usd(c.daily_budget)} budget (${c.pct_used}%)` : 'no daily budget set (budget.json)';
  const fill = card.querySelector('.fill');
  fill.style.width = `${Math.min(100, c.pct_used)}%`;
  fill.className = `fill${c.pct_used >= 100 ? ' over' : c.pct_used >= 80 ? ' warn' : ''}`;
}

// ---------------------------------------------------------------- charts
const charts = {};
function chart(id, type, color, tick) {
  if (charts[id]) return charts[id];
  const Chart = window.Chart;
  Chart.defaults.color = '#8d98b0';
  Chart.defaults.borderColor = 'rgba(38, 48, 71, .8)';
  charts[id] = new Chart(document.getElementById(id), {
    type,
    data: { labels: [], datasets: [{ data: [], backgroundColor: type === 'bar' ? color : `${color}33`, borderColor: color, fill: type === 'line', tension: 0.3, pointRadius: 0, borderWidth: 2 }] },
    options: {
      responsive: true, maintainAspectRatio: false, animation: false,
      plugins: { legend: { display: false } },
      scales: { x: { ticks: { maxTicksLimit: 10, maxRotation: 0 } }, y: { beginAtZero: true, ticks: tick ? { callback: tick } : {} } },
    },
  });
  return charts[id];
}

function plot(id, type, color, labels, values, describe, tick) {
  const c = chart(id, type, color, tick);
  c.data.labels = labels;
  c.data.datasets[0].data = values;
  c.update();
  c.canvas.setAttribute('aria-label', describe);
  c.canvas.dataset.points = String(values.length);
}

async function loadCharts() {
  const [cost, thr] = await Promise.all([api('/api/costs/trend', windowed()), api('/api/metrics/throughput-trend', windowed())]);
  const total = cost.daily.reduce((a, d) => a + d.cost, 0);
  $('#cost-total').textContent = `${usd(total)} over ${cost.daily.length} days`;
  plot('cost-chart', 'bar', '#5aa9ff', cost.daily.map((d) => d.date.slice(5)), cost.daily.map((d) => d.cost),
    `Cost per day over ${cost.daily.length} days, ${usd(total)} in all`, (v) => `$${v}`);
  plot('throughput-chart', 'line', '#2fbf71', thr.daily.map((d) => d.date.slice(5)), thr.daily.map((d) => d.throughput),
    `Successful pipelines per hour, by day, over ${thr.daily.length} days`);
}

// ---------------------------------------------------------------- tables
async function loadStages() {
  const { stages } = await api('/api/metrics/stage-performance', windowed());
  const body = $('#stages tbody');
  body.replaceChildren(...stages.map((s) => el('tr', {},
    el('td', { text: s.name }), el('td', { class: 'num', text: String(s.count) }), el('td', { class: 'num', text: duration(s.avgDuration) }),
    el('td', { class: 'num', text: duration(s.minDuration) }), el('td', { class: 'num', text: duration(s.maxDuration) }),
    el('td', { class: 'num', text: usd(s.cost) }),
    el('td', { class: `num ${s.trend > 0 ? 'up' : s.trend < 0 ? 'down' : ''}`, text: `${s.trend > 0 ? '▲' : s.trend < 0 ? '▼' : ''} ${Math.abs(s.trend)}%` }))));
  if (stages.length === 0) body.replaceChildren(el('tr', {}, el('td', { class: 'empty', colspan: '7', text: 'no completed stages in this period' })));
}

async function loadBottlenecks() {
  const { bottlenecks } = await api('/api/metrics/bottlenecks', common());
  const max = Math.max(1, ...bottlenecks.map((b) => b.avgDuration));
  const list = $('#bottlenecks');
  list.replaceChildren(...bottlenecks.map((b) => {
    const bar = el('div', { class: `impact-${b.impact}` });
    bar.style.width = `${(b.avgDuration / max) * 100}%`;
    return el('li', { title: `${b.count} runs, ${b.impact} impact` }, el('span', { text: b.stage }), el('div', { class: 'track' }, bar),
      el('span', { class: 'num', text: duration(b.avgDuration) }));
  }));
  if (bottlenecks.length === 0) list.replaceChildren(el('li', { class: 'empty', text: 'no stage ran in the last 7 days' }));
}

async function loadHealth() {
  const h = await api('/api/health');
  const t = h.tailer;
  const rows = [
    ['backend', { sqlite: 'SQLite mirror', postgres: 'PostgreSQL fleet mirror', scan: 'scanning the files' }[h.backend] ?? h.backend],
    ...(h.hosts ? [['hosts', h.hosts.map((x) => `${x.host} (${x.rows.toLocaleString('en-US')}${x.lag_bytes > 0 ? `, ${bytes(x.lag_bytes)} behind` : ''})`).join(', ')]] : []),
    ['tailer', t.mode === 'tailer' ? `this server (pid ${t.pid})` : t.mode === 'follower' ? `pid ${t.pid} on ${t.host}` : 'none'],
    ['events', h.mirror ? h.mirror.events.toLocaleString('en-US') : '–'],
    ['rejected lines', h.mirror ? h.mirror.rejects.toLocaleString('en-US') : '–'],
    ['behind the files', h.mirror ? bytes(h.mirror.behindBytes + h.lagBytes) : bytes(h.lagBytes)],
    ['mirror size', h.mirror ? bytes(h.mirror.dbBytes) : '–'],
    ['streams', h.streams.join(', ') || '–'],
  ];
  $('#health').replaceChildren(...rows.flatMap(([k, v]) => [el('dt', { text: k }), el('dd', { text: v, title: v })]));
  const behind = (h.mirror?.behindBytes ?? 0) + h.lagBytes;
  const pill = $('#health-pill');
  pill.textContent = `${h.backend}${behind > 0 ? ` · ${bytes(behind)} behind` : ' · current'}${h.mirror?.rejects ? ` · ${h.mirror.rejects} rejects` : ''}`;
  pill.className = `pill ${h.backend === 'scan' || behind > 1048576 ? 'warn' : 'ok'}`;
  pill.title = h.fallbackReason ?? h.mirrorProblem ?? 'mirror health';
  const select = $('#stream');
  if (select.options.length === 0) {
    select.append(el('option', { value: '', text: 'default' }), ...h.streams.map((s) => el('option', { value: s, text: s })));
    select.value = state.stream;
  }
  const hosts = $('#host');
  if (h.hosts && hosts.options.length === 0) {
    hosts.append(el('option', { value: '', text: 'every host' }), ...h.hosts.map((x) => el('option', { value: x.host, text: x.host })));
    hosts.value = state.host;
    $('#host-choice').hidden = false;
  }
}

async function loadHeatmap() {
  const { heatmap } = await api('/api/metrics/failure-heatmap', common());
  const end = state.now ? new Date(isNaN(Number(state.now)) ? state.now : Number(state.now) * 1000) : new Date();
  const days = [];
  for (let i = 13; i >= 0; i--) days.push(new Date(Date.UTC(end.getUTCFullYear(), end.getUTCMonth(), end.getUTCDate() - i)).toISOString().slice(0, 10));
  const stages = Object.keys(heatmap);
  const max = Math.max(1, ...stages.flatMap((s) => days.map((d) => heatmap[s][d] ?? 0)));
  const box = $('#heatmap');
  box.style.gridTemplateColumns = `auto repeat(${days.length}, 1fr)`;
  const cells = [el('span'), ...days.map((d, i) => el('span', { class: 'day', text: i % 2 === 0 ? d.slice(8) : '' }))];
  for (const s of stages) {
    cells.push(el('span', { class: 'label', text: s }));
    for (const d of days) {
      const n = heatmap[s][d] ?? 0;
      const c = el('span', { class: 'cell', title: `${s} on ${d}: ${n} failed` });
      if (n > 0) c.style.background = `rgba(240, 98, 106, ${0.2 + 0.8 * (n / max)})`;
      cells.push(c);
    }
  }
  box.replaceChildren(...cells);
  if (stages.length === 0) box.replaceChildren(el('div', { class: 'empty', text: 'no stage has failed' }));
}

async function loadTimeline() {
  const rows = await api('/api/timeline', { ...common(), range: '24h' });
  const endMs = state.now ? (isNaN(Number(state.now)) ? Date.parse(state.now) : Number(state.now) * 1000) : Date.now();
  const startMs = endMs - 24 * 3600 * 1000;
  const pos = (ts) => Math.max(0, Math.min(100, ((Date.parse(ts) - startMs) / (endMs - startMs)) * 100));
  // The 14 issues with the latest stage starts, shown by issue number.
  const latest = (r) => Math.max(...r.segments.map((s) => Date.parse(s.start)));
  const shown = [...rows].sort((a, b) => latest(b) - latest(a)).slice(0, 14).sort((a, b) => a.issue - b.issue);
  const box = $('#timeline');
  const lanes = shown.map((r) => {
    const lane = el('div', { class: 'lane' });
    for (const s of r.segments) {
      const from = pos(s.start);
      const to = s.end ? pos(s.end) : 100;
      const seg = el('div', { class: `seg ${s.status}`, title: `#${r.issue} ${s.stage}: ${s.status}, ${s.start}${s.end ? ` to ${s.end}` : ''}` });
      seg.style.left = `${from}%`;
      seg.style.width = `${Math.max(0.3, to - from)}%`;
      lane.append(seg);
    }
    return el('div', { class: 'row', title: r.title || `issue ${r.issue}` }, el('span', { text: `#${r.issue}` }), lane);
  });
  const ticks = el('div', { class: 'ticks' }, ...[24, 18, 12, 6, 0].map((h) => el('span', { text: h === 0 ? 'now' : `-${h}h` })));
  box.replaceChildren(...lanes, el('div', { class: 'axis' }, el('span'), ticks));
  if (rows.length > shown.length) box.append(el('div', { class: 'more', text: `${rows.length - shown.length} more issues not shown` }));
  if (rows.length === 0) box.replaceChildren(el('div', { class: 'empty', text: 'no stage ran in the last 24 hours' }));
}

// ---------------------------------------------------------------- live feed
function typeMatches(type) {
  return !state.type || type === state.type || String(type).startsWith(`${state.type}.`);
}
/** An event's time as the helpers read it (METRICS.md normalisation): ts_epoch, else ts, else 0. */
function epochOf(e) {
  const n = Number(e.ts_epoch);
  if (e.ts_epoch !== undefined && e.ts_epoch !== null && e.ts_epoch !== '' && Number.isFinite(n)) return n;
  const ms = typeof e.ts === 'string' ? Date.parse(e.ts) : NaN;
  return Number.isFinite(ms) ? Math.floor(ms / 1000) : 0;
}
/** The pinned moment as epoch seconds (?now= takes epoch seconds or an ISO date), or Infinity when following the clock. */
function pinnedEpoch() {
  if (!state.now) return Infinity;
  const n = Number(state.now);
  return Number.isFinite(n) ? n : Math.floor(Date.parse(state.now) / 1000);
}
function feedRow(e, fresh) {
  const { ts, type, issue, stage, ts_epoch, ...rest } = e;
  const when = typeof ts === 'string' ? ts.replace('T', ' ').replace('Z', '') : ts_epoch ? new Date(ts_epoch * 1000).toISOString().slice(0, 19).replace('T', ' ') : '';
  return el('tr', { class: fresh ? 'new' : '', 'data-epoch': String(epochOf(e)) }, el('td', { text: when }), el('td', { text: String(type ?? '') }),
    el('td', { text: issue === undefined ? '' : String(issue) }), el('td', { text: stage === undefined ? '' : String(stage) }),
    el('td', { class: 'details', text: JSON.stringify(rest) }));
}

let feedTotal = 0;
function showFeedCount() {
  $('#feed-count').textContent = `${feedTotal.toLocaleString('en-US')} matching events`;
}

let feedAsked = 0;
async function loadFeed() {
  const asked = ++feedAsked;
  const feed = await api('/api/activity', { limit: 50, type: state.type, issue: state.issue, stream: state.stream, now: state.now, host: state.host });
  // Filters changed while this was on its way: a slow answer to an earlier choice must not replace the answer to the latest.
  if (asked !== feedAsked) return;
  $('#feed tbody').replaceChildren(...feed.events.map((e) => feedRow(e, false)));
  feedTotal = feed.total;
  showFeedCount();
}

/**
 * New events go where the feed's order puts them (newest first by time, as
 * /api/activity orders them), not on top in arrival order; a dashboard
 * pinned with ?now= shows only those up to that moment. Each one counts.
 */
function onLive(batch) {
  const body = $('#feed tbody');
  const stream = state.stream || 'events';
  const upTo = pinnedEpoch();
  const fresh = batch.events.filter((x) => x.stream === stream && (!state.host || x.host === state.host) && typeMatches(x.event.type) &&
    (!state.issue || String(x.event.issue) === state.issue) && epochOf(x.event) <= upTo);
  for (const x of fresh) {
    const row = feedRow(x.event, true);
    const at = Number(row.dataset.epoch);
    // Equal times: the later one in the log is the newer, so it goes above the rows already there.
    const before = [...body.children].find((r) => Number(r.dataset.epoch) <= at);
    body.insertBefore(row, before ?? null);
  }
  if (fresh.length) {
    while (body.children.length > FEED_ROWS) body.lastElementChild.remove();
    feedTotal += fresh.length;
    showFeedCount();
  }
  scheduleRefresh();
}

let source;
function connect() {
  source?.close();
  source = new EventSource('/api/stream');
  const live = $('#live');
  source.onopen = () => {
    live.textContent = '● live';
    live.className = 'pill ok';
  };
  source.onerror = () => {
    live.textContent = 'reconnecting';
    live.className = 'pill warn';
  };
  source.onmessage = (m) => onLive(JSON.parse(m.data));
}

// ---------------------------------------------------------------- refresh
let pending;
function scheduleRefresh() {
  clearTimeout(pending);
  pending = setTimeout(refresh, 700);
}

function problem(err) {
  const pill = $('#health-pill');
  pill.textContent = err.message.slice(0, 80);
  pill.className = 'pill bad';
}

async function refresh() {
  await Promise.all([loadDora(), loadCostToday(), loadCharts(), loadStages(), loadBottlenecks(), loadHeatmap(), loadTimeline(), loadHealth()]).catch(problem);
}

/**
 * Windows follow the clock: a log whose newest event is older than the
 * longest window shows zeros everywhere, which looks broken. Say why, and
 * offer to show the log as of its newest event (the same as ?now=).
 */
async function offerNewest() {
  const banner = $('#stale');
  if (state.now) {
    banner.hidden = true;
    return;
  }
  const { events } = await api('/api/activity', { limit: 1, stream: state.stream, host: state.host });
  const newest = events[0] ? epochOf(events[0]) : 0;
  const age = Date.now() / 1000 - newest;
  if (!newest || age < 30 * 86400) {
    banner.hidden = true;
    return;
  }
  const date = new Date(newest * 1000).toISOString().slice(0, 10);
  banner.querySelector('.text').textContent = `The newest event is from ${date}, ${Math.round(age / 86400)} days ago: the panels follow the clock, so they are empty.`;
  banner.querySelector('button').onclick = () => {
    state.now = String(newest);
    remember();
    banner.hidden = true;
    refresh();
    loadFeed().catch(problem);
  };
  banner.hidden = false;
}

function remember() {
  const q = new URLSearchParams();
  if (state.period !== 7) q.set('period', String(state.period));
  if (state.stream) q.set('stream', state.stream);
  if (state.host) q.set('host', state.host);
  if (state.now) q.set('now', state.now);
  history.replaceState(null, '', q.size ? `?${q}` : location.pathname);
}

function start() {
  $('#period').value = String(state.period);
  $('#period').addEventListener('change', (e) => {
    state.period = Number(e.target.value);
    remember();
    Promise.all([loadDora(), loadCharts(), loadStages()]).catch(problem);
  });
  $('#stream').addEventListener('change', (e) => {
    state.stream = e.target.value;
    remember();
    refresh();
    loadFeed().catch(problem);
  });
  $('#host').addEventListener('change', (e) => {
    state.host = e.target.value;
    remember();
    refresh();
    loadFeed().catch(problem);
  });
  $('#type-filter').addEventListener('change', (e) => {
    state.type = e.target.value;
    loadFeed().catch(problem);
  });
  $('#issue-filter').addEventListener('change', (e) => {
    state.issue = e.target.value.trim();
    loadFeed().catch(problem);
  });
  refresh();
  loadFeed().catch(problem);
  offerNewest().catch(problem);
  connect();
  // Windows move with the clock even when nothing is written.
  setInterval(refresh, 60_000);
}

if (window.Chart) start();
else window.addEventListener('load', start);
