import type { Engine } from './api.js';
import { redact } from '../model/mirror-db.js';


/**
 * The engine registry (as Litestream's replica clients register by URL
 * scheme): the one place that knows which engine a --db names. An entry is
 * cheap to hold: its engine module is imported only by `load`, so the CLI can
 * ask what --db names without loading SQLite or PostgreSQL (issue #24).
 * Adding an engine: its own folder, and an entry here (docs/design.md#adding-an-engine).
 */
/** Every engine by the name messages give it; engines.ts holds one of each. */
export type EngineTitle = 'PostgreSQL' | 'SQLite';

export interface EngineEntry {
  /** Messages name the engine: "works on a SQLite mirror". */
  readonly title: EngineTitle;
  handles(db: string): boolean;
  /** The mirror is a file at --db: a relative path is resolved, and there may be none yet. */
  readonly file: boolean;
  /** Many machines feed it, each with its own tailer: a read answers from what they sent and catches nothing up itself. */
  readonly fleet: boolean;
  /** --db as messages show it (no password). */
  label(db: string): string;
  load(): Promise<Engine>;
}

/** A --db value that names a PostgreSQL database rather than a SQLite file. */
export function isPgUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

const ENGINES: readonly EngineEntry[] = [
  {
    title: 'PostgreSQL',
    handles: isPgUrl,
    file: false,
    fleet: true,
    label: redact,
    load: async () => (await import('./pg/engine.js')).pgEngine,
  },
  // Anything that is not a URL another engine claims is a SQLite file's path.
  { title: 'SQLite', handles: () => true, file: true, fleet: false, label: (db) => db, load: async () => (await import('./sqlite-engine.js')).sqliteEngine },
];

/** The engine --db names: the first entry that claims it. */
export function engineEntry(db: string): EngineEntry {
  return ENGINES.find((e) => e.handles(db))!;
}

const loaded = new Map<EngineEntry, Engine>();

async function loadEntry(entry: EngineEntry): Promise<Engine> {
  let engine = loaded.get(entry);
  if (!engine) {
    engine = await entry.load();
    loaded.set(entry, engine);
  }
  return engine;
}

/** The engine of `db`, its module imported on first use. */
export function loadEngine(db: string): Promise<Engine> {
  return loadEntry(engineEntry(db));
}

