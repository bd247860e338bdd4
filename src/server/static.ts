import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join, resolve } from 'node:path';
import { etagOf } from './cache.js';
import { HttpError } from './http-error.js';

export interface StaticFile {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
};

/** The dashboard's folder at the package root, seen from dist/src/server (built) or src/server (tests run the sources). */
export const WEB_ROOT = [resolve(import.meta.dirname, '../../../web'), resolve(import.meta.dirname, '../../web')].find((d) => existsSync(d))!;

/** The chart library, served from the installed package: machines may be offline. */
function chartLibrary(): string {
  return join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js');
}

/**
 * The dashboard's files, read once at start into a table keyed by URL path:
 * a request can only ever name one of these, so no path (`..`, encoded or
 * not, symlinks, absolute paths) reaches outside the folder.
 */
export function loadStatic(root = WEB_ROOT): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  const add = (urlPath: string, file: string) => {
    const body = readFileSync(file);
    files.set(urlPath, { body, type: TYPES[extname(file)] ?? 'application/octet-stream', etag: etagOf(body) });
  };
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.isFile() && TYPES[extname(entry.name)]) add(`/${entry.name}`, join(root, entry.name));
  }
  add('/vendor/chart.umd.min.js', chartLibrary());
  const index = files.get('/index.html');
  if (index) files.set('/', index);
  return files;
}

/** The table's key for a request path; a malformed escape or a NUL is a 400, not a lookup. */
export function staticKey(pathname: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    throw new HttpError(400, 'BAD_PATH', 'the path has a malformed %-escape');
  }
  if (decoded.includes('\0')) throw new HttpError(400, 'BAD_PATH', 'the path holds a NUL byte');
  return decoded;
}
