/**
 * How the admin server answers (DESIGN §1 L6): one `Reply` shape, the security headers every
 * response carries, and the raw 4xx written to a socket whose request could not even be parsed.
 */
import type { ServerResponse } from 'node:http';

/** What a route handler returns; the server writes it. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** On every response: nothing is cached (live data, maybe a token in the URL), no MIME sniffing. */
export const BASE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
});

/** Non-HTML answers load nothing and are never framed. */
const DATA_CSP = "default-src 'none'; frame-ancestors 'none'";

/** The status page: its own script, style and API only; no inline code, no framing. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; " +
  "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const JSON_TYPE = 'application/json; charset=utf-8';

export function json(status: number, value: unknown, headers?: Readonly<Record<string, string>>): Reply {
  return headers
    ? { status, contentType: JSON_TYPE, body: JSON.stringify(value), headers }
    : { status, contentType: JSON_TYPE, body: JSON.stringify(value) };
}

export function error(status: number, message: string, headers?: Readonly<Record<string, string>>): Reply {
  return json(status, { error: message }, headers);
}

/** Write a reply (HEAD: Node drops the body and keeps Content-Length). */
export function send(res: ServerResponse, r: Reply): void {
  const body = Buffer.from(r.body, 'utf8');
  res.writeHead(r.status, {
    ...BASE_HEADERS,
    'Content-Security-Policy': DATA_CSP,
    ...r.headers,
    'Content-Type': r.contentType,
    'Content-Length': String(body.length),
  });
  res.end(body);
}

/** A minimal HTTP/1.1 error written straight to a socket whose request did not parse. */
export function rawError(status: number, reason: string): string {
  const body = JSON.stringify({ error: reason.toLowerCase() });
  const head = [
    `HTTP/1.1 ${status} ${reason}`,
    `Content-Type: ${JSON_TYPE}`,
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
  ];
  return `${head.join('\r\n')}\r\n\r\n${body}`;
}
