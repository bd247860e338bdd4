import { existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MirrorError } from './errors.js';

/**
 * The file of a worker thread `name` (e.g. './read-worker.js') beside the
 * module at `from` (its import.meta.url): beside it when the package runs
 * built (dist/) or under Bun, which runs TypeScript; from source under Node
 * (the tests run src/ through vitest), its built copy in dist/, which Node
 * can load: the test run builds dist/ first.
 */
export function workerFile(from: string, name: string): URL {
  const here = new URL(name, from);
  if (!from.endsWith('.ts')) return here;
  if (process.versions.bun) return new URL(name.replace(/\.js$/, '.ts'), from);
  const src = fileURLToPath(new URL('.', import.meta.url));
  const built = pathToFileURL(join(src, '..', 'dist', 'src', relative(src, fileURLToPath(here))));
  if (!existsSync(fileURLToPath(built))) {
    throw new MirrorError('INVALID_ARGUMENT', `the worker ${fileURLToPath(built)} is not built; run \`npm run build\``);
  }
  return built;
}
