/**
 * HTTP header policy (DESIGN §1 L1): the heads Sightline sends on, given the heads it parsed.
 * Hop-by-hop fields (RFC 9110 §7.6.1, and every field the Connection header lists) are dropped;
 * the proxy states its own connection handling; X-Forwarded-For / -Proto / -Host tell the backend
 * who asked. Everything else, `traceparent` included, is passed on unchanged and in order.
 *
 * Strings in, a latin1 string out (header bytes are octets; latin1 keeps them one to one).
 */
import { isHopByHop, type RequestHead, type ResponseHead } from './http-head.js';

export interface ForwardedFacts {
  /** The client's address (after any PROXY header). */
  readonly clientIp: string;
  /** 'https' when Sightline terminated TLS, else 'http'. */
  readonly proto: 'http' | 'https';
  /** Add X-Forwarded-For (appended to any the client sent) and set -Proto and -Host. */
  readonly xForwarded: boolean;
  /** Replaces the client's traceparent (tracing continues the trace through the proxy). */
  readonly traceparent?: string | null;
}

const XFF = 'x-forwarded-for';
const XFP = 'x-forwarded-proto';
const XFH = 'x-forwarded-host';

/**
 * The request head toward the backend: always HTTP/1.1, keep-alive, or an upgrade request when
 * `upgrade` is set (Connection: Upgrade plus the client's Upgrade value). `target`: the
 * request-target routing saw; `authority`: a Host replacing the client's; `forwardedHost`: what
 * X-Forwarded-Host says (the host the client asked for).
 */
export function forwardRequestHead(
  head: RequestHead,
  facts: ForwardedFacts,
  upgrade: string | null,
  target = head.target,
  authority: string | null = null,
  forwardedHost: string | null = authority ?? head.host,
): string {
  const tokens = head.connectionTokens;
  let out = `${head.method} ${target} HTTP/1.1\r\n`;
  // An absolute-form target's authority is the Host (RFC 9112 §3.2.2): the client's Host goes.
  if (authority !== null) out += `Host: ${authority}\r\n`;
  let xff: string | null = null;
  const tp = facts.traceparent ?? null;
  let lengthSent = !head.contentLengthRepeated;
  for (const [name, value] of head.headers) {
    // Transfer-Encoding is kept as sent: the body is passed on with the same codings.
    if (isHopByHop(name, tokens) && !isTransferEncoding(name)) continue;
    const n = name.length;
    if (authority !== null && n === 4 && name.toLowerCase() === 'host') continue;
    if (!lengthSent || (head.contentLengthRepeated && n === 14)) {
      if (n === 14 && name.toLowerCase() === 'content-length') {
        // Identical repeated values (RFC 9110 §8.6): the backend gets one field.
        if (!lengthSent) out += `Content-Length: ${head.contentLength}\r\n`;
        lengthSent = true;
        continue;
      }
    }
    if (tp !== null && n === 11 && name.toLowerCase() === 'traceparent') continue;
    // x-forwarded-for (15), -host (16), -proto (17): lowercase only names of those lengths.
    if (facts.xForwarded && n >= 15 && n <= 17 && (name.charCodeAt(0) | 0x20) === 0x78) {
      const lower = name.toLowerCase();
      if (lower === XFF) {
        xff = xff === null ? value : `${xff}, ${value}`;
        continue;
      }
      if (lower === XFP || lower === XFH) continue;
    }
    out += `${name}: ${value}\r\n`;
  }
  if (tp !== null) out += `traceparent: ${tp}\r\n`;
  if (facts.xForwarded) {
    out += `X-Forwarded-For: ${xff === null ? facts.clientIp : `${xff}, ${facts.clientIp}`}\r\n`;
    out += `X-Forwarded-Proto: ${facts.proto}\r\n`;
    if (forwardedHost !== null) out += `X-Forwarded-Host: ${forwardedHost}\r\n`;
  }
  out += upgrade !== null ? `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n\r\n` : 'Connection: keep-alive\r\n\r\n';
  return out;
}

/** How the proxy will treat the client connection after this response. */
export interface ClientFraming {
  /** The client connection closes after this response. */
  readonly close: boolean;
  /** The client spoke HTTP/1.0 (keep-alive must then be stated). */
  readonly http10: boolean;
}

function isTransferEncoding(name: string): boolean {
  return name.length === 17 && name.toLowerCase() === 'transfer-encoding';
}

/**
 * True when the backend's response head can go to the client unchanged: an HTTP/1.1 client kept
 * alive, and no hop-by-hop field but `Connection: keep-alive` (what the proxy would say anyway)
 * and Transfer-Encoding (the body is passed on with the codings it came with).
 */
export function responseHeadPassesAsIs(head: ResponseHead, client: ClientFraming): boolean {
  return !client.close && !client.http10 && head.version === '1.1' && !head.extraHopByHop;
}

/** The response head toward the client, hop-by-hop fields replaced by the proxy's own. */
export function forwardResponseHead(head: ResponseHead, client: ClientFraming, upgrade: string | null): string {
  const tokens = head.connectionTokens;
  let out = `HTTP/1.1 ${head.status} ${head.reason}\r\n`;
  let lengthSent = false;
  for (const [name, value] of head.headers) {
    if (head.contentLengthRepeated && name.length === 14 && name.toLowerCase() === 'content-length') {
      // Identical repeated values (RFC 9110 §8.6): the client gets one field.
      // (Its value, not head.contentLength: that is 0 for an answer to HEAD.)
      if (!lengthSent) out += `Content-Length: ${value.split(',')[0]!.trim()}\r\n`;
      lengthSent = true;
      continue;
    }
    if (!isHopByHop(name, tokens) || isTransferEncoding(name)) out += `${name}: ${value}\r\n`;
  }
  if (upgrade !== null) out += `Connection: Upgrade\r\nUpgrade: ${upgrade}\r\n`;
  else if (head.status >= 200) {
    if (client.close) out += 'Connection: close\r\n';
    else if (client.http10) out += 'Connection: keep-alive\r\n';
  }
  return `${out}\r\n`;
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  421: 'Misdirected Request',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
};

/**
 * A response the proxy writes itself. The body names the status and the close reason so a user
 * looking at it (or at a curl trace) can find the matching log line and metric.
 */
export function proxyResponse(status: number, reason: string, close: boolean): string {
  const text = STATUS_TEXT[status] ?? 'Error';
  const body = `${status} ${text} (sightline: ${reason})\n`;
  return (
    `HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${body.length}\r\n` +
    `cache-control: no-store\r\nconnection: ${close ? 'close' : 'keep-alive'}\r\n\r\n${body}`
  );
}
