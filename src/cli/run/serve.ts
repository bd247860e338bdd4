import { MirrorError } from '../../errors.js';
import { DEFAULT_CONFIG, loadConfig } from '../../metrics/config.js';
import type { SourceChoice } from '../../api/reader.js';
import { TOKEN_ENV } from '../../server/token-env.js';
import { createServer } from '../../server/server.js';
import { note, type Run } from '../context.js';

export const run: Run = async (g, o) => {
  const source = o.source as SourceChoice;
  if (!['auto', 'sqlite', 'scan'].includes(source)) throw new MirrorError('INVALID_ARGUMENT', `--source is auto, sqlite or scan, not "${source}"`);
  const server = createServer({
    dir: g.dir, db: g.db, hostId: g.hostId, source, host: o.host as string, port: o.port as number,
    token: (o.token as string | undefined) ?? (process.env[TOKEN_ENV] || undefined),
    cors: o.cors as string | undefined, tail: o.tail as boolean,
    config: o.config ? loadConfig(o.config as string) : DEFAULT_CONFIG,
  });
  const url = await server.listen();
  note(`jsonl-mirror: serving ${g.dir} (${server.reader.backend}) at ${url}/ ; Ctrl-C to stop`);
  if (g.json) process.stdout.write(`${JSON.stringify({ url, backend: server.reader.backend })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
  return { json: { url }, printed: true };
};
