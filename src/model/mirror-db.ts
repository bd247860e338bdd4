import { hostname } from 'node:os';

// What --db and --host-id name, apart from opening anything: the CLI reads these before it loads a store.

/** A --db value that names a PostgreSQL database rather than a SQLite file. */
export function isPgUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function defaultHostId(): string {
  return process.env.JSONL_MIRROR_HOST_ID || hostname();
}
