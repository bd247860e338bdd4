import { TYPE_PREFIX_END } from '../model/rules.js';
import type { Statements } from './statements.js';

/** A stream by its code, in name order (log order breaks ties between streams by name). */
export interface StreamCode {
  id: number;
  name: string;
}

/** type_id of an event without a type: no row in `types` (the events view shows NULL). */
export const NO_TYPE = 0;

/**
 * The integer codes of stream and type names (sql/005), cached per
 * connection. Names are only ever added, so a cached code stays true, with
 * one exception: a code added inside a transaction that rolled back. The
 * store calls forget() whenever one of its transactions fails.
 */
export class NameCodes {
  private readonly streams = new Map<string, number>();
  private readonly types = new Map<string, number>();
  private readonly typeNames = new Map<number, string | null>([[NO_TYPE, null]]);

  constructor(private readonly sql: Statements) {}

  forget(): void {
    this.streams.clear();
    this.types.clear();
    this.typeNames.clear();
    this.typeNames.set(NO_TYPE, null);
  }

  /** The stream's code, added when new (inside the caller's write transaction). */
  streamCode(name: string): number {
    let id = this.streams.get(name);
    if (id === undefined) {
      id = (this.sql.stmt('streamId').get(name) as { id: number } | undefined)?.id ?? Number(this.sql.stmt('addStream').run(name).lastInsertRowid);
      this.streams.set(name, id);
    }
    return id;
  }

  typeCode(name: string | null): number {
    if (name === null) return NO_TYPE;
    let id = this.types.get(name);
    if (id === undefined) {
      id = (this.sql.stmt('typeId').get(name) as { id: number } | undefined)?.id ?? Number(this.sql.stmt('addType').run(name).lastInsertRowid);
      this.types.set(name, id);
    }
    return id;
  }

  /** The known streams among `names`, in name order (an unknown stream has no events). */
  knownStreams(names: readonly string[]): StreamCode[] {
    const out: StreamCode[] = [];
    for (const name of [...new Set(names)].sort()) {
      const id = this.lookup(this.streams, 'streamId', name);
      if (id !== undefined) out.push({ id, name });
    }
    return out;
  }

  allStreams(): StreamCode[] {
    return this.sql.stmt('allStreams').all() as StreamCode[];
  }

  /** The codes of the known types among `names`. */
  knownTypes(names: readonly (string | null)[]): number[] {
    const out: number[] = [];
    for (const name of new Set(names)) {
      const id = name === null ? NO_TYPE : this.lookup(this.types, 'typeId', name);
      if (id !== undefined) out.push(id);
    }
    return out;
  }

  /** The codes of type t and its subtypes t.* (model/rules.ts typeMatches). */
  typesUnder(t: string): number[] {
    return (this.sql.stmt('typesUnder').all(t, `${t}${TYPE_PREFIX_END}`, t, `${t}.`) as { id: number }[]).map((r) => r.id);
  }

  typeName(id: number): string | null {
    let name = this.typeNames.get(id);
    if (name === undefined) {
      name = (this.sql.stmt('typeName').get(id) as { name: string } | undefined)?.name;
      if (name === undefined) return null;
      this.typeNames.set(id, name);
    }
    return name;
  }

  private lookup(cache: Map<string, number>, stmt: 'streamId' | 'typeId', name: string): number | undefined {
    let id = cache.get(name);
    if (id === undefined) {
      id = (this.sql.stmt(stmt).get(name) as { id: number } | undefined)?.id;
      if (id !== undefined) cache.set(name, id);
    }
    return id;
  }
}
