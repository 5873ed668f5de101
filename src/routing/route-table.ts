/**
 * Routes compiled into an immutable table (DESIGN §1 L2). The proxy holds one table and swaps it
 * atomically on `updateRoutes`; a live connection keeps the `CompiledRoute` it was given.
 *
 * Order: higher `priority` first, then configuration order; the first match wins.
 */
import type { ResolvedRoute } from '../config/schema.js';
import { DomainMatcher } from './domain-matcher.js';
import { globMatcher } from './glob.js';
import { IpMatcher } from './ip-matcher.js';
import { expandPorts } from './ports.js';

export type TlsMode = 'plain' | 'passthrough' | 'terminate' | 'terminate-and-reencrypt';

/** What the ClientHello told us; null when the first bytes were not TLS. */
export interface HelloFacts {
  readonly serverName: string | null;
  readonly versions: readonly string[];
}

/** What one HTTP request head offers to routing. */
export interface HttpFacts {
  /** Host header without port, normalised (lowercase, no trailing dot); null when absent. */
  readonly host: string | null;
  /** Path of the request target, without the query. */
  readonly path: string;
  readonly headers: ReadonlyArray<readonly [string, string]>;
}

export type RouteProtocol = 'tcp' | 'http';

/** Is this a mode where Sightline holds the plaintext (and may read HTTP)? */
export function isTerminating(mode: TlsMode): boolean {
  return mode === 'terminate' || mode === 'terminate-and-reencrypt';
}

/**
 * What a route's mode is chosen from. The caller (the composition root) turns these facts into its
 * mode value once, when the table is compiled: routing knows no mode, it only keeps the answer.
 */
export interface ModeFacts {
  readonly tlsMode: TlsMode;
  readonly protocol: RouteProtocol;
  readonly config: ResolvedRoute;
}
export type ModeResolver<M> = (route: ModeFacts) => M;

/** `M`: the mode value the resolver gives (the data path's `Mode`); unknown where nobody reads it. */
export class CompiledRoute<M = unknown> implements ModeFacts {
  readonly name: string;
  readonly priority: number;
  readonly index: number;
  readonly config: ResolvedRoute;
  readonly ports: readonly number[];
  readonly tlsMode: TlsMode;
  /** Routing on this route depends on the ClientHello (it lists domains or TLS versions). */
  readonly needsHello: boolean;
  /** 'http': the route reads HTTP/1.1 (terminated, or plain HTTP); 'tcp': a byte tunnel. */
  readonly protocol: RouteProtocol;
  readonly #domains: DomainMatcher | null;
  readonly #clientIp: IpMatcher | null;
  readonly #tlsVersions: ReadonlySet<string> | null;
  readonly #path: ((p: string) => boolean) | null;
  readonly #headers: ReadonlyArray<readonly [string, (v: string) => boolean]>;
  /** Round-robin cursor over the target host list; the only mutable field. */
  rrCursor = 0;
  /** The target as text for events and the admin API: `host:port`, a host list as `a|b`, functions as `fn`. */
  readonly targetLabel: string;

  /** What a connection on this route becomes, resolved once at compile time. */
  readonly mode: M;

  constructor(config: ResolvedRoute, index: number, resolveMode: ModeResolver<M>) {
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
    this.tlsMode = config.action.tls?.mode ?? 'plain';
    const cert = isTerminating(this.tlsMode) ? config.action.tls?.certificate : undefined;
    this.certificateKey =
      cert === undefined
        ? null
        : cert === 'auto'
          ? `auto:${this.name}`
          : 'certFile' in cert
            ? `file:${cert.certFile}`
            : `pem:${cert.cert}`;
    const t = config.action.target;
    this.targetLabel =
      t === undefined
        ? ''
        : `${typeof t.host === 'string' ? t.host : Array.isArray(t.host) ? t.host.join('|') : 'fn'}:${typeof t.port === 'function' ? 'fn' : t.port}`;
    const m = config.match;
    this.protocol =
      config.action.protocol ??
      (isTerminating(this.tlsMode) || m.path !== undefined || m.headers !== undefined ? 'http' : 'tcp');
    // On plain HTTP, domains are matched against the Host header, not a ClientHello.
    const hostRouted = this.protocol === 'http' && this.tlsMode === 'plain';
    this.needsHello = (this.#domains !== null && !hostRouted) || this.#tlsVersions !== null;
    this.#path = m.path === undefined ? null : pathMatcher(m.path, m.pathCaseInsensitive === true);
    this.#headers = Object.entries(m.headers ?? {}).map(([k, v]) => [k.toLowerCase(), globMatcher(v)] as const);
    this.mode = resolveMode(this);
  }

  /**
   * The certificate this terminating route presents, as configured (its PEM text or file name);
   * null when it does not terminate. Two routes with the same key serve the same certificate.
   */
  readonly certificateKey: string | null;

  /** Routes that a request on this connection may be sent to: same port, same kind of transport. */
  sameTransport(other: ModeFacts): boolean {
    return this.protocol === 'http' && isTerminating(this.tlsMode) === isTerminating(other.tlsMode);
  }

  /** Host (falling back to SNI on terminated connections), path and headers of one request. */
  matchesRequest(req: HttpFacts, serverName: string | null): boolean {
    if (this.#domains !== null && !this.#domains.matches(req.host ?? serverName)) return false;
    if (this.#path !== null && !this.#path(req.path)) return false;
    for (const [name, test] of this.#headers) {
      let ok = false;
      for (const [n, v] of req.headers) {
        if (n.length === name.length && n.toLowerCase() === name && test(v)) {
          ok = true;
          break;
        }
      }
      if (!ok) return false;
    }
    return true;
  }

  matchesIp(ip: string): boolean {
    return this.#clientIp === null || this.#clientIp.matches(ip);
  }

  matchesHello(hello: HelloFacts | null): boolean {
    const hostRouted = this.protocol === 'http' && this.tlsMode === 'plain';
    if (this.#domains !== null && !hostRouted && !this.#domains.matches(hello?.serverName ?? null)) return false;
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

/** A path pattern, optionally matched without regard to case. */
function pathMatcher(pattern: string, caseInsensitive: boolean): (p: string) => boolean {
  if (!caseInsensitive) return globMatcher(pattern);
  const m = globMatcher(pattern.toLowerCase());
  return (p) => m(p.toLowerCase());
}

export class RouteTable<M = unknown> {
  readonly routes: readonly CompiledRoute<M>[];
  readonly #byPort: ReadonlyMap<number, readonly CompiledRoute<M>[]>;
  /**
   * Header names (lowercase) some route matches on: a request whose Connection names one of them
   * is refused, since the field would be dropped before forwarding while it chose the route.
   */
  readonly routingHeaders: ReadonlySet<string>;

  constructor(routes: readonly ResolvedRoute[], resolveMode: ModeResolver<M>) {
    const compiled = routes
      .map((r, i) => new CompiledRoute(r, i, resolveMode))
      .filter((r) => r.config.enabled !== false)
      .sort((a, b) => b.priority - a.priority || a.index - b.index);
    const byPort = new Map<number, CompiledRoute<M>[]>();
    for (const r of compiled) {
      for (const p of r.ports) {
        let list = byPort.get(p);
        if (list === undefined) byPort.set(p, (list = []));
        list.push(r);
      }
    }
    this.routes = Object.freeze(compiled);
    this.#byPort = byPort;
    this.routingHeaders = new Set(
      compiled.flatMap((r) => Object.keys(r.config.match.headers ?? {}).map((k) => k.toLowerCase())),
    );
  }

  get ports(): number[] {
    return [...this.#byPort.keys()].sort((a, b) => a - b);
  }

  routesOn(port: number): readonly CompiledRoute<M>[] {
    return this.#byPort.get(port) ?? [];
  }

  /**
   * Decide at accept, before any byte is read. A route that does not look at the ClientHello
   * wins at once if nothing ahead of it needs the hello; otherwise the caller must peek.
   */
  matchAtAccept(port: number, ip: string): CompiledRoute<M> | typeof NEED_HELLO | null {
    for (const r of this.routesOn(port)) {
      if (!r.matchesIp(ip)) continue;
      if (r.needsHello) return NEED_HELLO;
      return r;
    }
    return null;
  }

  /**
   * Second stage on an HTTP connection: the first route (by priority) on the connection's port
   * with the same transport as the route the connection was given, whose client IPs, Host,
   * path and headers match this request.
   */
  matchRequest(
    port: number,
    ip: string,
    entry: ModeFacts,
    req: HttpFacts,
    serverName: string | null,
  ): CompiledRoute<M> | null {
    for (const r of this.routesOn(port)) {
      if (r.sameTransport(entry) && r.matchesIp(ip) && r.matchesRequest(req, serverName)) return r;
    }
    return null;
  }

  /** Decide with the ClientHello facts (null when the client did not speak TLS). */
  match(port: number, ip: string, hello: HelloFacts | null): CompiledRoute<M> | null {
    for (const r of this.routesOn(port)) {
      if (r.matchesIp(ip) && r.matchesHello(hello)) return r;
    }
    return null;
  }
}
