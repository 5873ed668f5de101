/**
 * From a route decision to a running connection: count it under its route, publish the route
 * event, then hand it to the route's mode: a socket handler, a terminating mode registered by
 * L4 (proxy/), or the L4 passthrough tunnel built here.
 */
import { CloseReason, Initiator, Phase } from '../core/close-reasons.js';
import { channels, FaultSite } from '../core/channels.js';
import { maybeFault } from '../core/faults.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { F, type Connection } from './connection.js';
import { connectUpstream } from './upstream.js';

export function dispatch(c: Connection, route: CompiledRoute, alpn: readonly string[] = [], versions: readonly string[] = []): void {
  c.route = route;
  c.phase = Phase.Routing;
  c.story.markRouted();
  if (route.tlsMode === 'passthrough') c.isTLS = true;
  c.ctx.registry.assignRoute(c);
  const refused = c.ctx.admission.atRoute(c, route, c.ctx.registry.countOnRoute(route.name), route.protocol !== 'http');
  if (refused !== null) {
    c.close(refused, Initiator.Proxy);
    return;
  }
  c.flags |= F.RouteCounted;
  if (channels.route.hasSubscribers) {
    channels.route.publish({ conn: c, routeName: route.name, target: route.targetLabel, alpn, tlsVersions: versions });
  }
  const action = route.config.action;
  if (action.type === 'socket-handler') {
    handOff(c, route);
    return;
  }
  const mode = c.ctx.modeHandlers[route.tlsMode];
  if (mode !== undefined) {
    mode(c, route);
    return;
  }
  if (route.protocol === 'http' && c.ctx.httpHandler !== null) {
    c.ctx.httpHandler(c, route);
    return;
  }
  connectUpstream(c, route);
}

/** `socket-handler` routes: the user's function gets the socket (peeked bytes put back first). */
function handOff(c: Connection, route: CompiledRoute): void {
  const handler = route.config.action.socketHandler;
  if (typeof handler !== 'function') {
    c.close(CloseReason.TargetResolutionFailed, Initiator.Proxy);
    return;
  }
  c.phase = Phase.Handler;
  const s = c.client;
  if (c.pending !== null) {
    s.unshift(c.pending);
    c.pending = null;
  }
  s.resume();
  try {
    maybeFault(FaultSite.Handler, c);
    handler(s, { connectionId: c.id, port: c.listenPort, clientIp: c.remoteIP, serverName: c.serverName, routeName: route.name, isTls: c.isTLS });
  } catch (err) {
    c.fail(FaultSite.Handler, err);
  }
}
