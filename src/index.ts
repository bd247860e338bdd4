export { MirrorError, isMirrorError, type MirrorErrorCode } from './errors.js';
export { openStore, type OpenOptions, type Store } from './store/open.js';
export { ingestStream } from './ingest/ingest-stream.js';
export { listStreams, type StreamFile } from './ingest/layout.js';
export { normalize, type NormalEvent } from './ingest/normalize.js';
export type { IngestOptions, IngestTotals } from './ingest/options.js';
export { importAll, type ImportOptions, type ImportSummary } from './import/import.js';
export { mirrorStatus, type MirrorStatus, type FileStatus } from './ops/status.js';
export { verifyMirror, type VerifyReport, type VerifyProblem } from './ops/verify.js';
