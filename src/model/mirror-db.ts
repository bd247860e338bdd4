import { hostname } from 'node:os';

// What --db and --host-id name, apart from opening anything: the CLI reads these before it loads a store.

/** A URL without its password, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

export function defaultHostId(): string {
  return process.env.JSONL_MIRROR_HOST_ID || hostname();
}
