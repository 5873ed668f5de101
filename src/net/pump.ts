/**
 * The byte pump: module-level listeners that move chunks between the two sockets of a connection
 * with backpressure (pause the reader when the writer's buffer is full, resume on 'drain') and
 * honour TCP half-close (a FIN is passed on, the other direction keeps flowing). Per chunk it does
 * what piping needs and nothing else (DESIGN §2.3).
 *
 * The same file holds the 'end' / 'error' / 'close' listeners of both sides, which turn socket
 * events into the one close reason of the record.
 */
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { channels, FaultSite } from '../core/channels.js';
import { encodeProxyV1, encodeProxyV2 } from '../protocol/proxy-protocol.js';
import { normalizeIp } from '../routing/ip-matcher.js';
import { F, kConn, type Connection, type ConnSocket } from './connection.js';
import { guarded } from './guard.js';
import { connectExhausted, isResourceExhaustion } from './resources.js';
import { isDnsFailure, peerErrorReason } from './socket-errors.js';

// ---- data + backpressure -------------------------------------------------------------------

const onClientData = guarded<Buffer>(FaultSite.Pump, function onClientData(this: ConnSocket, chunk: Buffer): void {
  const b = this[kConn]!.backend!;
  if (!b.write(chunk)) this.pause();
});
const onBackendData = guarded<Buffer>(FaultSite.Pump, function onBackendData(this: ConnSocket, chunk: Buffer): void {
  if (!this[kConn]!.client.write(chunk)) this.pause();
});
const onBackendDrain = guarded(FaultSite.Pump, function onBackendDrain(this: ConnSocket): void {
  this[kConn]!.client.resume();
});
const onClientDrain = guarded(FaultSite.Pump, function onClientDrain(this: ConnSocket): void {
  this[kConn]!.backend?.resume();
});

// ---- FIN ------------------------------------------------------------------------------------

export const onClientEnd = guarded(FaultSite.Pump, function onClientEnd(this: ConnSocket): void {
  const c = this[kConn];
  if (c === undefined) return;
  c.flags |= F.ClientFin;
  c.noteFirstEnd('client');
  switch (c.phase) {
    case Phase.Tunnel:
      endBackendWrite(c);
      break;
    case Phase.Connecting:
    case Phase.Handler:
    case Phase.Http:
      break; // passed on once connected / the handler or the HTTP session owns the socket
    default:
      c.close(CloseReason.ClosedBeforeData, Initiator.Client, EndKind.Fin);
  }
});

const onBackendEnd = guarded(FaultSite.Pump, function onBackendEnd(this: ConnSocket): void {
  const c = this[kConn]!;
  c.flags |= F.BackendFin;
  c.noteFirstEnd('backend');
  if (!c.client.destroyed) {
    c.client.end();
    c.flags |= F.ClientWriteEnded;
  }
});

function endBackendWrite(c: Connection): void {
  const b = c.backend;
  if (b !== null && !b.destroyed) {
    b.end();
    c.flags |= F.BackendWriteEnded;
  }
}

// ---- errors ---------------------------------------------------------------------------------

export const onClientError = guarded<NodeJS.ErrnoException>(FaultSite.Pump, function onClientError(this: ConnSocket, err: NodeJS.ErrnoException): void {
  const c = this[kConn];
  if (c === undefined) return;
  const reason = peerErrorReason('client', err.code, c.hasKeepAlive, this.writableLength);
  c.decide(reason, Initiator.Client, reason === CloseReason.ClientReset ? EndKind.Rst : EndKind.Error, err);
});

export const onBackendError = guarded<NodeJS.ErrnoException>(FaultSite.Pump, function onBackendError(this: ConnSocket, err: NodeJS.ErrnoException): void {
  const c = this[kConn]!;
  if (c.phase === Phase.Connecting) {
    const reason = connectFailure(err);
    if (reason === CloseReason.LocalResourceExhausted) connectExhausted(c.ctx, err.code!);
    // Out of descriptors or ports: the proxy's trouble, not the backend's.
    c.decide(reason, reason === CloseReason.LocalResourceExhausted ? Initiator.Proxy : Initiator.Backend, EndKind.Error, err);
  } else {
    const reason = peerErrorReason('backend', err.code, c.hasKeepAlive, this.writableLength);
    c.decide(reason, Initiator.Backend, reason === CloseReason.BackendReset ? EndKind.Rst : EndKind.Error, err);
  }
});

/**
 * Why a backend connect failed: the proxy out of descriptors / ports, the name did not resolve,
 * refused / unreachable, or a TLS handshake / trust failure.
 */
export function connectFailure(
  err: NodeJS.ErrnoException,
): typeof CloseReason.BackendTlsError | typeof CloseReason.BackendConnectFailed | typeof CloseReason.LocalResourceExhausted | typeof CloseReason.BackendDnsFailed {
  const code = err.code;
  if (isResourceExhaustion(code)) return CloseReason.LocalResourceExhausted;
  if (isDnsFailure(code)) return CloseReason.BackendDnsFailed;
  const tls = code !== undefined && (TLS_VERIFY_CODES.has(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS'));
  return tls ? CloseReason.BackendTlsError : CloseReason.BackendConnectFailed;
}

/** OpenSSL verification failures reported when a re-encrypting backend is not trusted. */
const TLS_VERIFY_CODES: ReadonlySet<string> = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
]);

// ---- close ----------------------------------------------------------------------------------

export const onClientClose = guarded(FaultSite.Pump, function onClientClose(this: ConnSocket): void {
  const c = this[kConn];
  if (c === undefined) return;
  c.flags |= F.ClientGone;
  if (c.reason === null) {
    if (c.phase === Phase.Handler) c.decide(CloseReason.HandlerClosed, Initiator.Client, EndKind.Fin);
    else if (c.phase === Phase.TlsHandshake) c.decide(CloseReason.TlsClientAbort, Initiator.Client, EndKind.Fin);
    else if ((c.flags & F.ClientFin) === 0) c.decide(CloseReason.ClientClosed, Initiator.Client, EndKind.Fin);
  }
  const b = c.backend;
  if (b !== null && (c.flags & F.BackendGone) === 0) {
    if (c.reason === CloseReason.ClientReset) resetPeer(b);
    // The backend may still be flushing its last bytes after both FINs; let it finish.
    else if ((c.flags & (F.BackendFin | F.BackendWriteEnded)) !== (F.BackendFin | F.BackendWriteEnded)) b.destroy();
  }
  c.maybeFinalize();
});

export const onBackendClose = guarded(FaultSite.Pump, function onBackendClose(this: ConnSocket): void {
  const c = this[kConn]!;
  c.flags |= F.BackendGone;
  if (c.reason === null && (c.flags & F.BackendFin) === 0) {
    c.decide(CloseReason.BackendClosed, Initiator.Backend, EndKind.Fin);
  }
  const cl = c.client;
  if ((c.flags & F.ClientGone) === 0) {
    if (c.reason === CloseReason.BackendReset) resetPeer(cl);
    else if ((c.flags & (F.ClientFin | F.ClientWriteEnded)) !== (F.ClientFin | F.ClientWriteEnded)) cl.destroy();
  }
  c.maybeFinalize();
});

/** Pass an abort on as an abort: the peer sees RST, as it would without the proxy. */
function resetPeer(s: ConnSocket): void {
  if (s.destroyed) return;
  try {
    s.resetAndDestroy();
  } catch {
    s.destroy();
  }
}

// ---- tunnel start ---------------------------------------------------------------------------

/** The backend has connected: send PROXY header and replayed bytes, then pump both ways. */
export const onBackendConnect = guarded(FaultSite.Connect, function onBackendConnect(this: ConnSocket): void {
  const c = this[kConn]!;
  const b = c.backend!;
  const ctx = c.ctx;
  c.disarmDeadline();
  c.phase = Phase.Tunnel;
  c.backendConnectedAt = ctx.clock.now();
  const proxyHeader = c.route?.config.action.sendProxyProtocol ?? ctx.options.sendProxyProtocol;
  if (proxyHeader !== false && proxyHeader !== undefined) b.write(proxyHeaderFor(c, proxyHeader));
  if (c.pending !== null) {
    b.write(c.pending);
    c.pending = null;
  }
  attachTunnel(c);
  if ((c.flags & F.ClientFin) !== 0) endBackendWrite(c);
  else c.client.resume();
  if (channels.backendConnected.hasSubscribers) {
    channels.backendConnected.publish({ conn: c, target: c.target ?? '', connectMs: c.backendConnectedAt - c.connectStart });
  }
});

type DataListener = (this: ConnSocket, chunk: Buffer) => void;

/**
 * Pump both ways between the connection's two sockets: data (plain, or a mode's relay that
 * watches the bytes), backpressure and the backend's FIN. The backend's 'error' / 'close'
 * listeners are set where the socket is made.
 */
export function attachTunnel(c: Connection, clientData: DataListener = onClientData, backendData: DataListener = onBackendData): void {
  const cl = c.client;
  const b = c.backend!;
  cl.on('data', clientData);
  cl.on('drain', onClientDrain);
  b.on('data', backendData);
  b.on('end', onBackendEnd);
  b.on('drain', onBackendDrain);
}

function proxyHeaderFor(c: Connection, version: true | 'v1' | 'v2'): Buffer {
  const src = { address: c.remoteIP, port: c.remotePort };
  const dst = { address: normalizeIp(c.client.localAddress ?? '0.0.0.0'), port: c.client.localPort ?? c.listenPort };
  // v2 also tells the next hop this connection's unique id (v1 has no room for it).
  return version === 'v2' ? encodeProxyV2(src, dst, 'PROXY', c.uniqueId) : encodeProxyV1(src, dst);
}

/** Bytes held in user space for this connection right now (the backpressure bound's subject). */
export function bufferedBytes(c: Connection): number {
  const cl = c.client;
  const b = c.backend;
  let n = cl.writableLength + cl.readableLength + (c.pending?.length ?? 0);
  if (b !== null) n += b.writableLength + b.readableLength;
  return n;
}
