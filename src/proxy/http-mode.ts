/**
 * Registers HTTP/1.1 (and the WebSocket upgrades it carries) on a proxy context: one upstream
 * pool set per proxy, swept with the connections and closed on stop.
 */
import type { ProxyContext } from '../net/context.js';
import { startHttp } from './http-session.js';
import { UpstreamPools } from './upstream-pool.js';

export function registerHttpMode(ctx: ProxyContext): UpstreamPools {
  const pools = new UpstreamPools(ctx);
  ctx.services.push(pools);
  ctx.httpHandler = (c, route) => startHttp(c, route, pools);
  return pools;
}
