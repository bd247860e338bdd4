import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkLayers, type Violation } from './architecture.js';

const show = (vs: Violation[]) => vs.map((v) => `${v.file}:${v.line} [${v.rule}] ${v.message}`).join('\n');

describe('the import direction of src/', () => {
  it('no import points upstream, the front ends never reach the store, SQL only in src/store', () => {
    const violations = checkLayers(join(import.meta.dirname, '..', 'src'));
    expect(show(violations)).toBe('');
  });
});

describe('the layer check itself', () => {
  const root = mkdtempSync(join(tmpdir(), 'jm-layers-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const tree = (name: string, files: Record<string, string>) => {
    const src = join(root, name, 'src');
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(src, path)), { recursive: true });
      writeFileSync(join(src, path), text);
    }
    return checkLayers(src);
  };

  it('accepts imports from the same folder and from lower layers', () => {
    const vs = tree('ok', {
      'model/event.ts': 'export type E = { t: string };\n',
      'store/db.ts': "import type { E } from '../model/event.js';\nexport const sql = 'SELECT 1 AS one FROM t';\nexport type X = E;\n",
      'metrics/a.ts': "import { b } from './b.js';\nimport type { X } from '../store/db.js';\nexport const a = b; export type Y = X;\n",
      'metrics/b.ts': "export const b = /x/.exec('x');\n",
      'cli/main.ts': "import { a } from '../metrics/a.js';\nconsole.log(a, 'run `jsonl-mirror import` to select from the logs');\n",
    });
    expect(show(vs)).toBe('');
  });

  it('flags an upstream import with its file and line', () => {
    const vs = tree('up', {
      'store/db.ts': "\nimport { r } from '../read/reader.js';\nexport const s = r;\n",
      'read/reader.ts': 'export const r = 1;\n',
    });
    expect(vs).toEqual([expect.objectContaining({ file: 'src/store/db.ts', line: 2, rule: 'upstream' })]);
  });

  it('flags re-exports and dynamic imports too', () => {
    const vs = tree('reexport', {
      'ingest/a.ts': "export { r } from '../metrics/m.js';\nexport const later = () => import('../api/x.js');\n",
      'metrics/m.ts': 'export const r = 1;\n',
      'api/x.ts': 'export const x = 1;\n',
    });
    expect(vs.map((v) => v.rule)).toEqual(['upstream', 'upstream']);
  });

  it('flags the CLI importing the store, SQL outside the store, and folders with no layer', () => {
    const vs = tree('bad', {
      'store/db.ts': 'export const db = { prepare: (s: string) => s };\n',
      'cli/run.ts': "import { db } from '../store/db.js';\ndb.prepare('x');\nexport const q = `UPDATE sources SET x = ${1}`;\n",
      'extras/thing.ts': 'export const t = 1;\n',
      'read/direct.ts': "import Database from 'better-sqlite3';\nexport const d = Database;\n",
    });
    expect(vs.map((v) => v.rule).sort()).toEqual(['forbidden', 'sql', 'sql', 'sql', 'unplaced']);
  });
});
