import { closeSync, existsSync, fstatSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeSync, type Stats } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { gunzipSync } from 'node:zlib';

export interface GunzipRequest {
  id: number;
  from: string;
  /** Where the content goes: a descriptor open for writing, of a file already unlinked. */
  fd: number;
}
export type GunzipReply = ({ ok: true } | { ok: false; code: string; message: string }) & { id?: number };

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

  private lastId = 0;

  /** The archive's content into `fd`; a thread that gave up waiting is ended (a late reply would answer the next archive). */
  inflate(from: string, fd: number): GunzipReply {
    const id = ++this.lastId;
    const seen = Atomics.load(this.flag, 0);
    this.port.postMessage({ id, from, fd } satisfies GunzipRequest);
    if (Atomics.wait(this.flag, 0, seen, INFLATE_TIMEOUT_MS) === 'timed-out') {
      this.end();
      return { ok: false, code: 'ETIMEDOUT', message: `still inflating after ${INFLATE_TIMEOUT_MS / 60_000} minutes` };
    }
    const got = receiveMessageOnPort(this.port)?.message as GunzipReply | undefined;
    if (got?.id === id) return got;
    this.end();
    return { ok: false, code: 'ERR', message: 'the inflating thread gave no answer' };
  }

  private end(): void {
    void this.worker.terminate();
    if (inflater === this) inflater = undefined;
  }
}

let inflater: Inflater | null | undefined;

/** Where no worker thread starts (a runtime without them), the archive is inflated in memory: correct, only not streamed. */
function inflateInMemory(from: string, fd: number): GunzipReply {
  try {
    writeSync(fd, gunzipSync(readFileSync(from)));
    return { ok: true };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    return { ok: false, code: e.code ?? 'ERR', message: e.message };
  }
}

function inflate(from: string, fd: number): GunzipReply {
  if (inflater === undefined) {
    // Running from the TypeScript sources there is no built worker script.
    const candidate = existsSync(fileURLToPath(WORKER_SCRIPT)) ? new Inflater() : undefined;
    inflater = candidate?.started() ? candidate : null;
  }
  return inflater ? inflater.inflate(from, fd) : inflateInMemory(from, fd);
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
  if ('error' in got && got.error !== 'ENOENT') {
    if (damaged.size >= 1000) damaged.clear(); // archives still being written add a key per size they were seen at
    damaged.set(key, got.error);
  }
  return got;
}

const damaged = new Map<string, string>();

function inflateToFd(path: string): Inflated {
  // A private file whose name is gone before a byte is written: nothing stays in the temp folder, however the process ends.
  const dir = mkdtempSync(join(tmpdir(), 'jsonl-mirror-gz-'));
  let fd: number;
  try {
    fd = openSync(join(dir, 'content'), 'w+');
    unlinkSync(join(dir, 'content'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const r = inflate(path, fd);
  if (!r.ok) {
    closeSync(fd);
    if (r.code === 'ENOENT') return { error: 'ENOENT' };
    return { error: r.code === 'Z_BUF_ERROR' ? 'the archive is truncated' : `the archive is corrupt (${r.message})` };
  }
  return { fd, size: fstatSync(fd).size };
}
