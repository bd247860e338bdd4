import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createServer } from '../src/server/server.js';
import { CLI } from './helpers.js';
import { exampleDir, get, raw, serve } from './serve-helpers.js';

const TOKEN = 'a-long-random-test-token-0123456789';

describe('serve: security', () => {
  it('refuses to bind beyond loopback without a token (library and CLI), and a short token', async () => {
    const dir = exampleDir();
    for (const host of ['0.0.0.0', '::', '192.168.1.20']) {
      await expect(createServer({ dir, host, port: 0 }).listen()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('--token') });
    }
    await expect(createServer({ dir, host: '0.0.0.0', port: 0, token: 'short' }).listen()).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    const r = spawnSync(process.execPath, [CLI, '--dir', dir, '--json', 'serve', '--host', '0.0.0.0', '--port', '0'], {
      encoding: 'utf8', env: { ...process.env, JSONL_MIRROR_TOKEN: '' }, timeout: 20_000,
    });
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout).error.code).toBe('INVALID_ARGUMENT');
    expect(r.stderr).toMatch(/--token/);
  });

  it('with a token: missing or wrong is 401; Bearer, or ?token= once then its cookie, is let in', async () => {
    const s = await serve({ dir: exampleDir(), host: '0.0.0.0', token: TOKEN });
    const base = s.url.replace('0.0.0.0', '127.0.0.1');
    for (const [path, headers] of [
      ['/api/metrics/dora', {}], ['/', {}], ['/app.js', {}], ['/api/stream', {}],
      ['/api/metrics/dora', { authorization: 'Bearer wrong-token-wrong-token' }], ['/api/metrics/dora', { authorization: TOKEN }],
      ['/api/metrics/dora?token=nope', {}], ['/api/metrics/dora', { cookie: 'jsonl_mirror_token=nope' }],
    ] as [string, Record<string, string>][]) {
      const r = await get(base, path, headers);
      expect(r.status, `${path} ${JSON.stringify(headers)}`).toBe(401);
      expect(r.json.error.code).toBe('UNAUTHORIZED');
    }
    expect((await get(base, '/api/metrics/dora', { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    // The page with ?token=: a cookie, and a redirect that takes the token out of the address.
    const login = await get(base, `/?period=30&token=${TOKEN}`);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/?period=30');
    const cookie = (login.headers['set-cookie'] as string[])[0]!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    expect((await get(base, '/?period=30', { cookie: jar })).status).toBe(200);
    expect((await get(base, '/api/metrics/dora', { cookie: `other=1; ${jar}` })).status).toBe(200);
  });

  it('without a token (loopback), a request naming another host is refused (DNS rebinding)', async () => {
    const s = await serve({ dir: exampleDir() });
    expect((await get(s.url, '/api/metrics/dora', { host: 'evil.example:8787' })).status).toBe(403);
    expect((await get(s.url, '/api/metrics/dora', { host: 'localhost:8787' })).status).toBe(200);
  });

  it('static files never come from outside their folder, however the path is written', async () => {
    const s = await serve({ dir: exampleDir() });
    const paths = [
      '/../../etc/passwd', '/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
      '/..%2f..%2f..%2fetc%2fpasswd', '/%252e%252e%252f%252e%252e%252fetc%252fpasswd', '/..\\..\\etc\\passwd', '/..%5c..%5cetc%5cpasswd',
      '/vendor/../../package.json', '/vendor/..%2f..%2fpackage.json', '/%2e%2e/package.json', '//etc/passwd', '/etc/passwd',
      '/app.js/../../package.json', '/app.js%00.html', '/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd', '/.%2e/.%2e/etc/passwd',
      '/vendor/chart.umd.min.js/..%2f..%2f..%2fsrc%2fserver%2fserver.ts', '/%', '/%zz',
    ];
    for (const p of paths) {
      const res = await raw(s.url, `GET ${p} HTTP/1.1`);
      const status = Number(res.split(' ')[1]);
      expect([400, 404], `${p} -> ${res.slice(0, 60)}`).toContain(status);
      expect(res).not.toMatch(/root:|"name": "jsonl-mirror"|createServer/);
    }
    expect((await raw(s.url, 'GET http://127.0.0.1/etc/passwd HTTP/1.1')).startsWith('HTTP/1.1 400')).toBe(true);
    expect((await raw(s.url, 'GET //api/metrics/dora HTTP/1.1')).startsWith('HTTP/1.1 404')).toBe(true);
    // What is in the folder is served.
    expect((await raw(s.url, 'GET /app.js HTTP/1.1')).startsWith('HTTP/1.1 200')).toBe(true);
    const lib = await get(s.url, '/vendor/chart.umd.min.js');
    expect(lib.status).toBe(200);
    expect(lib.headers['content-type']).toMatch(/^text\/javascript/);
    const page = await get(s.url, '/');
    expect(page.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(page.text).toMatch(/<title>jsonl-mirror dashboard<\/title>/);
  });

  it('oversized requests: a long URL is 414, too many or too long parameters 400, huge headers 431', async () => {
    const s = await serve({ dir: exampleDir() });
    expect((await get(s.url, `/api/metrics/dora?now=${'1'.repeat(3000)}`)).status).toBe(414);
    expect((await get(s.url, `/${'a'.repeat(5000)}`)).status).toBe(414);
    const many = Array.from({ length: 20 }, (_, i) => `stream=s${i}`).join('&');
    const r = await get(s.url, `/api/metrics/dora?${many}`);
    expect(r.status).toBe(400);
    expect(r.json.error.code).toBe('TOO_MANY_PARAMETERS');
    const long = await get(s.url, `/api/activity?type=${'t'.repeat(300)}`);
    expect(long.status).toBe(400);
    expect(long.json.error.code).toBe('PARAMETER_TOO_LONG');
    expect((await get(s.url, '/api/metrics/dora', { 'x-big': 'b'.repeat(20_000) })).status).toBe(431);
  });

  it('no CORS unless asked; --cors allows exactly that origin, preflight included', async () => {
    const plain = await serve({ dir: exampleDir() });
    const r = await get(plain.url, '/api/metrics/dora', { origin: 'http://example.com' });
    expect(r.headers['access-control-allow-origin']).toBeUndefined();
    expect((await get(plain.url, '/api/metrics/dora', { origin: 'http://example.com', 'access-control-request-method': 'GET' }, 'OPTIONS')).status).toBe(405);

    const open = await serve({ dir: exampleDir(), cors: 'http://dash.local:3000' });
    const ok = await get(open.url, '/api/metrics/dora', { origin: 'http://dash.local:3000' });
    expect(ok.headers['access-control-allow-origin']).toBe('http://dash.local:3000');
    expect(ok.headers['access-control-expose-headers']).toMatch(/ETag/);
    const pre = await get(open.url, '/api/metrics/dora', { origin: 'http://dash.local:3000', 'access-control-request-method': 'GET' }, 'OPTIONS');
    expect(pre.status).toBe(204);
    expect(pre.headers['access-control-allow-headers']).toMatch(/Authorization/);
    const other = await get(open.url, '/api/metrics/dora', { origin: 'http://evil.example' });
    expect(other.headers['access-control-allow-origin']).toBeUndefined();
  });
});
