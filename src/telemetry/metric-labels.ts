/**
 * How close reasons, WebSocket close codes and errno values become label values: bounded sets, so
 * a client can never grow the number of series (DESIGN §3).
 */
import { CloseReason } from '../core/close-reasons.js';

export const LIMITS: ReadonlySet<string> = new Set([
  CloseReason.GlobalConnectionLimit,
  CloseReason.IpConnectionLimit,
  CloseReason.RateLimited,
  CloseReason.RouteConnectionLimit,
  CloseReason.RouteIpConnectionLimit,
  CloseReason.PendingDataLimit,
]);
export const CONNECT_FAILURES: ReadonlySet<string> = new Set([CloseReason.BackendConnectFailed, CloseReason.BackendConnectTimeout, CloseReason.BackendTlsError, CloseReason.BackendDnsFailed]);
export const HELLO_FAILURES: ReadonlySet<string> = new Set([CloseReason.ClientHelloInvalid, CloseReason.ClientHelloTooLarge, CloseReason.NotTls]);
export const TLS_FAILURES: ReadonlySet<string> = new Set([CloseReason.TlsProtocolError, CloseReason.TlsClientAbort, CloseReason.TlsHandshakeTimeout, CloseReason.TlsNoCertificate]);
const KNOWN_WS_CODES: ReadonlySet<number> = new Set([1000, 1001, 1002, 1003, 1005, 1006, 1007, 1008, 1009, 1010, 1011]);

/** Accept / connect error codes as a bounded label value. */
const KNOWN_ERRNO: ReadonlySet<string> = new Set(['EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EADDRNOTAVAIL', 'ECONNABORTED', 'EPROTO', 'EPERM']);
export function errnoLabel(code: string | null): string {
  return code !== null && KNOWN_ERRNO.has(code) ? code : 'other';
}

/** A close code as a bounded label value. */
export function wsCodeClass(code: number): string {
  if (KNOWN_WS_CODES.has(code)) return String(code);
  if (code >= 3000 && code < 4000) return '3xxx';
  if (code >= 4000 && code < 5000) return '4xxx';
  return 'other';
}
