import type { ServerResponse } from 'node:http';

/** Rows per message; a larger commit (a catch-up) goes out as several messages. */
const PAGE = 1000;
/** A client this far behind on writes is dropped; it reconnects with Last-Event-ID and misses nothing. */
const MAX_BUFFERED = 8 * 1024 * 1024;
const HEARTBEAT_MS = 15_000;

interface Row {
  id: number;
  /** On a fleet mirror: the machine the event came from. */
  host?: string;
  stream: string;
  line: string;
}

/** What the feed reads of the mirror: its committed events in id order. */
export interface FeedSource {
  maxEventId(): number;
  eventsAfter(id: number, limit: number): Row[];
}

interface Client {
  res: ServerResponse;
  streams?: Set<string>;
  /** The last event id this client has been given (or skipped as not its stream). */
  cursor: number;
  /** Receives each new page as it is committed; false while it catches up from Last-Event-ID. */
  live: boolean;
}

/** A line is JSON already; one with a raw CR between its tokens would end an SSE line early, so it is re-serialised. */
const oneLine = (line: string): string => (line.includes('\r') ? JSON.stringify(JSON.parse(line)) : line);

/**
 * Server-Sent Events over the mirror's committed rows, in id (commit) order:
 * each message carries the rows committed since the previous one and `id:`
 * = the last row's id, so a client that reconnects with Last-Event-ID gets
 * exactly the rows after it, whatever happened to the files meanwhile
 * (rotation keeps rows and their ids).
 */
export class EventFeed {
  private readonly clients = new Set<Client>();
  /** Rows up to this id have been sent to every live client. */
  private head: number;
  private readonly heartbeat: NodeJS.Timeout;

  constructor(private readonly store: FeedSource) {
    this.head = this.maxId();
    this.heartbeat = setInterval(() => {
      for (const c of this.clients) c.res.write(': keep-alive\n\n');
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  private maxId(): number {
    return this.store.maxEventId();
  }

  private after(id: number, limit = PAGE): Row[] {
    return this.store.eventsAfter(id, limit);
  }

  get size(): number {
    return this.clients.size;
  }

  /** Sends what was committed since the last call to every live client; cheap when nothing was. */
  pump(): void {
    if (![...this.clients].some((c) => c.live)) {
      // Nobody listens live: a newcomer starts at the newest row, a resumer reads its own way there.
      this.head = this.maxId();
      return;
    }
    for (;;) {
      const rows = this.after(this.head);
      if (rows.length === 0) return;
      this.head = rows.at(-1)!.id;
      for (const c of this.clients) if (c.live) this.send(c, rows);
    }
  }

  /** A new subscriber: from Last-Event-ID when it gives one, else from now. */
  add(res: ServerResponse, opts: { lastEventId?: number; streams?: string[] }): void {
    this.pump();
    const c: Client = {
      res,
      streams: opts.streams && new Set(opts.streams),
      cursor: opts.lastEventId === undefined ? this.head : Math.min(opts.lastEventId, this.head),
      live: false,
    };
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 1000\n: jsonl-mirror feed from event id ${c.cursor}\n\n`);
    this.clients.add(c);
    res.on('close', () => this.clients.delete(c));
    this.catchUp(c);
  }

  /** Rows between the client's cursor and the head, page by page, waiting for the socket to drain; then live. */
  private catchUp(c: Client): void {
    while (c.cursor < this.head && this.clients.has(c)) {
      const rows = this.after(c.cursor).filter((r) => r.id <= this.head);
      if (rows.length === 0) break;
      if (!this.send(c, rows)) {
        c.res.once('drain', () => this.catchUp(c));
        return;
      }
    }
    if (this.clients.has(c)) {
      c.cursor = this.head;
      c.live = true;
    }
  }

  /** Writes one message; false when the socket's buffer is full. */
  private send(c: Client, rows: Row[]): boolean {
    const last = rows.at(-1)!.id;
    const mine = c.streams ? rows.filter((r) => c.streams!.has(r.stream)) : rows;
    c.cursor = last;
    if (mine.length === 0) return true;
    const events = mine
      .map((r) => `{"id":${r.id},${r.host === undefined ? '' : `"host":${JSON.stringify(r.host)},`}"stream":${JSON.stringify(r.stream)},"event":${oneLine(r.line)}}`)
      .join(',');
    const ok = c.res.write(`id: ${last}\ndata: {"events":[${events}]}\n\n`);
    if (c.res.writableLength > MAX_BUFFERED) c.res.destroy();
    return ok;
  }

  close(): void {
    clearInterval(this.heartbeat);
    for (const c of this.clients) c.res.end();
    this.clients.clear();
  }
}
