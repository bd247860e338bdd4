import { parseIntOption } from '../../values.js';
import type { Command } from 'commander';
import { TOKEN_ENV } from '../../server/token-env.js';
import { action } from '../context.js';

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
    .action(action(() => import('../run/serve.js')));
}
