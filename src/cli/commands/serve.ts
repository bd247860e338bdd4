import { parseIntOption } from '../../values.js';
import type { Command } from 'commander';
import { MirrorError } from '../../errors.js';
import { DEFAULT_CONFIG, loadConfig } from '../../metrics/config.js';
import type { SourceChoice } from '../../api/reader.js';
import { TOKEN_ENV } from '../../server/auth.js';
import { createServer } from '../../server/server.js';
import { action, note, sqliteOnly } from '../context.js';

export function register(program: Command): void {
  program
    .command('serve')
    .description('the dashboard API, a live feed (SSE) and the web dashboard over HTTP, read-only; runs the tailer unless another process does')
    .option('--port <n>', 'port (0: a free one)', parseIntOption('--port'), 8787)
    .option('--host <address>', 'address to bind; anything but loopback needs a token', '127.0.0.1')
    .option('--token <token>', `required off loopback (default: $${TOKEN_ENV}); clients send Authorization: Bearer TOKEN or open the page once with ?token=`)
    .option('--cors <origin>', 'let this one origin call the API from a browser')
    .option('--source <kind>', 'auto | sqlite | scan', 'auto')
    .option('--config <file>', 'JSON with prices, fallbackModel and DORA bands')
    .option('--no-tail', 'do not run a tailer here (follow the mirror only)')
    .action(
      action(async (g, o) => {
        sqliteOnly(g, 'serve');
        const source = o.source as SourceChoice;
        if (!['auto', 'sqlite', 'scan'].includes(source)) throw new MirrorError('INVALID_ARGUMENT', `--source is auto, sqlite or scan, not "${source}"`);
        const server = createServer({
          dir: g.dir, db: g.db, source, host: o.host as string, port: o.port as number,
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
      }),
    );
}
