/**
 * Socket errors named (issue 14): which close reason an `error` event on a peer's socket means.
 * Pure functions of the error code and what the socket still holds, so the data path calls them
 * from its listeners and tests call them directly.
 */
import { CloseReason } from '../core/close-reasons.js';

/** getaddrinfo failures: the name did not resolve (now, or at all). */
const DNS_CODES: ReadonlySet<string> = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME', 'EAI_NODATA']);

export function isDnsFailure(code: string | undefined): boolean {
  return code !== undefined && DNS_CODES.has(code);
}

type PeerErrorReason =
  | typeof CloseReason.ClientReset
  | typeof CloseReason.ClientKeepAliveTimeout
  | typeof CloseReason.ClientError
  | typeof CloseReason.BackendReset
  | typeof CloseReason.BackendKeepAliveTimeout
  | typeof CloseReason.BackendError;

/**
 * The reason for an error on an established socket of `side`. ETIMEDOUT on a socket with TCP
 * keep-alive on and nothing waiting in its write buffer is the kernel giving up on unanswered
 * keep-alive probes: the peer (or a NAT / firewall between) vanished without a FIN or RST. With
 * bytes waiting it is a retransmission timeout, which stays `*_error`. (Bytes already handed to
 * the kernel but unacknowledged are not visible from Node: such a retransmission timeout on an
 * otherwise idle socket is named a keep-alive timeout too. Both mean "the peer went silent".)
 */
export function peerErrorReason(
  side: 'client' | 'backend',
  code: string | undefined,
  keepAlive: boolean,
  writableLength: number,
): PeerErrorReason {
  const client = side === 'client';
  if (code === 'ECONNRESET') return client ? CloseReason.ClientReset : CloseReason.BackendReset;
  if (code === 'ETIMEDOUT' && keepAlive && writableLength === 0)
    return client ? CloseReason.ClientKeepAliveTimeout : CloseReason.BackendKeepAliveTimeout;
  return client ? CloseReason.ClientError : CloseReason.BackendError;
}
