/**
 * Admission control: IP allow/block lists (block wins), the global connection cap, per-IP
 * concurrency and the per-IP rate, checked at accept; route lists and route limits checked once
 * the route is known. Each refusal is its own close reason; nothing here throws or buffers.
 */
import { CloseReason } from '../core/close-reasons.js';
import type { ResolvedOptions } from '../config/schema.js';
import { IpMatcher } from '../routing/ip-matcher.js';
import type { CompiledRoute } from '../routing/route-table.js';
import { IpTracker } from './ip-tracker.js';

/** What admission needs to know about a connection. */
export interface Admittee {
  readonly remoteIP: string;
}

interface RouteGuard {
  readonly allow: IpMatcher | null;
  readonly block: IpMatcher | null;
  readonly maxConnections: number;
  readonly maxPerIp: number;
  readonly perIp: Map<string, number>;
}

const matcher = (list: readonly string[] | undefined): IpMatcher | null =>
  list !== undefined && list.length > 0 ? new IpMatcher(list) : null;

export class Admission {
  readonly tracker: IpTracker;
  #options: ResolvedOptions;
  #allow: IpMatcher | null;
  #block: IpMatcher | null;
  readonly #guards = new WeakMap<CompiledRoute, RouteGuard>();
  /** Route name → per-IP counts, kept across route-table swaps so limits stay exact. */
  readonly #routeIps = new Map<string, Map<string, number>>();

  constructor(options: ResolvedOptions, trackerCap?: number) {
    this.tracker = new IpTracker(trackerCap);
    this.#options = options;
    const s = options.defaults.security;
    this.#allow = matcher(s.ipAllowList);
    this.#block = matcher(s.ipBlockList);
  }

  /**
   * Checks at accept, before any byte is read. `active` = open connections right now. The
   * per-client checks (IP lists, rate, per-IP count) are keyed by `c.remoteIP`; a connection from
   * a trusted PROXY-protocol peer passes `client: false` here and `admitClient` once the header
   * named the client, so a load balancer's address is never charged for its clients.
   */
  atAccept(c: Admittee, active: number, now: number, client = true): CloseReason | null {
    const max = this.#options.defaults.security.maxConnections;
    if (max > 0 && active > max) return CloseReason.GlobalConnectionLimit;
    return client ? this.admitClient(c.remoteIP, now) : null;
  }

  /**
   * The per-client checks for `ip`; when it is admitted, its per-IP count is charged and the
   * caller must `releaseClient(ip)` exactly once at close (the same key, whatever changes later).
   */
  admitClient(ip: string, now: number): CloseReason | null {
    if (this.#block?.matches(ip) === true || (this.#allow !== null && !this.#allow.matches(ip))) {
      return CloseReason.IpBlocked;
    }
    const o = this.#options;
    if (o.connectionRateLimitPerMinute > 0 && this.tracker.attempt(ip, now) > o.connectionRateLimitPerMinute) {
      return CloseReason.RateLimited;
    }
    if (o.maxConnectionsPerIP > 0 && this.tracker.active(ip) >= o.maxConnectionsPerIP) {
      return CloseReason.IpConnectionLimit;
    }
    this.tracker.acquire(ip, now);
    return null;
  }

  /** Undo `admitClient`'s per-IP count when an admitted connection closes. */
  releaseClient(ip: string, now: number): void {
    this.tracker.release(ip, now);
  }

  /** The route's IP allow/block lists alone (HTTP requests routed after the connection was). */
  ipAllowed(c: Admittee, route: CompiledRoute): boolean {
    const g = this.#guard(route);
    const ip = c.remoteIP;
    return g.block?.matches(ip) !== true && (g.allow === null || g.allow.matches(ip));
  }

  /**
   * Checks once routed. `onRoute` = open connections already counted on the route (incl. this
   * one). HTTP connections skip the IP lists here: every request is checked against the lists of
   * the route it is sent to (ipAllowed).
   */
  atRoute(c: Admittee, route: CompiledRoute, onRoute: number, ipLists = true): CloseReason | null {
    if (ipLists && !this.ipAllowed(c, route)) return CloseReason.RouteIpBlocked;
    const g = this.#guard(route);
    const ip = c.remoteIP;
    if (g.maxConnections > 0 && onRoute > g.maxConnections) return CloseReason.RouteConnectionLimit;
    const n = g.perIp.get(ip) ?? 0;
    if (g.maxPerIp > 0 && n >= g.maxPerIp) return CloseReason.RouteIpConnectionLimit;
    g.perIp.set(ip, n + 1);
    return null;
  }

  releaseRoute(c: Admittee, route: CompiledRoute): void {
    const per = this.#routeIps.get(route.name);
    if (per === undefined) return;
    const n = (per.get(c.remoteIP) ?? 1) - 1;
    if (n <= 0) per.delete(c.remoteIP);
    else per.set(c.remoteIP, n);
  }

  /** Periodic housekeeping from the sweep. */
  expire(now: number): void {
    this.tracker.expire(now);
  }

  #guard(route: CompiledRoute): RouteGuard {
    let g = this.#guards.get(route);
    if (g === undefined) {
      const s = route.config.security;
      let perIp = this.#routeIps.get(route.name);
      if (perIp === undefined) this.#routeIps.set(route.name, (perIp = new Map()));
      g = {
        allow: matcher(s?.ipAllowList),
        block: matcher(s?.ipBlockList),
        maxConnections: s?.maxConnections ?? 0,
        maxPerIp: s?.maxConnectionsPerIP ?? 0,
        perIp,
      };
      this.#guards.set(route, g);
    }
    return g;
  }
}
