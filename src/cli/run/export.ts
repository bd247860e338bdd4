import { fstatSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MirrorError } from '../../errors.js';
import { exportLines } from '../../ops/export.js';
import { Chunked } from '../output.js';
import { listStreams } from '../../ingest/layout.js';
import { note, type Run } from '../context.js';
import { openMirror } from '../../ops/mirror.js';
import { plural } from '../format.js';

/**
 * `export > x.jsonl` inside the log folder would make the export a stream
 * of its own, mirrored a second time by the next import: refuse before
 * writing anything when stdout is a log file of --dir.
 */
function refuseLogAsOutput(dir: string): void {
  let out;
  try {
    out = fstatSync(1);
  } catch {
    return;
  }
  if (!out.isFile()) return;
  let streams;
  try {
    streams = listStreams(dir);
  } catch {
    return; // no folder to list, so no log the export could land in
  }
  for (const list of streams.values()) {
    for (const f of list) {
      const st = statSync(join(dir, f.name), { throwIfNoEntry: false });
      if (st && st.dev === out.dev && st.ino === out.ino) {
        // The shell created the file before we ran: empty, it would become a stream of its own; say so, we never delete it.
        const made = st.size === 0 ? `; your shell has already created it empty: remove it (rm ${join(dir, f.name)}) or it becomes stream "${f.stream}"` : '';
        throw new MirrorError(
          'INVALID_ARGUMENT',
          `stdout is ${join(dir, f.name)}, a log file of stream "${f.stream}": the next import would mirror the export a second time; ` +
            `nothing was exported${made}. Write it outside ${dir}, or under a name that is not NAME.jsonl (e.g. ${f.stream}-export.ndjson)`,
        );
      }
    }
  }
}

export const run: Run = (g, o) => {
  if (o.sort !== 'file' && o.sort !== 'time') throw new MirrorError('INVALID_ARGUMENT', `--sort is file or time, not "${o.sort}"`);
  refuseLogAsOutput(g.dir);
  const store = openMirror(g.db, { readonly: true }, g.hostId);
  let n = 0;
  try {
    const out = new Chunked(1 << 20);
    out.write(g.json ? '[' : '');
    for (const line of exportLines(store, { streams: o.stream as string[] | undefined, since: o.since as number | undefined,
      until: o.until as number | undefined, sort: o.sort as 'file' | 'time', host: (o.fromHost ?? o.host) as string | undefined })) {
      if (!out.write(g.json ? `${n === 0 ? '' : ','}${line}` : `${line}\n`)) break;
      n++;
    }
    out.write(g.json ? ']\n' : '');
    out.flush();
  } finally {
    store.close();
  }
  note(`jsonl-mirror: exported ${plural(n, 'event')}`);
  return { json: null, printed: true };
};
