import { openMirror } from '../../ops/mirror.js';
import { dbLabel, isFleet } from '../../ops/place.js';
import { followEvents } from '../../tailer/follow-events.js';
import { createPgTailer } from '../../tailer/pg-tailer.js';
import { createTailer } from '../../tailer/tailer.js';
import { note, type CommandResult, type GlobalOptions, type Run } from '../context.js';
import { bytes, count, plural } from '../format.js';

export const run: Run = async (g, o) => {
  if (isFleet(g.db)) return tailFleet(g, o);
  const tailer = createTailer({
    dir: g.dir, db: g.db, streams: o.stream as string[] | undefined, polling: Boolean(o.poll), pollIntervalMs: o.pollInterval as number,
  });
  await tailer.start();
  // The lines as written: an event of any depth passes through without being parsed and re-serialised (also inside the tag).
  if (o.feed) {
    tailer.subscribe((b) => {
      const tag = o.tagStream ? `{"stream":${JSON.stringify(b.stream)},"event":` : '';
      for (const l of b.lines) process.stdout.write(tag ? `${tag}${l}}\n` : `${l}\n`);
    });
  }
  note(`jsonl-mirror: tailing ${g.dir} into ${g.db}; Ctrl-C to stop`);
  const every = (o.statusEvery as number | undefined) ?? (process.stderr.isTTY ? 10 : 0);
  // The rate since the previous line, not the lifetime average, which hides a stall or a burst.
  let last = { rows: tailer.stats().rows, at: Date.now() };
  const ticker = every > 0
    ? setInterval(() => {
        const s = tailer.stats();
        const now = Date.now();
        const recent = Math.round(((s.rows - last.rows) * 1000) / Math.max(1, now - last.at));
        last = { rows: s.rows, at: now };
        const lag = s.files.reduce((a, f) => a + f.lagBytes, 0);
        const oldest = Math.max(0, ...s.files.map((f) => f.lagSeconds));
        note(`jsonl-mirror tail: ${plural(s.rows, 'row')} (${count(recent)}/s over the last ${every} s), ${plural(s.rejects, 'reject')}, ` +
          `${bytes(lag)} behind${lag > 0 ? ` (${oldest.toFixed(0)} s)` : ''}`);
      }, every * 1000)
    : undefined;
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  if (ticker) clearInterval(ticker);
  await tailer.stop();
  const s = tailer.stats();
  const summary = { rows: s.rows, rejects: s.rejects, rowsPerSecond: s.rowsPerSecond, startedAt: s.startedAt };
  const human = `stopped: mirrored ${plural(s.rows, 'event')} and ${plural(s.rejects, 'rejected line')} since ${s.startedAt}`;
  if (o.feed) {
    // stdout carries the feed's NDJSON only.
    note(g.json ? JSON.stringify(summary) : human);
    return { json: summary, printed: true };
  }
  return { json: summary, human };
};

/** tail into a fleet mirror: this host's tailer, until SIGINT/SIGTERM or until it has to give up. */
async function tailFleet(g: GlobalOptions, o: Record<string, unknown>): Promise<CommandResult> {
  const tailer = createPgTailer({ dir: g.dir, url: g.db, hostId: g.hostId, streams: o.stream as string[] | undefined });
  let stop: () => void = () => {};
  const signalled = new Promise<void>((resolve) => {
    stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await Promise.race([tailer.start(), signalled]);
  // The feed is every host's new events (what a dashboard of the fleet sees), read on a connection of its own.
  const view = o.feed ? openMirror(g.db, { readonly: true }, g.hostId) : undefined;
  const feed = view && followEvents(view, (rows) => {
    for (const r of rows) {
      process.stdout.write(o.tagStream ? `{"stream":${JSON.stringify(r.stream)},"host":${JSON.stringify(r.host)},"event":${r.line}}\n` : `${r.line}\n`);
    }
  }, (err) => note(`jsonl-mirror tail --feed: ${(err as Error).message}`));
  // Announced once the feed has its starting point: whatever commits after this line is printed.
  note(`jsonl-mirror: tailing ${g.dir} into ${dbLabel(g.db)} as host ${g.hostId}; Ctrl-C to stop`);
  try {
    await Promise.race([signalled, tailer.finished]);
  } finally {
    feed?.stop();
    view?.close();
    await tailer.stop();
  }
  const s = tailer.stats();
  const summary = { rows: s.rows, rejects: s.rejects, reconnects: s.reconnects, startedAt: s.startedAt, host: g.hostId };
  const human = `stopped: mirrored ${plural(s.rows, 'event')} and ${plural(s.rejects, 'rejected line')} as host ${g.hostId} since ${s.startedAt}`;
  if (o.feed) {
    // stdout carries the feed's NDJSON only.
    note(g.json ? JSON.stringify(summary) : human);
    return { json: summary, printed: true };
  }
  return { json: summary, human };
}
