/**
 * Bearer-token check of the admin API. Both sides are hashed to SHA-256 first, so
 * `timingSafeEqual` always compares equal-length buffers and neither the token's content nor its
 * length leaks through timing.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { hostOfHeader, isLoopbackHost } from '../config/loopback.js';

export const WWW_AUTHENTICATE = 'Bearer realm="sightline-admin"';

const digest = (s: string): Buffer => createHash('sha256').update(s, 'utf8').digest();

/** The token from `Authorization: Bearer <token>`, or undefined. */
export function bearerOf(req: IncomingMessage): string | undefined {
  const h = req.headers.authorization;
  if (h === undefined) return undefined;
  const m = /^Bearer[ \t]+(.+)$/i.exec(h.trim());
  return m?.[1]?.trim();
}

export interface Authorizer {
  /** True when no token is configured or `given` is the token. */
  check(given: string | undefined): boolean;
  readonly required: boolean;
}

export function createAuthorizer(token: string | undefined): Authorizer {
  if (token === undefined || token === '') return { required: false, check: () => true };
  const expected = digest(token);
  return {
    required: true,
    check: (given) => given !== undefined && timingSafeEqual(digest(given), expected),
  };
}

/**
 * DNS rebinding: a web page can point its own name at 127.0.0.1 and read the admin API through
 * the victim's browser; the Host header still carries the page's name. Without a token, only
 * loopback Host values (and `admin.allowedHosts`) are answered. With a token the check is moot
 * (the page cannot know it). A request without Host (HTTP/1.0 tools) comes from no browser.
 */
export function createHostCheck(
  token: string | undefined,
  allowed: readonly string[] = [],
): (req: IncomingMessage) => boolean {
  if (token !== undefined && token !== '') return () => true;
  const extra = new Set(allowed.map((h) => hostOfHeader(h).toLowerCase()));
  return (req) => {
    const h = req.headers.host;
    if (h === undefined || h === '') return true;
    const host = hostOfHeader(h).toLowerCase();
    return isLoopbackHost(host) || extra.has(host);
  };
}
