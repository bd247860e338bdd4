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
      'store/api.ts': "import type { E } from '../model/event.js';\nexport const sql = 'SELECT 1 AS one FROM t';\nexport type X = E;\n",
      'metrics/a.ts': "import { b } from './b.js';\nimport type { X } from '../store/api.js';\nexport const a = b; export type Y = X;\n",
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
      'store/api.ts': 'export const db = { prepare: (s: string) => s };\n',
      'cli/run.ts': "import { db } from '../store/api.js';\ndb.prepare('x');\nexport const q = `UPDATE sources SET x = ${1}`;\n",
      'extras/thing.ts': 'export const t = 1;\n',
      'read/direct.ts': "import Database from 'better-sqlite3';\nexport const d = Database;\n",
    });
    expect(vs.map((v) => v.rule).sort()).toEqual(['forbidden', 'sql', 'sql', 'sql', 'unplaced']);
  });

  it('flags a question of which engine outside the registry and the engine folders, by call, definition or comparison', () => {
    const vs = tree('engine', {
      'store/engine.ts': "export const isPgUrl = (db: string) => db.startsWith('postgres://');\nexport const pg = (s: { engine: string }) => s.engine === 'postgres';\n",
      'store/pg/open.ts': "import { isPgUrl } from '../engine.js';\nexport const url = isPgUrl('postgres://x');\n",
      'store/api.ts': 'export interface Store { engine: string; quickCheck?(): string }\n',
      'ops/status.ts': "import type { Store } from '../store/api.js';\nimport { isPgUrl } from '../store/engine.js';\n" +
        "export const a = (s: Store, db: string) => [isPgUrl(db), s.engine !== 'sqlite', 'postgres' === s.engine, s.quickCheck?.()];\n",
      'model/url.ts': 'export function isSqliteFile(db: string) { return !db.includes(":"); }\n',
      'api/backend.ts': "export const kind = { engine: 'sqlite' as string };\nexport const local = kind.engine.length > 0;\n",
    });
    expect(vs.map((v) => `${v.file}:${v.line} ${v.rule}`)).toEqual([
      'src/model/url.ts:1 engine',
      'src/ops/status.ts:3 engine',
      'src/ops/status.ts:3 engine',
      'src/ops/status.ts:3 engine',
    ]);
  });

  it('flags an import of the store\'s inside (an engine\'s own module, type-only too) from above it, not of the interface or the registry', () => {
    const vs = tree('seam', {
      'store/api.ts': 'export interface Store { close(): void }\n',
      'store/engine.ts': "import type { Store } from './api.js';\nexport const open = (): Store | undefined => undefined;\n",
      'store/open.ts': "import type { Store } from './api.js';\nexport const openStore = (): Store | undefined => undefined;\n",
      'store/pg/open.ts': "import type { Store } from '../api.js';\nexport type PgStore = Store;\n",
      'store/rows.ts': 'export interface SourceRow { id: number }\n',
      'read/source.ts': "import type { Store } from '../store/api.js';\nimport type { SourceRow } from '../store/rows.js';\nimport { open } from '../store/engine.js';\n" +
        "import type { PgStore } from '../store/pg/open.js';\nimport { openStore } from '../store/open.js';\nexport const s: [Store?, SourceRow?, PgStore?] = [open(), undefined, openStore()];\n",
    });
    expect(vs.map((v) => `${v.file}:${v.line} ${v.rule}`)).toEqual(['src/read/source.ts:4 seam', 'src/read/source.ts:5 seam']);
  });

  it('flags every import circle once, type-only and dynamic imports included, with the path around it', () => {
    const vs = tree('circle', {
      'store/open.ts': "import type { PgStore } from './pg/open.js';\nexport type Store = PgStore | { sqlite: true };\n",
      'store/pg/open.ts': "import type { Store } from '../open.js';\nexport type PgStore = { pg: true; all?: Store };\n",
      'ingest/a.ts': "import { b } from './b.js';\nexport const a = () => b;\n",
      'ingest/b.ts': "import { c } from './c.js';\nexport const b = () => c;\n",
      'ingest/c.ts': "export const c = () => import('./a.js');\n",
      'ingest/d.ts': "import { a } from './a.js';\nexport const d = a;\n",
    });
    expect(vs.map((v) => `${v.file}:${v.line} ${v.rule}`)).toEqual(['src/ingest/a.ts:1 circle', 'src/store/open.ts:1 circle']);
    expect(vs[0]!.message).toContain('src/ingest/a.ts -> src/ingest/b.ts -> src/ingest/c.ts -> src/ingest/a.ts');
    expect(vs[1]!.message).toContain('src/store/open.ts -> src/store/pg/open.ts -> src/store/open.ts');
  });
});
