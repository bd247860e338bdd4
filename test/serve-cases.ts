import type { Reader } from '../src/api/reader.js';

/** 2026-02-11T06:00:00Z: inside the bundled example's last day. */
export const NOW = 1770789600;

/** Each endpoint with parameters, and the helper call it must equal. */
export const CASES: [string, (r: Reader) => unknown][] = [
  [`/api/metrics/history?now=${NOW}`, (r) => r.metricsHistory({ now: NOW })],
  [`/api/metrics/history?period=30&now=${NOW}`, (r) => r.metricsHistory({ period: 30, now: NOW })],
  [`/api/metrics/dora?now=${NOW}`, (r) => r.doraGrades({ now: NOW })],
  [`/api/metrics/dora?period=30&now=2026-02-11T06:00:00Z`, (r) => r.doraGrades({ period: 30, now: NOW })],
  [`/api/metrics/dora-trend?period=60&now=${NOW}`, (r) => r.doraTrend({ period: 60, now: NOW })],
  [`/api/costs/breakdown?period=30&now=${NOW}`, (r) => r.costBreakdown({ period: 30, now: NOW })],
  [`/api/costs/breakdown?period=30&now=${NOW}&stream=events,costs`, (r) => r.costBreakdown({ period: 30, now: NOW, streams: ['events', 'costs'] })],
  [`/api/costs/trend?period=14&now=${NOW}`, (r) => r.costTrend({ period: 14, now: NOW })],
  [`/api/costs/trend?now=${NOW}&stream=events&stream=costs`, (r) => r.costTrend({ now: NOW, streams: ['events', 'costs'] })],
  [`/api/costs/today?now=${NOW}`, (r) => r.costToday({ now: NOW })],
  [`/api/metrics/stage-performance?period=14&now=${NOW}`, (r) => r.stagePerformance({ period: 14, now: NOW })],
  [`/api/metrics/bottlenecks?now=${NOW}`, (r) => r.bottlenecks({ now: NOW })],
  [`/api/metrics/failure-heatmap?now=${NOW}`, (r) => r.failureHeatmap({ now: NOW })],
  [`/api/metrics/throughput-trend?period=30&now=${NOW}`, (r) => r.throughputTrend({ period: 30, now: NOW })],
  ['/api/activity', (r) => r.activity()],
  ['/api/activity?limit=20&offset=5&type=stage&issue=201', (r) => r.activity({ limit: 20, offset: 5, type: 'stage', issue: 201 })],
  ['/api/activity?limit=500&type=pipeline', (r) => r.activity({ limit: 500, type: 'pipeline' })],
  [`/api/activity?now=${NOW}&type=stage.completed`, (r) => r.activity({ now: NOW, type: 'stage.completed' })],
  [`/api/timeline?range=24h&now=${NOW}`, (r) => r.timeline({ range: 24, now: NOW }).timeline],
  [`/api/timeline?range=72&now=${NOW}`, (r) => r.timeline({ range: 72, now: NOW }).timeline],
  [`/api/events/201?now=${NOW}`, (r) => ({ events: r.issueEvents({ issue: 201, now: NOW }).events })],
  ['/api/events/201', (r) => ({ events: r.issueEvents({ issue: 201 }).events })],
  [`/api/patrol/recent?now=${NOW}`, (r) => r.patrol({ now: NOW })],
  ['/api/patrol/recent?now=2026-02-05T00:00:00Z&stream=events', (r) => r.patrol({ now: Date.parse('2026-02-05T00:00:00Z') / 1000, streams: ['events'] })],
  ['/api/activity?type=all&limit=20', (r) => r.activity({ limit: 20 })],
];
