import type { BatchRange } from './parsed-batch.js';

/** Slots of the Int32Array the main thread and the parse-ahead worker share. */
/** Messages the worker has posted (batches and errors). */
export const PRODUCED = 0;
/** Messages the main thread has taken or discarded. */
export const CONSUMED = 1;
/** Jobs up to this id are cancelled. */
export const CANCELLED = 2;
/** The last job the worker finished with (it no longer reads that job's file descriptor). */
export const DONE = 3;
/** 1 once the worker thread has exited. */
export const DEAD = 4;
/** 1 once the worker listens for jobs. */
export const READY = 5;
export const SLOTS = 6;

/** One file to read ahead: from `from` to `to`, `depth` batches at most ahead of the main thread. */
export interface AheadJob extends BatchRange {
  id: number;
  depth: number;
}
