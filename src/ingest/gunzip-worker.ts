import { createReadStream, createWriteStream } from 'node:fs';
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
    port.postMessage(r);
    signal(0);
  };
  pipeline(createReadStream(req.from), createGunzip(), createWriteStream(req.to))
    .then(() => reply({ ok: true }))
    .catch((err: NodeJS.ErrnoException) => reply({ ok: false, code: err.code ?? 'ERR', message: err.message }));
});
signal(1);
