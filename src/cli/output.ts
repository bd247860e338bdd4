import { writeSync } from 'node:fs';

/**
 * Blocking writes to stdout keep memory flat on a slow pipe; a closed pipe
 * (`| head`) ends the output quietly. Returns false once the reader is gone.
 * A non-blocking stdout may take part of a write or none (EAGAIN): the rest is
 * written after a short wait, so piped output is never cut short.
 */
export function writeOut(text: string): boolean {
  const buf = Buffer.from(text);
  let done = 0;
  while (done < buf.length) {
    try {
      done += writeSync(1, buf, done, buf.length - done);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EPIPE') return false;
      if (code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
  return true;
}

/** Collects small writes into large ones; `write` returns false once stdout is closed. */
export class Chunked {
  private chunk = '';
  open = true;
  constructor(private readonly limit = 1 << 16) {}

  write(text: string): boolean {
    this.chunk += text;
    if (this.chunk.length >= this.limit) this.flush();
    return this.open;
  }

  flush(): boolean {
    if (this.open && this.chunk !== '') this.open = writeOut(this.chunk);
    this.chunk = '';
    return this.open;
  }
}
