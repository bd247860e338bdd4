import type { IngestOptions } from '../ingest/options.js';
import { ScanSource } from '../read/scan-source.js';

// The files as a reader's backend: its own module, so that a reader held to `sqlite` or PostgreSQL never loads it.

export const scanSource = (dir: string, ingest: IngestOptions | undefined): ScanSource => new ScanSource(dir, ingest);
