import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../fixtures/free-port.js';
import { pgCluster } from '../fixtures/pg-server.js';

/**
 * A PostgreSQL cluster that outlives the bench run, in DIR/data: made with
 * initdb on first use, started on a free port, stopped (data kept) at the
 * end, so that the scaling section's imported mirrors (minutes each at 10M
 * events) are there on the next run. The cluster's tools and settings are
 * fixtures/pg-server.ts's (the throwaway server the pg section and the tests use).
 */
export interface PersistentPg {
  /** postgres://… of the cluster's `postgres` database. */
  readonly url: string;
  /** Stops the server; the data stays for the next run. */
  stop(): void;
}

export async function persistentPg(dir: string): Promise<PersistentPg> {
  mkdirSync(dir, { recursive: true });
  const cluster = pgCluster(dir, 'the scaling section needs it, or --pg-url, or --scaling-engines sqlite');
  if (!existsSync(join(cluster.data, 'PG_VERSION'))) {
    rmSync(cluster.data, { recursive: true, force: true });
    cluster.initdb();
  } else if (cluster.running()) {
    // Left running by a run that was killed: on a port nobody will look up again.
    cluster.stop('fast');
  }
  const port = await freePort();
  cluster.start(port);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      cluster.stop('fast');
    },
  };
}
