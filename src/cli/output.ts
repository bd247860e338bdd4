import { writeSync } from 'node:fs';

/**
 * Blocking writes to stdout keep memory flat on a slow pipe; a closed pipe
 * (`| head`) ends the output quietly. Returns false once the reader is gone.
 */
export function writeOut(text: string): boolean {
  try {
    writeSync(1, text);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') return false;
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      return writeOut(text);
    }
    throw err;
  }
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
