import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './helpers.js';

/**
 * The Bun leg: vitest runs under Node, and each test here spawns Bun (the
 * `bun` devDependency, its binary from the npm platform package) on the
 * built library and CLI, against the same logs and mirrors as Node.
 */
export function findBun(root = ROOT): string {
  const bin = join(root, 'node_modules/.bin/bun');
  if (!existsSync(bin)) {
    throw new Error(`Bun is missing at ${bin}: it is a devDependency of jsonl-mirror (run \`npm ci\`; its platform package carries the binary). The Bun leg never skips.`);
  }
  return bin;
}
