import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { METRIC_KEYS } from '../src/api/metric-names.js';
import { anchors, badCitations, brokenLinks, outsideReferences, sourceFiles } from './docs-check.js';
import { ROOT, tmp } from './helpers.js';

const pages = ['README.md', 'BENCHMARKS.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('the manual', () => {
  it('every relative link of the README and docs/ resolves to a file of the repository, and to its anchor', () => {
    expect(pages.length).toBeGreaterThanOrEqual(10);
    expect(pages.flatMap((p) => brokenLinks(ROOT, join(ROOT, p), read(p)))).toEqual([]);
  });

  it('no page and no source file refers to a place outside the repository', () => {
    const sources = sourceFiles(join(ROOT, 'src')).map((f) => relative(ROOT, f));
    expect([...pages, ...sources].flatMap((p) => outsideReferences(p, read(p)))).toEqual([]);
  });

  it('every invariant and page the source cites is in docs/', () => {
    const sources = sourceFiles(join(ROOT, 'src')).map((f) => relative(ROOT, f));
    const cited = sources.filter((p) => /invariant[ -]\d/i.test(read(p)));
    expect(cited.length).toBeGreaterThanOrEqual(10);
    expect(sources.flatMap((p) => badCitations(ROOT, p, read(p)))).toEqual([]);
    const design = anchors(read('docs/design.md'));
    for (let n = 1; n <= 13; n++) expect(design, `invariant ${n}`).toContain(`invariant-${n}`);
  });

  it('the README is the front door: under 10 KB, and every page of docs/ is linked from it', () => {
    const readme = read('README.md');
    expect(Buffer.byteLength(readme)).toBeLessThan(10 * 1024);
    expect(readme).toContain('npm test'); // CI and a hook look for the test command here
    for (const p of pages.filter((p) => p.startsWith('docs/'))) expect(readme, p).toContain(`](${p})`);
  });

  it('docs/metrics.md defines every metric of the list', () => {
    const text = read('docs/metrics.md');
    for (const key of METRIC_KEYS) expect(text, key).toMatch(new RegExp(`^\\d+\\. \\*\\*${key}\\*\\*`, 'm'));
    for (let n = 1; n <= METRIC_KEYS.length; n++) expect(anchors(text)).toContain(`helper-${n}`);
  });

  it('the checks find what they look for', () => {
    const root = join(tmp(), 'repo');
    mkdirSync(join(root, 'docs'), { recursive: true });
    writeFileSync(join(root, 'docs', 'a.md'), '# A page\n\n<a id="invariant-1"></a>\n### 1. One\n\n## Twice\n## Twice\n');
    const links = '[ok](docs/a.md#a-page) [ok](docs/a.md#twice-1) [ok](docs/a.md#invariant-1) [web](https://x.org/y)\n' +
      '[gone](docs/b.md) [anchor](docs/a.md#nope) [out](../shared/METRICS.md)\n```\n[in code](nowhere.md)\n```\n';
    expect(brokenLinks(root, join(root, 'README.md'), links)).toEqual([
      'README.md: docs/b.md: no such file',
      'README.md: docs/a.md#nope: no such anchor in docs/a.md',
      'README.md: ../shared/METRICS.md leads outside the repository',
    ]);
    expect(outsideReferences('x', 'see ../shared and ARCHITECTURE.md, METRICS.md; docs/metrics.md is ours')).toHaveLength(3);
    expect(badCitations(root, 'x.ts', '(invariant 2) (docs/design.md#invariant-1) docs/design.md#invariant-9 docs/c.md docs/a.md helper 3')).toEqual([
      'x.ts: "invariant 2" does not cite docs/design.md#invariant-2',
      'x.ts: docs/design.md does not exist',
      'x.ts: docs/design.md does not exist',
      'x.ts: docs/c.md does not exist',
      'x.ts: docs/a.md helper 3: no such anchor in docs/a.md',
    ]);
  });
});
