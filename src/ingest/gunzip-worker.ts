import { createReadStream, writeSync } from 'node:fs';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { workerData, type MessagePort } from 'node:worker_threads';
import { createGunzip } from 'node:zlib';
import type { GunzipReply, GunzipRequest } from './gunzip.js';

/**
 * The gzip side of ./gunzip.ts: inflates one archive at a time, streamed,
 * into the file it is told, and wakes the waiting thread through the shared
 * flag (node:zlib streams only asynchronously; the ingest is synchronous).
 */
const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };

function signal(slot: number): void {
  Atomics.add(flag, slot, 1);
  Atomics.notify(flag, slot);
}

port.on('message', (req: GunzipRequest) => {
  const reply = (r: GunzipReply): void => {
    port.postMessage({ ...r, id: req.id });
    signal(0);
  };
  // Into the caller's descriptor of a file that has no name any more (nothing is left behind, whatever ends the process),
  // which stays the caller's: a file stream would close it when the archive turns out damaged.
  const into = new Writable({
    write(chunk: Buffer, _encoding, done) {
      try {
        for (let at = 0; at < chunk.length; ) at += writeSync(req.fd, chunk, at);
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });
  pipeline(createReadStream(req.from), createGunzip(), into)
    .then(() => reply({ ok: true }))
    .catch((err: NodeJS.ErrnoException) => reply({ ok: false, code: err.code ?? 'ERR', message: err.message }));
});
signal(1);
