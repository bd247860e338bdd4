import type { SyncPg } from './bridge.js';
import { PG_HOSTS_SQL } from './read-sql.js';

/** One host of a fleet mirror as its sources record it. */
export interface HostStatus {
  host: string;
  sources: number;
  rows: number;
  rejects: number;
  /** Bytes between each file's checkpoint and its size when last read. */
  lag_bytes: number;
  updated_at: string | null;
}

export function fleetHosts(pg: SyncPg): HostStatus[] {
  return pg.query<HostStatus>(PG_HOSTS_SQL).rows;
}
