import { statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MirrorError, option } from '../errors.js';
import { assertDir, listStreams, useHistoryDir } from '../ingest/layout.js';
import { DEFAULT_CONFIG, type MetricsConfig } from '../metrics/config.js';
import { mirrorStatus, type MirrorStatus } from '../ops/status.js';
import { createReader, type Reader, type SourceChoice } from '../api/reader.js';
import { openMirrorView } from '../ops/mirror.js';
import { tailerHolder } from '../tailer/live-tailer.js';
import { defaultHostId } from '../model/mirror-db.js';
import { assertBindable, Auth } from './auth.js';
import { BodyCache, type CachedBody, notModified, StateProbe } from './cache.js';
import { ReadPool } from '../api/read-pool.js';
import { EventFeed } from './feed.js';
import { keepCurrent, type Live } from './live.js';
import { HttpError } from './http-error.js';
import { MAX_URL_BYTES, Query } from './params.js';
import { type ApiRoute, matchRoute, routeLabel, type RouteContext } from './routes.js';
import type { ScrapeState, ServerMetrics } from './prometheus.js';
import { fleetGauges, type StreamGauge } from '../ops/stream-gauges.js';
import { loadStatic, staticKey, type StaticFile } from './static.js';

export interface ServerOptions {
  /** The log directory. */
  dir: string;
  /** Where logrotate's `olddir` moves this folder's rotated generations (default: the folder's jsonl-mirror.json `historyDir`, else $JSONL_MIRROR_HISTORY_DIR). */
  historyDir?: string;
  /** The mirror (default DIR/mirror.db). */
  db?: string;
  /** Which backend answers the metrics, as the CLI's --source (default auto). */
  source?: SourceChoice;
  config?: MetricsConfig;
  /** On a fleet (PostgreSQL) mirror: the machine this server's tailer ingests for and its status describes (default: $JSONL_MIRROR_HOST_ID, else the hostname). */
  hostId?: string;
  /** Default 127.0.0.1; any other address needs `token`. */
  host?: string;
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Required off loopback: Bearer header, cookie, or ?token= once. */
  token?: string;
  /** The one origin allowed to call the API from a browser (default: none). */
  cors?: string;
  /** Run the tailer in this process when no other process runs one (default true). */
  tail?: boolean;
  /** How old the sampled state of the files may be, ms (default 100): a burst of requests costs one readdir. */
  refreshMs?: number;
  /** Problems the server survives (a tailer error, a fallback to the files); default: a line on stderr. */
  onNote?: (message: string) => void;
}

export interface MirrorServer {
  /** Starts the tailer (or follows the running one) and binds; resolves to the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
  readonly url: string;
  readonly reader: Reader;
}

const SECURITY_HEADERS: OutgoingHttpHeaders = { 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' };
const PAGE_HEADERS: OutgoingHttpHeaders = {
  'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
  'x-frame-options': 'DENY',
};

/** The server's read-only view of the mirror, as the library opens it. */
type MirrorView = NonNullable<ReturnType<typeof openMirrorView>>;

/** After a failed open, how long until the view is tried again: a database server away must not be dialled on every poll. */
const REOPEN_MS = 2000;
/** Threads of the read pool for a mirror whose reads wait on a database server. */
const READ_THREADS = 4;

function statusOf(err: unknown): number {
  if (err instanceof HttpError) return err.status;
  if (err instanceof MirrorError) return err.code === 'INVALID_ARGUMENT' ? 400 : 503;
  return 500;
}

/**
 * The dashboard API over HTTP, read-only: one long-lived reader, answers
 * cached per request until the files change, an SSE feed of committed rows,
 * and the web dashboard.
 */
export function createServer(opts: ServerOptions): MirrorServer {
  useHistoryDir(opts.dir, opts.historyDir);
  const host = opts.host ?? '127.0.0.1';
  const hostId = opts.hostId ?? defaultHostId();
  const db = opts.db ?? join(opts.dir, 'mirror.db');
  const note = opts.onNote ?? ((m: string) => process.stderr.write(`jsonl-mirror serve: ${m}\n`));
  const auth = new Auth(opts.token);
  const probe = new StateProbe(opts.dir, opts.refreshMs ?? 100, () => view?.changeStamp() ?? '-');
  const cache = new BodyCache();
  const files = loadStatic();
  let reader: Reader | undefined;
  let pool: ReadPool | undefined;
  /** Answers the read pool is computing, by request and state. */
  const inFlight = new Map<string, Promise<CachedBody>>();
  let view: MirrorView | undefined;
  let viewRetryAt = 0;
  let viewProblem: string | undefined;
  let feed: EventFeed | undefined;
  let live: Live | undefined;
  let http: Server | undefined;
  let url = '';
  let lastStatus: { state: string; value: MirrorStatus } | undefined;

  const openReader = () => createReader({ dir: opts.dir, db, source: opts.source, config: opts.config ?? DEFAULT_CONFIG, onFallback: note, onProblem: note });
  /** The mirror's inode when last looked at; null: no mirror. */
  let mirrorIno: number | null | undefined;
  /** The mirror file is another one than the one we opened (rebuilt, deleted, or created since). */
  function replaced(): boolean {
    const ino = statSync(db, { throwIfNoEntry: false })?.ino ?? null;
    const was = mirrorIno;
    mirrorIno = ino;
    return was !== undefined && ino !== was;
  }

  /** The read-only view of the mirror, opened when there is one to open; each new reason it cannot be is told once. */
  function openView(): MirrorView | undefined {
    if (view || performance.now() < viewRetryAt) return view;
    view = openMirrorView(db, hostId, (problem) => {
      if (problem !== viewProblem) note(problem);
      viewProblem = problem;
      viewRetryAt = performance.now() + REOPEN_MS;
    });
    if (view) viewProblem = undefined;
    return view;
  }

  function status(): MirrorStatus {
    openView();
    if (!view) throw new MirrorError('DB_MISSING', `no usable mirror at ${db}; run \`jsonl-mirror import\` (or let serve's tailer create it)`);
    const state = probe.current();
    if (lastStatus?.state !== state) lastStatus = { state, value: mirrorStatus(view, opts.dir) };
    return lastStatus.value;
  }

  function health(): unknown {
    const r = reader!;
    let mirror: unknown = null;
    let hosts: unknown = null;
    let mirrorProblem: string | null = null;
    try {
      const s = status();
      mirror = { db: s.db, dbBytes: s.dbBytes, schemaVersion: s.schemaVersion, ...s.totals, rejectsByReason: s.rejectsByReason, lastImport: s.lastImport };
      hosts = s.fleet?.hosts ?? null;
    } catch (err) {
      mirrorProblem = (err as Error).message;
    }
    const l = live!.status();
    return {
      backend: r.backend,
      fallbackReason: r.fallbackReason,
      lagBytes: r.lagBytes,
      streams: [...listStreams(opts.dir).keys()],
      mirror,
      /** A fleet mirror's machines (rows, rejects, lag as each last recorded them); null for a one-machine mirror. */
      hosts,
      mirrorProblem,
      tailer: {
        mode: l.mode,
        pid: l.holder?.pid ?? null,
        host: l.holder?.host ?? null,
        startedAt: l.holder?.startedAt ?? null,
        rowsPerSecond: l.stats?.rowsPerSecond ?? null,
        lagBytes: l.stats ? l.stats.files.reduce((a, f) => a + f.lagBytes, 0) : null,
      },
      feedClients: feed?.size ?? 0,
    };
  }

  // Loaded by listen(): prom-client takes ~50 ms to load, which a library user who only reads should not pay.
  let metrics: ServerMetrics | undefined;
  function scrapeState(): ScrapeState {
    let streams: StreamGauge[] | undefined;
    try {
      openView();
      streams = view ? fleetGauges(view, opts.dir, hostId) : undefined;
    } catch (err) {
      // A mirror that cannot be read now: jsonl_mirror_up says so, /api/health says why, and so does this note.
      note(`/metrics: ${(err as Error).message}`);
    }
    const l = live?.status();
    return { streams, tailerUp: l !== undefined && (l.mode === 'tailer' || l.holder !== null), lastCommit: view?.lastCommitSeconds() ?? null };
  }

  function scrape(res: ServerResponse, head: boolean, extra: OutgoingHttpHeaders): void {
    const m = metrics!;
    m.text().then(
      (body) => send(res, 200, { ...extra, 'content-type': m.contentType, 'cache-control': 'no-store' }, head ? undefined : body),
      (err) => sendError(res, err),
    );
  }

  const send = (res: ServerResponse, status: number, headers: OutgoingHttpHeaders, body?: Buffer | string) => {
    res.writeHead(status, { ...SECURITY_HEADERS, ...headers });
    res.end(body);
  };

  function sendError(res: ServerResponse, err: unknown): void {
    const status = statusOf(err);
    const code = err instanceof HttpError || err instanceof MirrorError ? err.code : 'INTERNAL';
    const message = err instanceof Error ? err.message : String(err);
    if (status === 500) note(`internal error: ${(err as Error)?.stack ?? message}`);
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' }, JSON.stringify({ error: { code, message } }));
  }

  function cors(req: IncomingMessage, res: ServerResponse): void {
    if (!opts.cors || req.headers.origin !== opts.cors) return;
    res.setHeader('access-control-allow-origin', opts.cors);
    res.setHeader('access-control-expose-headers', 'ETag');
    res.setHeader('vary', 'Origin');
  }

  function api(req: IncomingMessage, res: ServerResponse, path: string, search: URLSearchParams, head: boolean, extra: OutgoingHttpHeaders): void {
    const match = matchRoute(path);
    if (!match) throw new HttpError(404, 'NOT_FOUND', `no endpoint ${path.slice(0, 100)}`);
    const { route, arg } = match;
    const host = hostParam(search, route, path);
    const q = new Query(search, route.params);
    const options = route.options(q, arg);
    const ctx: RouteContext = { reader: reader!, status, health };
    const headers = { ...extra, 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-cache' };
    if (route.cached === false) {
      send(res, 200, { ...headers, 'cache-control': 'no-store' }, head ? undefined : JSON.stringify(route.run(ctx, options)));
      return;
    }
    const key = `${path}?${JSON.stringify(options)}${host === undefined ? '' : `&host=${host}`}`;
    const state = probe.current();
    const answer = (entry: CachedBody) => {
      if (notModified(req.headers['if-none-match'], entry.etag)) {
        send(res, 304, { ...extra, etag: entry.etag, 'cache-control': 'no-cache' });
        return;
      }
      send(res, 200, { ...headers, etag: entry.etag, 'content-length': entry.body.length }, head ? undefined : entry.body);
    };
    const kept = cache.fresh(key, state);
    if (kept) return answer(kept);
    if (pool && route.metric) {
      // Clients polling the same answer after a commit wait for one computation of it, not one each.
      const flight = `${key}\n${state}`;
      let body = inFlight.get(flight);
      if (!body) {
        body = pool.body(route.metric, options, host).then((json) => cache.put(key, state, json));
        inFlight.set(flight, body);
        const landed = () => inFlight.delete(flight);
        body.then(landed, landed);
      }
      body.then(answer, (err) => sendError(res, err));
      return;
    }
    answer(cache.get(key, state, () => route.run(ctx, options)));
  }

  /** `?host=`: one machine of a fleet mirror (whose reads are the read pool's); taken off the query the route reads. */
  function hostParam(search: URLSearchParams, route: ApiRoute, path: string): string | undefined {
    const host = search.get('host');
    if (host === null) return undefined;
    search.delete('host');
    if (!pool) throw new HttpError(400, 'INVALID_ARGUMENT', "?host= picks one machine of a fleet (PostgreSQL) mirror; this mirror holds one machine's events");
    if (!route.metric) throw new HttpError(400, 'INVALID_ARGUMENT', `?host= picks one machine's events for a metric; ${path} covers the whole mirror`);
    if (host === '' || host.length > 255) throw new HttpError(400, 'INVALID_ARGUMENT', '?host= names a host id, as `jsonl-mirror status` lists them');
    return host;
  }

  function stream(req: IncomingMessage, res: ServerResponse, search: URLSearchParams, extra: OutgoingHttpHeaders): void {
    const q = new Query(search, ['stream']);
    const streams = q.streams();
    if (!feed) throw new MirrorError('DB_MISSING', `the live feed follows the mirror's committed rows, and there is no usable mirror at ${db}`);
    const header = req.headers['last-event-id'];
    let lastEventId: number | undefined;
    if (header !== undefined && header !== '') {
      lastEventId = Number(header);
      if (!Number.isSafeInteger(lastEventId) || lastEventId < 0) throw new HttpError(400, 'INVALID_ARGUMENT', `Last-Event-ID must be an event id, got "${String(header).slice(0, 40)}"`);
    }
    for (const [k, v] of Object.entries({ ...SECURITY_HEADERS, ...extra })) res.setHeader(k, v as string);
    feed.add(res, { lastEventId, streams });
  }

  function page(res: ServerResponse, req: IncomingMessage, file: StaticFile, head: boolean, extra: OutgoingHttpHeaders): void {
    const headers: OutgoingHttpHeaders = { ...extra, ...(file.type.startsWith('text/html') ? PAGE_HEADERS : {}), etag: file.etag, 'cache-control': 'no-cache' };
    if (notModified(req.headers['if-none-match'], file.etag)) {
      send(res, 304, headers);
      return;
    }
    send(res, 200, { ...headers, 'content-type': file.type, 'content-length': file.body.length }, head ? undefined : file.body);
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const raw = req.url ?? '/';
    const route = routeLabel(raw.split('?', 1)[0]!);
    res.once('close', () => {
      // A client gone before any answer was sent is no status code.
      const code = res.headersSent ? String(res.statusCode) : 'aborted';
      metrics?.observe(route, code, route === '/api/stream' ? undefined : (performance.now() - started) / 1000);
    });
    try {
      if (Buffer.byteLength(raw) > MAX_URL_BYTES) throw new HttpError(414, 'URI_TOO_LONG', `the request line is longer than ${MAX_URL_BYTES} bytes`);
      cors(req, res);
      if (req.method === 'OPTIONS' && opts.cors && req.headers.origin === opts.cors) {
        send(res, 204, {
          'access-control-allow-methods': 'GET, HEAD',
          'access-control-allow-headers': 'Authorization, If-None-Match, Last-Event-ID, Cache-Control',
          'access-control-max-age': '600',
        });
        return;
      }
      if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'this server only reads: GET or HEAD');
      const head = req.method === 'HEAD';
      if (!raw.startsWith('/')) throw new HttpError(400, 'BAD_PATH', 'the request target must be a path');
      // Prefixed, not resolved against a base: `//x/y` is a path here, not a host.
      const parsed = new URL(`http://localhost${raw}`);
      const admission = auth.admit(req, parsed.searchParams);
      const extra: OutgoingHttpHeaders = admission.setCookie ? { 'set-cookie': admission.setCookie } : {};
      const path = parsed.pathname;
      if (path === '/metrics') return scrape(res, head, extra);
      if (path === '/api/stream') {
        if (head) throw new HttpError(405, 'METHOD_NOT_ALLOWED', 'the live feed is a GET');
        return stream(req, res, parsed.searchParams, extra);
      }
      if (path.startsWith('/api/')) return api(req, res, path, parsed.searchParams, head, extra);
      const file = files.get(staticKey(path));
      if (!file) throw new HttpError(404, 'NOT_FOUND', `no page ${path.slice(0, 100)}`);
      if (admission.setCookie) {
        // Logged in: the cookie carries the token from now on, so it leaves the address bar and history.
        parsed.searchParams.delete('token');
        send(res, 303, { ...extra, location: `${parsed.pathname}${parsed.search}` });
        return;
      }
      page(res, req, file, head, extra);
    } catch (err) {
      sendError(res, err);
    }
  }

  return {
    get url() {
      return url;
    },
    get reader() {
      if (!reader) throw new Error('listen() first');
      return reader;
    },
    async listen() {
      assertDir(opts.dir);
      assertBindable(host, opts.token);
      // Before the tailer starts: a failure here must leave nothing running.
      metrics = new (await import('./prometheus.js')).ServerMetrics(hostId, scrapeState, note);
      openView();
      live = await keepCurrent({
        dir: opts.dir,
        db,
        hostId,
        tail: opts.tail ?? true,
        holder: () => (view ? tailerHolder(view, opts.dir) : null),
        onChange: () => {
          try {
            if (replaced()) {
              // A rebuild (or a deleted mirror) swapped the file: reopen everything on the new one. Feed clients reconnect.
              note(`${db} was replaced; reopening it`);
              feed?.close();
              feed = undefined;
              view?.close();
              view = undefined;
              lastStatus = undefined;
              reader?.close();
              reader = openReader();
            }
            openView();
            if (view && !feed) feed = new EventFeed(view);
            feed?.pump();
          } catch (err) {
            // Called from the tailer's feed: a problem here must not become the tailer's.
            note(`live feed: ${(err as Error).message}`);
          }
        },
        onError: (err) => note((err as Error).message ?? String(err)),
      });
      openView();
      if (view) feed ??= new EventFeed(view);
      reader = openReader();
      if (reader.remote) {
        pool = new ReadPool({ dir: opts.dir, historyDir: opts.historyDir, db, source: opts.source, config: opts.config ?? DEFAULT_CONFIG }, READ_THREADS, { onFallback: note, onProblem: note });
      }
      http = createHttpServer({ maxHeaderSize: 16 * 1024 }, handle);
      const server = http;
      await new Promise<void>((resolve, reject) => {
        server.once('error', (err: NodeJS.ErrnoException) => {
          reject(
            err.code === 'EADDRINUSE'
              ? new MirrorError('INVALID_ARGUMENT', `port ${opts.port ?? 8787} on ${host} is in use; pass ${option('port')} with a free one`)
              : err,
          );
        });
        server.listen(opts.port ?? 8787, host, () => resolve());
      });
      const a = server.address() as AddressInfo;
      url = `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
      return url;
    },
    async close() {
      feed?.close();
      if (http) {
        const server = http;
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      }
      await live?.stop();
      await pool?.close();
      reader?.close();
      view?.close();
    },
  };
}
