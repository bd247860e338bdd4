import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/**
 * A real PostgreSQL for the tests: Debian's `postgresql` binaries, a cluster
 * made with initdb in a temporary directory, served by pg_ctl on a free
 * port, stopped and removed afterwards. PostgreSQL refuses to run as root,
 * so as root the cluster belongs to the `postgres` user. Missing binaries
 * fail the suite: these tests never skip.
 */
function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (newest) return join(root, newest, 'bin');
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  if (which.status === 0) return join(which.stdout.trim(), '..');
  throw new Error('PostgreSQL is not installed (no initdb): run `apt-get install -y postgresql` (.ci/run does) — these tests need a real server');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

export interface PgServer {
  /** postgres://… of the server's `postgres` database. */
  readonly url: string;
  /** A fresh, empty database; its URL. */
  createDb(name: string): Promise<string>;
  /** Stops the server at once (as a crash would) and starts it again on the same port. */
  restart(): void;
  /** Stops the server at once (the database unreachable) until up(). */
  down(): void;
  up(): void;
  /** Stops it for good and removes its directory. */
  stop(): void;
}

export async function startPg(): Promise<PgServer> {
  const bin = binDir();
  const asRoot = userInfo().uid === 0;
  const dir = mkdtempSync(join(tmpdir(), 'jm-pg-'));
  const data = join(dir, 'data');
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
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--locale=C', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => run('pg_ctl', ['-D', data, '-o', opts, '-l', join(dir, 'log'), '-w', 'start']);
  const stopWith = (mode: string) => run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
  start();
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let stopped = false;
  return {
    url,
    async createDb(name) {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name}`);
        await c.query(`CREATE DATABASE ${name}`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    restart() {
      stopWith('immediate');
      start();
    },
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        stopWith('immediate');
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
    down: () => stopWith('immediate'),
    up: start,
  };
}
