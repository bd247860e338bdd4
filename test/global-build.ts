import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

/**
 * The process tests spawn `bin/jsonl-mirror`, which runs `dist/` (bundled as
 * dist/cli.cjs): build it once before any of them, so that none runs against
 * whatever an earlier build left there.
 */
export default function build(): void {
  const root = resolve(import.meta.dirname, '..');
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  const started = Date.now();
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) {
    throw new Error(`the build of dist/ failed (tsc -p tsconfig.json), so the tests that run the CLI cannot start; fix what tsc says:\n${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`);
  }
  // bin/jsonl-mirror runs the bundle of what tsc built: bundled again, or the CLI tests would run the last build's.
  const b = spawnSync(process.execPath, ['scripts/bundle-cli.mjs'], { cwd: root, encoding: 'utf8' });
  if (b.status !== 0) throw new Error(`the bundle of the CLI failed (node scripts/bundle-cli.mjs):\n${b.stdout}${b.stderr}${b.error ? String(b.error) : ''}`);
  process.stderr.write(`dist/ built in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
