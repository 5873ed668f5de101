/**
 * The record's own listeners: the lifecycle of the client socket ('end', 'error', 'close',
 * attached at accept and to a TLS socket that replaces it) and of the backend socket ('error',
 * 'close', attached when a mode adopts one). They turn socket events into the one close reason
 * of the record; the running mode is asked first through its hooks (net/mode.ts), so this file
 * names no mode and no mode's phase. The bytes themselves move in the modes' own listeners.
 */
import { CloseReason, EndKind, Initiator } from '../core/close-reasons.js';
import { FaultSite } from '../core/channels.js';
import { F, kConn, type ConnSocket } from './connection-bits.js';
import type { Connection } from './connection.js';
import { failConnection, guarded } from './mode.js';
import { connectFailure } from './upstream.js';
import { connectExhausted } from './resources.js';
import { peerErrorReason } from './socket-errors.js';

// ---- client -----------------------------------------------------------------------------------

export const onClientEnd = guarded(FaultSite.Pump, function onClientEnd(this: ConnSocket): void {
  const c = this[kConn];
  if (c === undefined) return;
  c.flags |= F.ClientFin;
  c.noteFirstEnd('client');
  const m = c.runningMode;
  if (m === null) {
    c.close(CloseReason.ClosedBeforeData, Initiator.Client, EndKind.Fin);
    return;
  }
  if (m.clientEnd === undefined) return;
  try {
    m.clientEnd(c);
  } catch (err) {
    failConnection(c, m.site, err);
  }
});

export const onClientError = guarded<NodeJS.ErrnoException>(
  FaultSite.Pump,
  function onClientError(this: ConnSocket, err: NodeJS.ErrnoException): void {
    const c = this[kConn];
    if (c === undefined) return;
    const m = c.runningMode;
    if (m !== null && m.clientError !== undefined) {
      try {
        if (m.clientError(c, err)) return;
      } catch (e) {
        failConnection(c, m.site, e);
        return;
      }
    }
    const reason = peerErrorReason('client', err.code, c.hasKeepAlive, this.writableLength);
    c.decide(reason, Initiator.Client, reason === CloseReason.ClientReset ? EndKind.Rst : EndKind.Error, err);
  },
);

export const onClientClose = guarded(FaultSite.Pump, function onClientClose(this: ConnSocket): void {
  const c = this[kConn];
  if (c === undefined) return;
  c.flags |= F.ClientGone;
  const m = c.runningMode;
  if (m !== null && m.clientClosed !== undefined) {
    try {
      m.clientClosed(c);
    } catch (err) {
      // The record must still complete below: fail() closes, the bookkeeping goes on.
      failConnection(c, m.site, err);
    }
  }
  if (c.reason === null && (c.flags & F.ClientFin) === 0)
    c.decide(CloseReason.ClientClosed, Initiator.Client, EndKind.Fin);
  const b = c.backend;
  if (b !== null && (c.flags & F.BackendGone) === 0) {
    if (c.reason === CloseReason.ClientReset) resetPeer(b);
    // The backend may still be flushing its last bytes after both FINs; let it finish.
    else if ((c.flags & (F.BackendFin | F.BackendWriteEnded)) !== (F.BackendFin | F.BackendWriteEnded)) b.destroy();
  }
  c.maybeFinalize();
});

// ---- backend ----------------------------------------------------------------------------------

export const onBackendError = guarded<NodeJS.ErrnoException>(
  FaultSite.Pump,
  function onBackendError(this: ConnSocket, err: NodeJS.ErrnoException): void {
    const c = this[kConn]!;
    if ((c.flags & F.BackendReady) === 0) {
      const reason = connectFailure(err);
      if (reason === CloseReason.LocalResourceExhausted) connectExhausted(c.ctx, err.code!);
      // Out of descriptors or ports: the proxy's trouble, not the backend's.
      c.decide(
        reason,
        reason === CloseReason.LocalResourceExhausted ? Initiator.Proxy : Initiator.Backend,
        EndKind.Error,
        err,
      );
    } else {
      const reason = peerErrorReason('backend', err.code, c.hasKeepAlive, this.writableLength);
      c.decide(reason, Initiator.Backend, reason === CloseReason.BackendReset ? EndKind.Rst : EndKind.Error, err);
    }
  },
);

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

/** Bytes held in user space for this connection right now (the backpressure bound's subject). */
export function bufferedBytes(c: Connection): number {
  const cl = c.client;
  const b = c.backend;
  let n = cl.writableLength + cl.readableLength + (c.pending?.length ?? 0);
  if (b !== null) n += b.writableLength + b.readableLength;
  return n;
}
