// Writes: JSONL first, SQLite best effort.
export { createWriter, type Writer, type WriterOptions, type WriterStats, type AppendResult, type Durability } from './writer/writer.js';
// Tails: keeps the mirror current and feeds new events.
export { createTailer, type Tailer, type TailerOptions, type TailerStats } from './tailer/tailer.js';
export type { ChangeBatch } from './tailer/feed.js';
// Imports: every log and legacy costs.json, idempotently.
export { importLogs } from './import/import-logs.js';
export { importAll, type ImportOptions, type ImportSummary } from './import/import.js';
// Reads: every docs/metrics.md helper, from SQLite or from the files.
export { createReader, type Reader, type ReaderOptions, type SourceChoice } from './api/reader.js';
export { createAsyncReader, type AsyncReader, type AsyncReaderOptions, type AsyncMetricHelpers } from './api/async-reader.js';
export { METRICS, type MetricKey, type MetricArgs } from './api/metric-list.js';
export type { ActivityOptions, ActivityFeed } from './metrics/activity.js';
export type { MetricOptions } from './metrics/common.js';
export { DEFAULT_CONFIG, mergeConfig, loadConfig, type MetricsConfig, type Bands, type PartialConfig } from './metrics/config.js';
export type { CostBreakdown, CostTrend, CostToday, CostTodayOptions } from './metrics/costs.js';
export type { Timeline, TimelineOptions, Segment } from './metrics/timeline.js';
export type { IssueEvents, IssueEventsOptions } from './metrics/issue-events.js';
export type { Patrol, PatrolOptions } from './metrics/patrol.js';
export type { DoraGrades, DoraTrend, Grade } from './metrics/dora.js';
export type { StagePerformance, Bottlenecks, FailureHeatmap } from './metrics/stages.js';
export type { ThroughputTrend } from './metrics/throughput.js';
export type { MetricsHistory } from './metrics/history.js';
// Serves the dashboard API, a live feed and the web dashboard over HTTP.
export { createServer, type ServerOptions, type MirrorServer } from './server/server.js';
// Operating the mirror.
export { openStore, type OpenOptions } from './store/engines.js';
export type { Store, QueryRows } from './store/api.js';
// A fleet mirror: the same ingest and helpers on PostgreSQL (db: 'postgres://…').
export { openMirror } from './store/engines.js';
export type { MirrorOpenOptions } from './store/api.js';
export { openPgStore, isPgUrl, type PgStore, type PgOpenOptions } from './store/engines.js';
export { createPgTailer, type PgTailer, type PgTailerOptions, type PgTailerStats } from './tailer/pg-tailer.js';
export { mirrorStatus, type MirrorStatus, type FileStatus } from './ops/status.js';
export { verifyMirror, type VerifyReport, type VerifyProblem } from './ops/verify.js';
export { rebuildMirror, type RebuildOptions, type RebuildResult } from './ops/rebuild.js';
export { exportLines, type ExportOptions } from './ops/export.js';
export { runQuery, queryRows } from './ops/query.js';
export { pruneHistory, type PruneOptions, type PruneResult } from './ops/prune.js';
export { doctor, type DoctorReport, type DoctorCheck } from './ops/doctor.js';
// The one ingest path and the normalisation every backend shares.
export { ingestStream } from './ingest/ingest-stream.js';
export { normalize } from './ingest/normalize.js';
export type { NormalEvent } from './model/event.js';
export type { IngestOptions, IngestTotals } from './ingest/options.js';
export { MirrorError, isMirrorError, type MirrorErrorCode } from './errors.js';
