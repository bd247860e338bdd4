import { hostname } from 'node:os';
import { MirrorError } from '../errors.js';
import type { Store } from '../store/api.js';

/** Who runs a tailer on a mirror: recorded in the mirror itself, so it moves with the DB. */
export interface TailerOwner {
  pid: number;
  host: string;
  startedAt: string;
}

const KEY = 'tailer';

function alive(owner: TailerOwner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell: assume it runs
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The live tailer of this mirror, if any (a crashed one's record is ignored). */
export function runningTailer(store: Store): TailerOwner | null {
  const value = store.getMeta(KEY);
  if (value === undefined) return null;
  const owner = JSON.parse(value) as TailerOwner;
  return alive(owner) ? owner : null;
}

/** One tailer per mirror: claims it under the write lock, or says who holds it. */
export function claimTailer(store: Store): TailerOwner {
  return store.transaction(claim)(store);
}

function claim(store: Store): TailerOwner {
  const other = runningTailer(store);
  if (other && !(other.pid === process.pid && other.host === hostname())) {
    throw new MirrorError(
      'TAILER_RUNNING',
      `a tailer already runs on ${store.path} (pid ${other.pid} on ${other.host}, since ${other.startedAt}); stop it first, or use another --db`,
    );
  }
  const me: TailerOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
  store.setMeta(KEY, JSON.stringify(me));
  return me;
}

export function releaseTailer(store: Store): void {
  const owner = runningTailer(store);
  if (owner && owner.pid === process.pid && owner.host === hostname()) store.deleteMeta(KEY);
}
