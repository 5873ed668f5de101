/**
 * One listener per port. Accept → record → admission → PROXY header / peek / route (DESIGN §1).
 * Sockets start paused (`pauseOnConnect`): nothing is read until a phase needs bytes, so a
 * plain-TCP route never buffers in user space while its backend connects.
 */
import net from 'node:net';
import { CloseReason, EndKind, Initiator } from '../core/close-reasons.js';
import { channels, FaultSite } from '../core/channels.js';
import { maybeFault } from '../core/faults.js';
import { normalizeIp } from '../routing/ip-matcher.js';
import { Connection } from './connection.js';
import type { ProxyContext } from './context.js';
import { failConnection } from './mode.js';
import { routeOrPeek } from './peek.js';
import { onListenerError, trackListener } from './resources.js';

export function createListener(ctx: ProxyContext, port: number): net.Server {
  const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (socket) => {
    onConnection(ctx, port, socket);
  });
  // Errors on the listening socket (EMFILE on accept, ...): counted, logged, backed off from.
  server.on('error', (err: NodeJS.ErrnoException) => onListenerError(ctx, port, err));
  trackListener(ctx, server, port);
  return server;
}

function onConnection(ctx: ProxyContext, port: number, socket: net.Socket): void {
  const addr = socket.remoteAddress;
  if (addr === undefined) {
    // Already reset by the peer between accept and now.
    socket.destroy();
    ctx.registry.count(CloseReason.ClientReset, Initiator.Client);
    return;
  }
  // The record attaches its lifecycle listeners ('error', 'close', 'end'); a mode adds its own once routed.
  const c = new Connection(ctx, socket, ctx.registry.nextId(), port, normalizeIp(addr));
  const o = ctx.options;
  socket.setNoDelay(o.noDelay);
  if (o.keepAlive) socket.setKeepAlive(true, o.keepAliveInitialDelay);
  ctx.registry.add(c);
  if (channels.accept.hasSubscribers) channels.accept.publish({ conn: c });
  try {
    maybeFault(FaultSite.Accept, c);
    // Behind a PROXY-protocol peer the client is known only once the header is read (peek.ts
    // charges it then); until then only the global cap applies.
    const viaProxy = ctx.options.acceptProxyProtocol && ctx.proxyIPs.matches(c.peerIP);
    const refused = ctx.draining
      ? CloseReason.Shutdown
      : ctx.admission.atAccept(c, ctx.registry.size, c.incomingStartTime, !viaProxy);
    if (refused !== null) {
      c.close(refused, Initiator.Proxy, EndKind.Local);
      return;
    }
    if (!viaProxy) c.limitKey = c.clientIP;
    routeOrPeek(c, viaProxy);
  } catch (err) {
    failConnection(c, FaultSite.Accept, err);
  }
}
