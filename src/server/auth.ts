import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { MirrorError } from '../errors.js';
import { HttpError } from './http-error.js';
import { TOKEN_ENV } from './token-env.js';

const COOKIE = 'jsonl_mirror_token';
const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopback(host: string): boolean {
  return LOOPBACK_NAMES.has(host) || (isIP(host) === 4 && host.startsWith('127.'));
}

/** Any address but loopback exposes the mirror to the network: only with a token. */
export function assertBindable(host: string, token: string | undefined): void {
  if (!isLoopback(host) && !token) {
    throw new MirrorError(
      'INVALID_ARGUMENT',
      `serving on ${host} makes the dashboard reachable from other machines; give a token with --token or $${TOKEN_ENV}, or bind to 127.0.0.1`,
    );
  }
  if (token !== undefined && token.length < 16) {
    throw new MirrorError('INVALID_ARGUMENT', 'the token is shorter than 16 characters; use a long random one (openssl rand -hex 24)');
  }
}

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

function cookieToken(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const [name, ...rest] = part.trim().split('=');
    if (name === COOKIE) return decodeURIComponent(rest.join('='));
  }
  return undefined;
}

export interface Admission {
  /** A Set-Cookie header to send: the login from ?token= is kept in a cookie. */
  setCookie?: string;
}

/**
 * Who may read: with a token, a request carries it as `Authorization:
 * Bearer`, as the cookie, or once as `?token=` (which sets the cookie).
 * Without one (loopback only), requests must name a loopback host, so a web
 * page elsewhere cannot reach the server through DNS rebinding.
 */
export class Auth {
  private readonly want?: Buffer;

  constructor(token: string | undefined) {
    this.want = token === undefined ? undefined : digest(token);
  }

  admit(req: IncomingMessage, query: URLSearchParams): Admission {
    if (!this.want) {
      const host = (req.headers.host ?? '').replace(/:\d+$/, '');
      if (!isLoopback(host)) throw new HttpError(403, 'HOST_NOT_ALLOWED', `requests must name a loopback host, not "${host.slice(0, 60)}"`);
      return {};
    }
    const fromQuery = query.get('token') ?? undefined;
    const auth = req.headers.authorization;
    const given = fromQuery ?? (auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined) ?? cookieToken(req.headers.cookie);
    if (given === undefined) throw new HttpError(401, 'UNAUTHORIZED', 'this server needs its token: Authorization: Bearer TOKEN, or open the dashboard once with ?token=TOKEN');
    if (!timingSafeEqual(digest(given), this.want)) throw new HttpError(401, 'UNAUTHORIZED', 'wrong token');
    return fromQuery === undefined ? {} : { setCookie: `${COOKIE}=${encodeURIComponent(fromQuery)}; HttpOnly; SameSite=Strict; Path=/` };
  }
}
