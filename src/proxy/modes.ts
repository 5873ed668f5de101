/**
 * The mode table (DESIGN §1 L4): which mode a route's connections run, decided once when the
 * route table is compiled (`CompiledRoute.mode`), and the modes' background services. Built per
 * proxy by the composition root (server.ts): the HTTP mode holds that proxy's upstream pools.
 *
 * A new mode: one file in proxy/ exporting a `Mode` (net/mode.ts), one line in `resolve` below.
 */
import type { BackgroundService, ProxyContext } from '../net/context.js';
import type { Mode } from '../net/mode.js';
import { isTerminating, type ModeFacts } from '../routing/route-table.js';
import { httpMode } from './http-session.js';
import { socketHandler } from './socket-handler.js';
import { tlsTerminate } from './tls-terminate.js';
import { tunnel } from './tunnel.js';
import { UpstreamPools } from './upstream-pool.js';

export interface ModeTable {
  /** The mode of a route, from its action type, TLS mode and protocol. */
  readonly resolve: (route: ModeFacts) => Mode;
  /** Swept with the connections, closed on stop, opened on start. */
  readonly services: readonly BackgroundService[];
  readonly pools: UpstreamPools;
}

export function modeTable(ctx: ProxyContext): ModeTable {
  const pools = new UpstreamPools(ctx);
  const http = httpMode(pools);
  const tlsToHttp = tlsTerminate(http);
  const tlsToTunnel = tlsTerminate(tunnel);
  const resolve = (r: ModeFacts): Mode => {
    if (r.config.action.type === 'socket-handler') return socketHandler;
    if (isTerminating(r.tlsMode)) return r.protocol === 'http' ? tlsToHttp : tlsToTunnel;
    return r.protocol === 'http' ? http : tunnel;
  };
  return { resolve, services: [pools], pools };
}
