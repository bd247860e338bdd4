// Bundles the built CLI (dist/src/cli/main.js and what it imports) into one
// CommonJS file, dist/cli.cjs, which bin/jsonl-mirror runs through V8's code
// cache: Node 20 has no compile cache for ES modules, and loading ~80 of them
// was most of a command's start (issue #24, BENCHMARKS.md).
//
// Each module's import.meta.url becomes the URL its file has in dist/, so
// what it finds beside itself (the worker scripts, sql/, web/, package.json)
// is found where the unbundled module would find it. The native and
// PostgreSQL packages stay outside, loaded by require as before.
import { readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');

const moduleUrls = {
  name: 'module-urls',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async (args) => {
      const rel = relative(dist, args.path);
      if (rel.startsWith('..')) return undefined;
      const url = `new URL(${JSON.stringify(rel.split('\\').join('/'))}, __jmDist).href`;
      const text = (await readFile(args.path, 'utf8'))
        .replaceAll('import.meta.dirname', `require('node:path').dirname(require('node:url').fileURLToPath(${url}))`)
        .replaceAll('import.meta.url', url);
      return { contents: text, loader: 'js' };
    });
  },
};

await build({
  entryPoints: [join(dist, 'src/cli/main.js')],
  outfile: join(dist, 'cli.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  logLevel: 'warning',
  // Half the text to read and hand to V8 at each start (9 ms of 128 measured); names kept for errors and stacks,
  // and a source map beside it for NODE_OPTIONS=--enable-source-maps.
  minify: true,
  keepNames: true,
  sourcemap: true,
  external: ['better-sqlite3', 'pg', 'pg-copy-streams'],
  // Every import() a require: a script run by vm.Script cannot import.
  supported: { 'dynamic-import': false },
  // "use strict" first: after the banner's statement esbuild's own would be no directive, and the code would run sloppy.
  banner: { js: "'use strict';const __jmDist = require('node:url').pathToFileURL(__dirname + '/').href;" },
  plugins: [moduleUrls],
});
