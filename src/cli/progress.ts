import { createRequire } from 'node:module';
import type CliProgress from 'cli-progress';
import type { ImportOptions } from '../import/import.js';

/** The bar counts in MiB, as every other size the CLI prints (units.ts). */
const MIB = 1024 * 1024;

/** A progress bar over bytes on a terminal's stderr; nothing when piped, with --json, or --no-progress. */
export function progressHooks(enabled: boolean, label: string): { hooks: Pick<ImportOptions, 'onStart' | 'onProgress'>; stop: () => void } {
  if (!enabled || !process.stderr.isTTY) return { hooks: {}, stop: () => {} };
  // Loaded only for a bar that will be drawn: piped and --json runs never pay for it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof CliProgress;
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: `${label} [{bar}] {percentage}% | {value}/{total} MiB | ETA {eta}s`, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  let done = 0;
  let started = false;
  return {
    hooks: {
      onStart: (total) => {
        started = true;
        bar.start(Math.max(1, Math.round(total / MIB)), 0);
      },
      onProgress: (n) => {
        done += n;
        bar.update(Math.round(done / MIB));
      },
    },
    stop: () => started && bar.stop(),
  };
}
