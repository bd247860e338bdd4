import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * The checks that keep the manual whole: a link that leads nowhere, a
 * reference to a file a clone does not have, or a comment citing an
 * invariant the design does not state is a problem, listed as text so a
 * failing test names each one.
 */

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to dashes. */
export function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, '')
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The text outside fenced code blocks, line for line (fenced lines become empty). */
function prose(text: string): string {
  let fenced = false;
  return text
    .split('\n')
    .map((line) => {
      if (line.startsWith('```')) {
        fenced = !fenced;
        return '';
      }
      return fenced ? '' : line;
    })
    .join('\n');
}

/** The anchors a Markdown file offers: its headings (with GitHub's -1, -2 for repeats) and its `<a id>`s. */
export function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of prose(text).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(m[1]!);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of text.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1]!);
  return out;
}

/** Every Markdown link of one file that does not resolve inside the repository at `root`. */
export function brokenLinks(root: string, file: string, text: string): string[] {
  const problems: string[] = [];
  const at = relative(root, file);
  for (const m of prose(text).matchAll(/!?\[[^\]]*\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z][a-z+.-]*:/i.test(target)) continue; // http:, mailto:: not files of ours
    const [path, anchor] = target.split('#') as [string, string | undefined];
    const dest = path === '' ? file : resolve(dirname(file), path);
    if (relative(root, dest).startsWith('..')) {
      problems.push(`${at}: ${target} leads outside the repository`);
      continue;
    }
    if (!existsSync(dest)) {
      problems.push(`${at}: ${target}: no such file`);
      continue;
    }
    if (anchor !== undefined && dest.endsWith('.md') && !anchors(readFileSync(dest, 'utf8')).has(anchor)) {
      problems.push(`${at}: ${target}: no such anchor in ${relative(root, dest)}`);
    }
  }
  return problems;
}

/** Text that names a place outside the repository: the design notes users never had. */
export function outsideReferences(at: string, text: string): string[] {
  return [...text.matchAll(/\.\.\/shared\b|\/work\/shared|\bARCHITECTURE\.md|(?<![\w/])METRICS\.md/g)].map((m) => `${at}: mentions ${m[0]}`);
}

/**
 * Citations in source comments: every "invariant N" must be
 * docs/design.md#invariant-N and exist there, every docs/PAGE.md#anchor and
 * "docs/metrics.md helper N" must resolve.
 */
export function badCitations(root: string, at: string, text: string): string[] {
  const problems: string[] = [];
  for (const m of text.matchAll(/(docs\/design\.md#)?invariant[ -](\d+)/gi)) {
    if (!m[1]) problems.push(`${at}: "${m[0]}" does not cite docs/design.md#invariant-${m[2]}`);
  }
  for (const m of text.matchAll(/\bdocs\/([\w-]+\.md)(?:#([\w-]+)|(?: helper (\d+)))?/g)) {
    const page = join(root, 'docs', m[1]!);
    if (!existsSync(page)) {
      problems.push(`${at}: docs/${m[1]} does not exist`);
      continue;
    }
    const anchor = m[2] ?? (m[3] ? `helper-${m[3]}` : undefined);
    if (anchor && !anchors(readFileSync(page, 'utf8')).has(anchor)) problems.push(`${at}: ${m[0]}: no such anchor in docs/${m[1]}`);
  }
  return problems;
}

/** The .ts files under a folder. */
export function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}
