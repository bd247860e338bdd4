import { hostname } from 'node:os';

// What --db and --host-id name, apart from opening anything: the CLI reads these before it loads a store.

/**
 * Which engine a --db names is the registry's (store/engine.ts) to say; this
 * copy remains only for tailer/live-tailer.ts and cli/run/tail.ts (through
 * ops/mirror.ts) until they ask it (issue #23).
 */
export function isPgUrl(db: string | undefined): db is string {
  return db !== undefined && /^postgres(ql)?:\/\//i.test(db);
}

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function defaultHostId(): string {
  return process.env.JSONL_MIRROR_HOST_ID || hostname();
}
