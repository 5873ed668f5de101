/**
 * Write stall (issue 14): a peer that stopped reading while the proxy holds data for it. The pump
 * pauses the other side when a write is not taken (backpressure), so nothing is lost and memory
 * stays bounded, but nothing moves either: without this check such a connection waits for the
 * idle timeout (hours for keep-alive, never when immortal) and is then misnamed `inactivity`.
 *
 * Sampled by the sweep, never per chunk. A side is stalled while its socket holds unsent bytes
 * (`writableLength > 0`) and the bytes the kernel took (`bytesWritten - writableLength`: Node's
 * `bytesWritten` counts buffered bytes too) have not grown. The clock starts at the first sample
 * that sees it, so a stall is named between `writeStallTimeout` and one sweep period after it.
 */
import { CloseReason, Initiator } from '../core/close-reasons.js';
import type { Connection } from './connection.js';

/** Per connection, made only once a side is seen with bytes waiting. */
export interface WriteStallState {
  clientTaken: number;
  /** When the client side was first seen stalled at `clientTaken` (0 = not stalled). */
  clientSince: number;
  backendTaken: number;
  backendSince: number;
}

interface Writable {
  readonly writableLength: number;
  readonly bytesWritten: number;
  readonly destroyed: boolean;
}

/** How long `s` has been stalled (0 = not), updating the side's record in `st`. */
function stalledFor(s: Writable, st: WriteStallState, side: 'client' | 'backend', now: number): number {
  const pending = s.writableLength;
  const sinceKey = side === 'client' ? 'clientSince' : 'backendSince';
  if (pending === 0 || s.destroyed) {
    st[sinceKey] = 0;
    return 0;
  }
  const takenKey = side === 'client' ? 'clientTaken' : 'backendTaken';
  const taken = s.bytesWritten - pending;
  if (st[sinceKey] === 0 || taken !== st[takenKey]) {
    st[takenKey] = taken;
    st[sinceKey] = now;
    return 0;
  }
  return now - st[sinceKey];
}

/** Close `c` as `write_stall` (initiator: the peer that stopped reading) when due; true if closed. */
export function checkWriteStall(c: Connection, now: number): boolean {
  const timeout = c.ctx.options.lifecycle.writeStallTimeout;
  if (timeout <= 0) return false;
  const b = c.backend;
  // Nothing waits on either side (the usual case): no state, no native calls.
  if (c.client.writableLength === 0 && (b === null || b.writableLength === 0) && c.writeStall === null) return false;
  const st = (c.writeStall ??= { clientTaken: 0, clientSince: 0, backendTaken: 0, backendSince: 0 });
  if (stalledFor(c.client, st, 'client', now) >= timeout) {
    c.close(CloseReason.WriteStall, Initiator.Client);
    return true;
  }
  if (b !== null && stalledFor(b, st, 'backend', now) >= timeout) {
    c.close(CloseReason.WriteStall, Initiator.Backend);
    return true;
  }
  return false;
}
