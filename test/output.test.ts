import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROOT } from './helpers.js';

describe('writeOut', () => {
  it('writes everything to a non-blocking pipe that takes part of a write at a time', () => {
    const module = pathToFileURL(join(ROOT, 'dist/src/cli/output.js')).href;
    // Touching process.stdout on a pipe makes fd 1 non-blocking, as a pg worker or a library may do.
    const child = `import { writeOut } from ${JSON.stringify(module)};
process.stdout;
writeOut('x'.repeat(8 * 1024 * 1024) + '\\n');`;
    const r = spawnSync('bash', ['-c', `"${process.execPath}" --input-type=module -e "$CHILD" | (sleep 0.5; wc -c)`], {
      env: { ...process.env, CHILD: child }, encoding: 'utf8',
    });
    expect(r.stderr).toBe('');
    expect(Number(r.stdout.trim())).toBe(8 * 1024 * 1024 + 1);
  });
});
