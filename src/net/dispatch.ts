/**
 * From a route decision to a running connection: count it under its route, publish the route
 * event, then hand it to the route's mode (resolved when the table was compiled).
 */
import { Initiator, Phase } from '../core/close-reasons.js';
import { channels } from '../core/channels.js';
import { F, type Connection } from './connection.js';
import { runMode, type Route } from './mode.js';

export function dispatch(c: Connection, route: Route, alpn: readonly string[] = [], versions: readonly string[] = []): void {
  c.setRoute(route);
  c.enter(Phase.Routing);
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
  runMode(c, route.mode, route);
}
