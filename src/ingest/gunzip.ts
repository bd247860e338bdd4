import { existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';

export interface GunzipRequest {
  from: string;
  to: string;
}
export type GunzipReply = { ok: true } | { ok: false; code: string; message: string };

const WORKER_SCRIPT = new URL('./gunzip-worker.js', import.meta.url);

/** How long a new inflating thread may take to start before archives are inflated in memory instead. */
const START_TIMEOUT_MS = 10_000;
/** An archive inflating longer than this is given up on (a stalled disk): the file is skipped with a warning. */
const INFLATE_TIMEOUT_MS = 10 * 60_000;

/** A worker thread that inflates archives with node:zlib's streams while the caller waits (the ingest is synchronous). */
class Inflater {
  private readonly worker: Worker;
  private readonly port: MessagePort;
  /** [0]: replies sent, [1]: the worker is listening. */
  private readonly flag = new Int32Array(new SharedArrayBuffer(8));

  constructor() {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    this.worker = new Worker(WORKER_SCRIPT, {
      workerData: { port: port2, flag: this.flag },
      transferList: [port2],
      // An inherited --input-type makes the worker refuse its own file.
      execArgv: process.execArgv.filter((a) => !a.startsWith('--input-type')),
    });
    // Never what keeps the process alive; a failure to start is seen by started(), and this keeps its event from being unhandled.
    this.worker.unref();
    this.worker.on('error', () => {});
    this.port.unref();
  }

  /** False when the thread did not start listening in time: then it is ended. */
  started(): boolean {
    if (Atomics.load(this.flag, 1) > 0 || Atomics.wait(this.flag, 1, 0, START_TIMEOUT_MS) !== 'timed-out') return true;
    void this.worker.terminate();
    return false;
  }

  inflate(from: string, to: string): GunzipReply {
    const seen = Atomics.load(this.flag, 0);
    this.port.postMessage({ from, to } satisfies GunzipRequest);
    if (Atomics.wait(this.flag, 0, seen, INFLATE_TIMEOUT_MS) === 'timed-out') {
      return { ok: false, code: 'ETIMEDOUT', message: `still inflating after ${INFLATE_TIMEOUT_MS / 60_000} minutes` };
    }
    const got = receiveMessageOnPort(this.port);
    return (got?.message as GunzipReply | undefined) ?? { ok: false, code: 'ERR', message: 'the inflating thread gave no answer' };
  }
}

let inflater: Inflater | null | undefined;

/** Where no worker thread starts (a runtime without them), the archive is inflated in memory: correct, only not streamed. */
function inflateInMemory(from: string, to: string): GunzipReply {
  try {
    writeFileSync(to, gunzipSync(readFileSync(from)));
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'ERR', message: e.message };
  }
}

function inflate(from: string, to: string): GunzipReply {
  if (inflater === undefined) {
    // Running from the TypeScript sources there is no built worker script.
    const candidate = existsSync(fileURLToPath(WORKER_SCRIPT)) ? new Inflater() : undefined;
    inflater = candidate?.started() ? candidate : null;
  }
  return inflater ? inflater.inflate(from, to) : inflateInMemory(from, to);
}

export type Inflated = { fd: number; size: number } | { error: string };

/**
 * The content of a gzip archive as a readable descriptor: inflated, streamed,
 * into a private temporary file that is unlinked at once (the descriptor
 * keeps it until closed), so the line reader treats it like any log file.
 * A truncated or corrupt archive is an error saying so, never partial content.
 */
export function openInflated(path: string, archive: Stats): Inflated {
  // A damaged archive is inflated once, not on every pass of a tailer.
  const key = `${path}\0${archive.dev}:${archive.ino}:${archive.size}:${archive.mtimeMs}`;
  const known = damaged.get(key);
  if (known) return { error: known };
  const got = inflateToFd(path);
  if ('error' in got && got.error !== 'ENOENT') damaged.set(key, got.error);
  return got;
}

const damaged = new Map<string, string>();

function inflateToFd(path: string): Inflated {
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-mirror-gz-'));
  const to = join(dir, 'content');
  try {
    const r = inflate(path, to);
    if (!r.ok) {
      if (r.code === 'ENOENT') return { error: 'ENOENT' };
      return { error: r.code === 'Z_BUF_ERROR' ? 'the archive is truncated' : `the archive is corrupt (${r.message})` };
    }
    const fd = openSync(to, 'r');
    return { fd, size: fstatSync(fd).size };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

