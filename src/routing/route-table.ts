/**
 * Routes compiled into an immutable table (DESIGN §1 L2). The proxy holds one table and swaps it
 * atomically on `updateRoutes`; a live connection keeps the `CompiledRoute` it was given.
 *
 * Order: higher `priority` first, then configuration order; the first match wins.
 */
import type { ResolvedRoute } from '../config/schema.js';
import { DomainMatcher } from './domain-matcher.js';
import { IpMatcher } from './ip-matcher.js';
import { expandPorts } from './ports.js';

export type TlsMode = 'plain' | 'passthrough' | 'terminate' | 'terminate-and-reencrypt';

/** What the ClientHello told us; null when the first bytes were not TLS. */
export interface HelloFacts {
  readonly serverName: string | null;
  readonly versions: readonly string[];
}

export class CompiledRoute {
  readonly name: string;
  readonly priority: number;
  readonly index: number;
  readonly config: ResolvedRoute;
  readonly ports: readonly number[];
  readonly tlsMode: TlsMode;
  /** Routing on this route depends on the ClientHello (it lists domains or TLS versions). */
  readonly needsHello: boolean;
  readonly #domains: DomainMatcher | null;
  readonly #clientIp: IpMatcher | null;
  readonly #tlsVersions: ReadonlySet<string> | null;
  /** Round-robin cursor over the target host list; the only mutable field. */
  rrCursor = 0;

  constructor(config: ResolvedRoute, index: number) {
    this.config = config;
    this.index = index;
    this.name = config.name ?? `route-${index}`;
    this.priority = config.priority ?? 0;
    this.ports = expandPorts(config.match.ports);
    const d = config.match.domains;
    const domains = d === undefined ? [] : typeof d === 'string' ? [d] : d;
    this.#domains = domains.length > 0 ? new DomainMatcher(domains) : null;
    const ips = config.match.clientIp ?? [];
    this.#clientIp = ips.length > 0 ? new IpMatcher(ips) : null;
    const versions = config.match.tlsVersion ?? [];
    this.#tlsVersions = versions.length > 0 ? new Set(versions) : null;
    this.needsHello = this.#domains !== null || this.#tlsVersions !== null;
    this.tlsMode = config.action.tls?.mode ?? 'plain';
  }

  matchesIp(ip: string): boolean {
    return this.#clientIp === null || this.#clientIp.matches(ip);
  }

  matchesHello(hello: HelloFacts | null): boolean {
    if (this.#domains !== null && !this.#domains.matches(hello?.serverName ?? null)) return false;
    if (this.#tlsVersions !== null) {
      if (hello === null) return false;
      let ok = false;
      for (const v of hello.versions) if (this.#tlsVersions.has(v)) ok = true;
      if (!ok) return false;
    }
    return true;
  }
}

/** `matchAtAccept` result when the answer depends on bytes not yet read. */
export const NEED_HELLO = Symbol('sightline.needHello');

export class RouteTable {
  readonly routes: readonly CompiledRoute[];
  readonly #byPort: ReadonlyMap<number, readonly CompiledRoute[]>;

  constructor(routes: readonly ResolvedRoute[]) {
    const compiled = routes
      .map((r, i) => new CompiledRoute(r, i))
      .filter((r) => r.config.enabled !== false)
      .sort((a, b) => b.priority - a.priority || a.index - b.index);
    const byPort = new Map<number, CompiledRoute[]>();
    for (const r of compiled) {
      for (const p of r.ports) {
        let list = byPort.get(p);
        if (list === undefined) byPort.set(p, (list = []));
        list.push(r);
      }
    }
    this.routes = Object.freeze(compiled);
    this.#byPort = byPort;
  }

  get ports(): number[] {
    return [...this.#byPort.keys()].sort((a, b) => a - b);
  }

  routesOn(port: number): readonly CompiledRoute[] {
    return this.#byPort.get(port) ?? [];
  }

  /**
   * Decide at accept, before any byte is read. A route that does not look at the ClientHello
   * wins at once if nothing ahead of it needs the hello; otherwise the caller must peek.
   */
  matchAtAccept(port: number, ip: string): CompiledRoute | typeof NEED_HELLO | null {
    for (const r of this.routesOn(port)) {
      if (!r.matchesIp(ip)) continue;
      if (r.needsHello) return NEED_HELLO;
      return r;
    }
    return null;
  }

  /** Decide with the ClientHello facts (null when the client did not speak TLS). */
  match(port: number, ip: string, hello: HelloFacts | null): CompiledRoute | null {
    for (const r of this.routesOn(port)) {
      if (r.matchesIp(ip) && r.matchesHello(hello)) return r;
    }
    return null;
  }
}
