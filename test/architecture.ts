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

/**
 * The engine seam (docs/design.md#adding-an-engine): above src/store/ code
 * sees the store's front door alone, the interface and the registry, and
 * only the registry and an engine's own folder tell engines apart.
 */
export const STORE_FRONT = new Set(['store/api.ts', 'store/engine.ts', 'store/engines.ts', 'store/rows.ts']);
export const REGISTRY = 'store/engine.ts';
/** An engine's own folder under src/store/ (SQLite's files predate the folders and sit at its top). */
const ENGINE_FOLDER = /^store\/[^/]+\//;
/** isPgUrl, isPgStore, isSqliteStore…: a question of which engine, by name. */
const ENGINE_QUESTION = /^is(Pg|Postgres|Sqlite)[A-Z]\w*$/;
const ENGINE_NAMES = new Set(['sqlite', 'postgres']);

export interface Violation {
  file: string;
  line: number;
  rule: 'upstream' | 'forbidden' | 'unplaced' | 'sql' | 'engine' | 'seam' | 'circle';
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

const isEngineName = (n: ts.Node): boolean => (ts.isStringLiteral(n) || ts.isNoSubstitutionTemplateLiteral(n)) && ENGINE_NAMES.has(n.text);
const isEngineProperty = (n: ts.Node): boolean => ts.isPropertyAccessExpression(n) && n.name.text === 'engine';
const EQUALITY = new Set([ts.SyntaxKind.EqualsEqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsEqualsToken, ts.SyntaxKind.EqualsEqualsToken, ts.SyntaxKind.ExclamationEqualsToken]);

/** Code that asks which engine it has: a call or a definition of an isPgUrl-style check, or `x.engine === 'sqlite'`. */
function engineQuestions(file: string, text: string): Violation[] {
  const found: Violation[] = [];
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const flag = (node: ts.Node, what: string) =>
    found.push({ file, line: lineOf(text, node.getStart()), rule: 'engine', message: `${what} outside the engine registry (src/${REGISTRY}); ask the store for a capability instead` });
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && ENGINE_QUESTION.test(node.expression.text)) {
      flag(node, `${node.expression.text}() asks which engine`);
    } else if ((ts.isFunctionDeclaration(node) || ts.isVariableDeclaration(node)) && node.name && ts.isIdentifier(node.name) && ENGINE_QUESTION.test(node.name.text)) {
      flag(node, `${node.name.text} tells engines apart`);
    } else if (ts.isBinaryExpression(node) && EQUALITY.has(node.operatorToken.kind) &&
      ((isEngineProperty(node.left) && isEngineName(node.right)) || (isEngineProperty(node.right) && isEngineName(node.left)))) {
      flag(node, `\`${node.getText()}\` branches on the engine`);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every circle of imports among `edges` (type-only and dynamic ones count), each once, as a path back to its start. */
function circles(edges: Map<string, Map<string, number>>): string[][] {
  // Tarjan's strongly connected components: a component of two or more modules, or one importing itself, holds a circle.
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const connect = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v)?.keys() ?? []) {
      if (!index.has(w)) {
        connect(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component = new Set<string>();
    for (let w = stack.pop()!; ; w = stack.pop()!) {
      onStack.delete(w);
      component.add(w);
      if (w === v) break;
    }
    if (component.size > 1 || edges.get(v)?.has(v)) found.push(pathWithin(edges, component));
  };
  for (const v of [...edges.keys()].sort()) if (!index.has(v)) connect(v);
  return found;
}

/** One circle through a component, from its first module (by name) back to it. */
function pathWithin(edges: Map<string, Map<string, number>>, component: Set<string>): string[] {
  const start = [...component].sort()[0]!;
  const seen = new Set<string>();
  const walk = (v: string, path: string[]): string[] | undefined => {
    for (const w of [...(edges.get(v)?.keys() ?? [])].sort()) {
      if (w === start) return [...path, w];
      if (component.has(w) && !seen.has(w)) {
        seen.add(w);
        const p = walk(w, [...path, w]);
        if (p) return p;
      }
    }
    return undefined;
  };
  return walk(start, [start])!;
}

/** Every import of src/ that breaks the layer order, the forbidden edges, the SQL rule, the engine seam or makes a circle. */
export function checkLayers(srcRoot: string): Violation[] {
  const root = resolve(srcRoot);
  const violations: Violation[] = [];
  const edges = new Map<string, Map<string, number>>();
  for (const file of sourceFiles(root)) {
    const from = unitOf(root, file);
    const fromRank = rankOf.get(from);
    const shown = relative(resolve(root, '..'), file);
    const module = relative(root, file).split(sep).join('/');
    const text = readFileSync(file, 'utf8');
    if (fromRank === undefined) {
      violations.push({ file: shown, line: 1, rule: 'unplaced', message: `src/${from} has no place in the layer table (test/architecture.ts LAYERS); add it where it belongs` });
      continue;
    }
    if (from !== SQL_HOME) violations.push(...sqlViolations(shown, text));
    if (module !== REGISTRY && !ENGINE_FOLDER.test(module)) violations.push(...engineQuestions(shown, text));
    const imports = new Map<string, number>();
    edges.set(module, imports);
    for (const ref of ts.preProcessFile(text, true, true).importedFiles) {
      if (DRIVERS.has(ref.fileName) && from !== SQL_HOME) {
        violations.push({ file: shown, line: lineOf(text, ref.pos), rule: 'sql', message: `loads the database driver ${ref.fileName} outside src/${SQL_HOME}/` });
      }
      if (!ref.fileName.startsWith('.')) continue;
      const target = resolve(dirname(file), ref.fileName);
      if (!target.startsWith(root + sep)) continue;
      const targetModule = relative(root, target).split(sep).join('/').replace(/\.js$/, '.ts');
      if (!imports.has(targetModule)) imports.set(targetModule, lineOf(text, ref.pos));
      if (from !== SQL_HOME && targetModule.startsWith(`${SQL_HOME}/`) && !STORE_FRONT.has(targetModule)) {
        violations.push({ file: shown, line: lineOf(text, ref.pos), rule: 'seam',
          message: `imports src/${targetModule}, the inside of the store (an engine's own module); import the interface (src/store/api.ts) or the registry (src/store/engine.ts, engines.ts)` });
      }
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
  for (const circle of circles(edges)) {
    violations.push({ file: `src/${circle[0]}`, line: edges.get(circle[0]!)!.get(circle[1]!)!, rule: 'circle',
      message: `import circle (type-only imports count): ${circle.map((m) => `src/${m}`).join(' -> ')}; move what both need into a module of its own` });
  }
  return violations;
}
