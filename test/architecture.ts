import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import ts from 'typescript';

/**
 * The layers of src/, lowest first. A module may import from its own folder
 * or from a folder lower in this list, never from a higher one: data flows
 * files -> ingest -> store -> read -> metrics -> api -> CLI/server, with the
 * vocabulary (model/ and the top-level helpers) beneath everything.
 */
export const LAYERS: readonly (readonly string[])[] = [
  ['model', 'errors.ts', 'values.ts', 'units.ts', 'worker-file.ts'],
  ['store'],
  ['ingest'],
  ['import'],
  ['writer'],
  ['tailer'],
  ['read'],
  ['metrics'],
  ['ops'],
  ['api'],
  ['server'],
  ['cli'],
  ['index.ts'],
];

/** Edges the order alone would allow but the design forbids: the front ends reach the mirror through the library. */
export const FORBIDDEN: readonly [from: string, to: string][] = [
  ['cli', 'store'],
  ['server', 'store'],
];

/** Only this folder may hold SQL text, load a database driver or talk to a connection directly. */
export const SQL_HOME = 'store';
const DRIVERS = new Set(['better-sqlite3', 'bun:sqlite', 'pg', 'pg-copy-streams']);

export interface Violation {
  file: string;
  line: number;
  rule: 'upstream' | 'forbidden' | 'unplaced' | 'sql';
  message: string;
}

const rankOf = new Map<string, number>(LAYERS.flatMap((names, rank) => names.map((n) => [n, rank] as const)));

/** The unit a source file belongs to: its first folder under src/, or its own name at the top. */
function unitOf(srcRoot: string, file: string): string {
  return relative(srcRoot, file).split(sep)[0]!;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.d.ts') ? [path] : [];
  });
}

const lineOf = (text: string, pos: number) => text.slice(0, pos).split('\n').length;

// An SQL statement starts with its verb in capitals and goes on; prose (error messages, help examples) does
// not, and a verb alone is a keyword being checked, not a statement (except the few that stand alone).
const VERB = String.raw`^\s*(SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|PRAGMA|WITH\s+\w+\s+AS|VACUUM(?=\s+INTO))`;
const SQL_TEXT = new RegExp(`${VERB}\\s+[\\w"(*]|^\\s*(BEGIN(\\s+(IMMEDIATE|EXCLUSIVE|DEFERRED))?|COMMIT|ROLLBACK|VACUUM)\\s*;?\\s*$`);
// `PRAGMA ${name}`: the verb alone before a substitution is already a statement.
const SQL_HEAD = new RegExp(`${VERB}(\\s|$)`);
// RegExp also has exec(): SQL passed to a connection's exec() is caught as SQL text instead.
const CONNECTION_CALL = new Set(['prepare', 'pragma']);

function sqlViolations(file: string, text: string): Violation[] {
  const found: Violation[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) || ts.isTemplateHead(node)) {
      if ((ts.isTemplateHead(node) ? SQL_HEAD : SQL_TEXT).test(node.text)) {
        found.push({ file, line: lineOf(text, node.getStart()), rule: 'sql', message: `SQL text outside src/${SQL_HOME}/: ${JSON.stringify(node.text.slice(0, 60))}` });
      }
    } else if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && CONNECTION_CALL.has(node.expression.name.text)) {
      found.push({ file, line: lineOf(text, node.getStart()), rule: 'sql', message: `.${node.expression.name.text}() on a connection outside src/${SQL_HOME}/` });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every import of src/ that breaks the layer order, the forbidden edges or the SQL rule. */
export function checkLayers(srcRoot: string): Violation[] {
  const root = resolve(srcRoot);
  const violations: Violation[] = [];
  for (const file of sourceFiles(root)) {
    const from = unitOf(root, file);
    const fromRank = rankOf.get(from);
    const shown = relative(resolve(root, '..'), file);
    const text = readFileSync(file, 'utf8');
    if (fromRank === undefined) {
      violations.push({ file: shown, line: 1, rule: 'unplaced', message: `src/${from} has no place in the layer table (test/architecture.ts LAYERS); add it where it belongs` });
      continue;
    }
    if (from !== SQL_HOME) violations.push(...sqlViolations(shown, text));
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (DRIVERS.has(ref.fileName) && from !== SQL_HOME) {
        violations.push({ file: shown, line: lineOf(text, ref.pos), rule: 'sql', message: `loads the database driver ${ref.fileName} outside src/${SQL_HOME}/` });
      }
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), ref.fileName);
      if (!target.startsWith(root + sep)) continue;
      const to = unitOf(root, target).replace(/\.js$/, '.ts');
      if (to === from) continue;
      const toRank = rankOf.get(to);
      const line = lineOf(text, ref.pos);
      if (toRank === undefined) {
        violations.push({ file: shown, line, rule: 'unplaced', message: `imports src/${to}, which has no place in the layer table` });
      } else if (toRank > fromRank) {
        violations.push({ file: shown, line, rule: 'upstream', message: `src/${from} (layer ${fromRank}) imports src/${to} (layer ${toRank}), which sits above it` });
      } else if (FORBIDDEN.some(([a, b]) => a === from && b === to)) {
        violations.push({ file: shown, line, rule: 'forbidden', message: `src/${from} may not import src/${to}; go through the library above it` });
      }
    }
  }
  return violations;
}
