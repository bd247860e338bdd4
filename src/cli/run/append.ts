import { createInterface } from 'node:readline';
import { basename } from 'node:path';
import { MirrorError } from '../../errors.js';
import { parseStreamFile } from '../../model/streams.js';
import { createWriter, type Durability } from '../../writer/writer.js';
import { note, type Run } from '../context.js';

function parseEvent(text: string, where: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new MirrorError('INVALID_EVENT', `${where}: not valid JSON (${(err as Error).message})`);
  }
  return value as Record<string, unknown>;
}

/** `append events.jsonl ...` means stream events: a file name is taken as its stream, a rotated file's name is refused. */
function streamOf(name: string): string {
  const file = parseStreamFile(basename(name));
  if (!file) return name;
  if (file.rotation > 0 || basename(name) !== name) {
    throw new MirrorError('INVALID_ARGUMENT', `"${name}" is a log file, not a stream: appends go to the live file of a stream; give its name, e.g. ${file.stream}`);
  }
  return file.stream;
}

function durabilityOf(v: string | undefined): Durability {
  if (v === undefined || v === 'none') return 'none';
  if (v === 'always') return 'fsync';
  const ms = Number(v);
  if (Number.isInteger(ms) && ms > 0) return { intervalMs: ms };
  throw new MirrorError('INVALID_ARGUMENT', `--fsync is none, always or an interval in ms, not "${v}"`);
}

export const run: Run = async (g, o, args) => {
  const [stream, json] = [streamOf(args[0]!), args[1]];
  if (json === undefined) throw new MirrorError('INVALID_ARGUMENT', "give the event as JSON, or '-' to read events from stdin");
  const writer = createWriter({
    dir: g.dir, db: g.db, hostId: g.hostId, durability: durabilityOf(o.fsync as string | undefined), mirror: o.mirror as boolean,
    mode: json === '-' ? 'batched' : 'per-event',
    onProblem: (e) => note(`jsonl-mirror: mirror skipped (the file has the events; \`jsonl-mirror import\` catches up): ${e.message}`),
  });
  const refused: { line: number; reason: string }[] = [];
  try {
    if (json !== '-') {
      writer.append(stream, parseEvent(json, 'the event'));
    } else {
      let n = 0;
      for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
        n++;
        if (text.trim() === '') continue;
        try {
          writer.append(stream, parseEvent(text, `line ${n}`));
        } catch (err) {
          if (!(err instanceof MirrorError) || err.code !== 'INVALID_EVENT') throw err;
          const reason = err.message.startsWith('line ') ? err.message : `line ${n}: ${err.message}`;
          refused.push({ line: n, reason });
          note(`jsonl-mirror: refused ${reason}`);
        }
      }
    }
  } finally {
    writer.close();
  }
  const stats = writer.stats();
  const result = {
    stream, appended: stats.appended, mirrored: stats.mirrored, skipped: stats.skipped, rejected: stats.rejected, refused, problem: stats.problem,
  };
  // A line glued onto another writer's unfinished line is in the file, but as one malformed line: say so, never just "mirrored".
  const rejected = stats.rejected > 0
    ? ` (the mirror took ${stats.rejected === 1 ? 'a malformed line as a reject' : `${stats.rejected} malformed lines as rejects`}: ` +
      'a line of ours glued onto another writer\'s unfinished one, or a bad line of another writer; see `jsonl-mirror status`)'
    : '';
  return {
    json: result,
    human: o.quiet ? '' : `appended ${stats.appended} to ${stream}.jsonl; mirrored ${stats.mirrored}` +
      (stats.skipped ? `, ${stats.skipped} left for the next ingest` : '') + rejected + (refused.length ? `; refused ${refused.length}` : ''),
    exitCode: refused.length > 0 ? 1 : 0,
  };
};
