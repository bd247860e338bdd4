import { cpSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import { importLogs } from '../src/import/import-logs.js';
import { createServer, type MirrorServer, type ServerOptions } from '../src/server/server.js';
import { FIXTURES, tmp } from './helpers.js';

const running: MirrorServer[] = [];
afterEach(async () => {
  while (running.length) await running.pop()!.close();
});

/** A server on a free port, closed after the test. */
export async function serve(opts: ServerOptions): Promise<MirrorServer> {
  const s = createServer({ port: 0, refreshMs: 0, onNote: () => {}, ...opts });
  running.push(s);
  await s.listen();
  return s;
}

/** A copy of the bundled example, imported. */
export function exampleDir(): string {
  const dir = join(tmp('jm-serve-'), 'logs');
  cpSync(join(FIXTURES, 'example'), dir, { recursive: true });
  importLogs({ dir });
  return dir;
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

/** A GET whose path goes on the wire exactly as given (no normalisation of `..` or escapes). */
export function get(base: string, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Reply> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c) => (text += c));
      res.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** A raw request line, for paths no HTTP client would send as they are. */
export function raw(base: string, requestLine: string): Promise<string> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(u.port), u.hostname, () => sock.write(`${requestLine}\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    let out = '';
    sock.setEncoding('latin1');
    sock.on('data', (c) => (out += c));
    sock.on('end', () => resolve(out));
    sock.on('error', reject);
  });
}

export interface SseMessage {
  id: string | undefined;
  data: any;
}

/** An SSE subscription that collects messages until closed. */
export function subscribe(base: string, path = '/api/stream', headers: Record<string, string> = {}) {
  const u = new URL(base);
  const messages: SseMessage[] = [];
  let close = () => {};
  const opened = new Promise<number>((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { accept: 'text/event-stream', ...headers } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buf += chunk;
        let at: number;
        while ((at = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, at);
          buf = buf.slice(at + 2);
          let id: string | undefined;
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id: ')) id = line.slice(4);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (data) messages.push({ id, data: JSON.parse(data) });
        }
      });
      res.on('error', () => {});
      resolve(res.statusCode ?? 0);
    });
    req.on('error', (err) => reject(err));
    close = () => req.destroy();
    req.end();
  });
  return { messages, opened, close: () => close() };
}

export async function until(what: string, cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
