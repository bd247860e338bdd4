import { watch, type FSWatcher } from 'chokidar';

export interface DirWatch {
  /** Resolves once the watcher has its initial view of the folder. */
  ready: Promise<void>;
  close(): Promise<void>;
}

/**
 * The event backend of the tailer (Fluent Bit's tail_fs_inotify): chokidar
 * on the log folder (and its history folder), inotify or polling. Its events are only hints that a
 * file changed (by name); the ingest finds out what changed.
 */
export function watchDir(dirs: string[], opts: { polling: boolean; intervalMs: number }, onName: (name: string) => void, onError: (err: unknown) => void): DirWatch {
  const watcher: FSWatcher = watch(dirs, {
    depth: 0, ignoreInitial: true, usePolling: opts.polling, interval: opts.intervalMs, atomic: false, awaitWriteFinish: false,
  });
  const hint = (path: unknown) => {
    if (typeof path === 'string') onName(path.slice(path.lastIndexOf('/') + 1));
  };
  // chokidar throttles 'change' to one per 50 ms per file; its raw events are not throttled, so both are hints.
  watcher.on('all', (_event, path) => hint(path));
  watcher.on('raw', (_event, path) => hint(path));
  watcher.on('error', onError);
  return {
    ready: new Promise<void>((resolve) => watcher.once('ready', () => resolve())),
    close: () => watcher.close(),
  };
}
