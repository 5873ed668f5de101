/**
 * What every connection of one proxy shares: options, clock, wheel, registry, the current route
 * table. Built once by the composition root (server.ts); the data path reads it, never imports
 * the root.
 */
import type { Clock } from '../core/clock.js';
import type { TimerWheel } from '../core/timer-wheel.js';
import type { ResolvedOptions } from '../config/schema.js';
import type { RouteTable } from '../routing/route-table.js';
import type { Mode, Route } from './mode.js';
import type { IpMatcher } from '../routing/ip-matcher.js';
import type { Admission } from '../security/admission.js';
import type { ConnectionRegistry } from './registry.js';
import type { EffectiveTimeouts } from './timeouts.js';

export interface ProxyContext {
  readonly proxyId: number;
  readonly clock: Clock;
  readonly wheel: TimerWheel;
  readonly registry: ConnectionRegistry;
  options: ResolvedOptions;
  /** Swapped atomically by updateRoutes(); connections keep the route they were given. */
  table: RouteTable<Mode>;
  /** `defaults.target` as a route, used when nothing else matches. */
  defaultRoute: Route | null;
  /** Peers allowed to send a PROXY protocol header. */
  proxyIPs: IpMatcher;
  draining: boolean;
  /** The configuration generation: 1 at start, +1 per applied reload or route update (issue 14). */
  generation: number;
  readonly admission: Admission;
  /** Effective timeouts for keep-alive and other connections (recomputed when options change). */
  timeouts: { readonly keepAlive: EffectiveTimeouts; readonly plain: EffectiveTimeouts };
  /** Background parts of modes (upstream pools), registered by the composition root from the mode table: swept with the connections, closed on stop. */
  readonly services: BackgroundService[];
  /**
   * Out of descriptors or ports (net/resources.ts): the errno, until when a connect-side failure
   * holds /readyz at 503, and how many listeners are paused. null: nothing is exhausted.
   */
  exhausted: { code: string; until: number; pausedListeners: number } | null;
}

export interface BackgroundService {
  /** Called on every sweep tick; the service decides how much work that is. */
  sweep(now: number): void;
  /** Close everything it holds (idempotent). */
  close(): void;
  /** The proxy (re)starts after a stop. */
  open(): void;
}
