/**
 * The byte pump: the flow listeners that move chunks between the two sockets of a connection
 * with backpressure (pause the reader when the writer's buffer is full, resume on 'drain') and
 * pass a FIN on (TCP half-close: the other direction keeps flowing). Per chunk it does what
 * piping needs and nothing else (DESIGN §2.3). The tunnel attaches all of them; the WebSocket
 * relay its own data listeners with these drain / FIN ones. The sockets' lifecycle ('error',
 * 'close': the close decision) is the record's, net/socket-events.ts.
 */
import { FaultSite } from '../core/channels.js';
import { F, kConn, type Connection, type ConnSocket } from '../net/connection.js';
import { Listeners } from '../net/mode.js';

function onClientData(this: ConnSocket, chunk: Buffer): void {
  const b = this[kConn]!.backend!;
  if (!b.write(chunk)) this.pause();
}

function onBackendData(this: ConnSocket, chunk: Buffer): void {
  if (!this[kConn]!.client.write(chunk)) this.pause();
}

/** The backend's buffer drained: the client may be read again. */
export function onBackendDrain(this: ConnSocket): void {
  this[kConn]!.client.resume();
}

/** The client's buffer drained: the backend may be read again. */
export function onClientDrain(this: ConnSocket): void {
  this[kConn]!.backend?.resume();
}

/** The backend sent FIN: pass it on to the client. */
export function onBackendEnd(this: ConnSocket): void {
  const c = this[kConn]!;
  c.flags |= F.BackendFin;
  c.noteFirstEnd('backend');
  if (!c.client.destroyed) {
    c.client.end();
    c.flags |= F.ClientWriteEnded;
  }
}

/** The client sent FIN: pass it on to the backend. */
export function endBackendWrite(c: Connection): void {
  const b = c.backend;
  if (b !== null && !b.destroyed) {
    b.end();
    c.flags |= F.BackendWriteEnded;
  }
}

/** The tunnel's listeners on the client socket and on the backend socket. */
export const CLIENT_PUMP = new Listeners(FaultSite.Pump, { data: onClientData, drain: onClientDrain });
export const BACKEND_PUMP = new Listeners(FaultSite.Pump, { data: onBackendData, drain: onBackendDrain, end: onBackendEnd });
