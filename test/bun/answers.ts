// Run by Bun (test/bun.test.ts): every helper's answers from one backend, as JSON on stdout.
// It loads the built library (dist/), as a Bun application would load the package.
import { createReader } from '../../dist/src/index.js';
import { allHelpers } from '../all-helpers.js';

const [dir, source, nowText] = process.argv.slice(2);
const notes: string[] = [];
const reader = createReader({ dir: dir!, source: source as 'sqlite' | 'scan', onFallback: (reason: string) => notes.push(reason) });
try {
  const answers = allHelpers(reader, Number(nowText));
  process.stdout.write(JSON.stringify({ runtime: `bun ${process.versions.bun}`, backend: reader.backend, answeredBy: reader.answeredBy, notes, answers }));
} finally {
  reader.close();
}
