/**
 * The tunnel mode: passthrough TLS and plain TCP routes, and terminated TLS routes that do not
 * read HTTP (after tls-terminate.ts). Resolve the target, open the backend socket (net/upstream.ts)
 * under the connect deadline; once it connects send the PROXY header and the peeked bytes, then
 * pump both ways until one side ends.
 *
 * The byte pump (below): the flow listeners that move chunks between the two sockets with
 * backpressure (pause the reader when the writer's buffer is full, resume on 'drain') and pass a
 * FIN on (TCP half-close: the other direction keeps flowing). Per chunk it does what piping
 * needs and nothing else (DESIGN §2.3). The WebSocket relay uses its drain / FIN listeners with
 * data listeners of its own. The sockets' lifecycle ('error', 'close': the close decision) is the
 * record's, net/socket-events.ts.
 */
import { CloseReason, EndKind, Initiator, Phase } from '../core/close-reasons.js';
import { channels, FaultSite } from '../core/channels.js';
import { SightlineError } from '../core/errors.js';
import { encodeProxyV1, encodeProxyV2 } from '../protocol/proxy-protocol.js';
import { normalizeIp } from '../routing/ip-matcher.js';
import { Deadline, F, kConn, type Connection, type ConnSocket } from '../net/connection.js';
import { Listeners, guarded, type Mode, type Route } from '../net/mode.js';
import { openBackendSocket, resolveTarget } from '../net/upstream.js';

export const tunnel: Mode = {
  name: 'tunnel',
  site: FaultSite.Connect,
  start: connect,
  /** The only deadline of a tunnel: the backend did not connect in time. */
  deadline(c) {
    c.close(CloseReason.BackendConnectTimeout);
  },
  clientEnd(c) {
    // While connecting the FIN is noted on the record and passed on once connected.
    if (c.phase === Phase.Tunnel) endBackendWrite(c);
  },
};

function connect(c: Connection, route: Route): void {
  const target = resolveTarget(c, route);
  if (typeof target === 'string') {
    c.close(
      CloseReason.TargetResolutionFailed,
      Initiator.Proxy,
      EndKind.Local,
      new SightlineError('SL_ERR_TARGET', target),
    );
    return;
  }
  const o = c.ctx.options;
  c.target = `${target.host}:${target.port}`;
  c.enter(Phase.Connecting);
  c.connectStart = c.ctx.clock.now();
  const { socket: b, ready } = openBackendSocket(o, route, target, c.serverName);
  c.adoptBackend(b);
  b.once(ready, onBackendConnect);
  c.armDeadline(Deadline.Mode, o.connectionTimeout);
}

/** The backend has connected: send PROXY header and replayed bytes, then pump both ways. */
const onBackendConnect = guarded(FaultSite.Connect, function onBackendConnect(this: ConnSocket): void {
  const c = this[kConn]!;
  const b = c.backend!;
  const ctx = c.ctx;
  c.disarmDeadline();
  c.enter(Phase.Tunnel);
  c.backendReady();
  c.story.markUpstream();
  const proxyHeader = c.route?.config.action.sendProxyProtocol ?? ctx.options.sendProxyProtocol;
  if (proxyHeader !== false && proxyHeader !== undefined) b.write(proxyHeaderFor(c, proxyHeader));
  const pending = c.takePending();
  if (pending !== null) c.story.c2b();
  if (pending !== null) b.write(pending);
  CLIENT_PUMP.attach(c.client);
  BACKEND_PUMP.attach(b);
  if ((c.flags & F.ClientFin) !== 0) endBackendWrite(c);
  else c.client.resume();
  if (channels.backendConnected.hasSubscribers) {
    channels.backendConnected.publish({
      conn: c,
      target: c.target ?? '',
      connectMs: c.backendConnectedAt - c.connectStart,
    });
  }
});

function proxyHeaderFor(c: Connection, version: true | 'v1' | 'v2'): Buffer {
  const src = { address: c.clientIP, port: c.clientPort };
  const dst = { address: normalizeIp(c.client.localAddress ?? '0.0.0.0'), port: c.client.localPort ?? c.listenPort };
  // v2 also tells the next hop this connection's unique id (v1 has no room for it).
  return version === 'v2' ? encodeProxyV2(src, dst, 'PROXY', c.uniqueId) : encodeProxyV1(src, dst);
}

// ---- the byte pump --------------------------------------------------------------------------

function onClientData(this: ConnSocket, chunk: Buffer): void {
  const b = this[kConn]!.backend!;
  this[kConn]!.story.c2b();
  if (!b.write(chunk)) this.pause();
}

function onBackendData(this: ConnSocket, chunk: Buffer): void {
  this[kConn]!.story.b2c();
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
export const BACKEND_PUMP = new Listeners(FaultSite.Pump, {
  data: onBackendData,
  drain: onBackendDrain,
  end: onBackendEnd,
});
