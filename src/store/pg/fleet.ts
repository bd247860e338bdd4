import type { HostStatus } from '../api.js';
import type { SyncPg } from './bridge.js';
import { PG_HOSTS_SQL } from './read-sql.js';

export function fleetHosts(pg: SyncPg): HostStatus[] {
  return pg.query<HostStatus>(PG_HOSTS_SQL).rows;
}
