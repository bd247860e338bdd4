import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../fixtures/free-port.js';

/**
 * A PostgreSQL cluster that outlives the bench run, in DIR/data: made with
 * initdb on first use, started on a free port, stopped (data kept) at the
 * end, so that the scaling section's imported mirrors (minutes each at 10M
 * events) are there on the next run. The settings are those of
 * fixtures/pg-server.ts's throwaway server, which the pg section uses; like
 * it, as root the cluster belongs to the `postgres` user.
 */
export interface PgCluster {
  /** postgres://… of the cluster's `postgres` database. */
  readonly url: string;
  /** Stops the server; the data stays for the next run. */
  stop(): void;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return join(root, newest, 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0) return join(which.stdout.trim(), '..');
  throw new Error('PostgreSQL is not installed (no initdb): the scaling section needs it, or --pg-url, or --scaling-engines sqlite');
}

export async function persistentPg(dir: string): Promise<PgCluster> {
  const bin = binDir();
  const asRoot = userInfo().uid === 0;
  const data = join(dir, 'data');
  mkdirSync(dir, { recursive: true });
  if (asRoot) {
    const pw = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
    if (!pw) throw new Error('running as root and there is no `postgres` user to run PostgreSQL as; install Debian\'s postgresql package');
    const [, , uid, gid] = pw.split(':');
    chownSync(dir, Number(uid), Number(gid));
  }
  const run = (tool: string, args: string[]): void => {
    const cmd = asRoot ? ['runuser', '-u', 'postgres', '--', join(bin, tool), ...args] : [join(bin, tool), ...args];
    execFileSync(cmd[0]!, cmd.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], cwd: dir });
  };
  const running = (): boolean => {
    try {
      run('pg_ctl', ['-D', data, 'status']);
      return true;
    } catch {
      return false;
    }
  };
  if (!existsSync(join(data, 'PG_VERSION'))) {
    rmSync(data, { recursive: true, force: true });
    run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--locale=C', '-E', 'UTF8', '--no-sync']);
  } else if (running()) {
    // Left running by a run that was killed: on a port nobody will look up again.
    run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  }
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  let stopped = false;
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    stop() {
      if (stopped) return;
      stopped = true;
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    },
  };
}
