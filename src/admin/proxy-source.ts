/**
 * The admin API's view of a running proxy (L6; server.ts builds it): reads the registry, the route
 * table, the upstream pools and the telemetry, and hands out plain data.
 */
import type {
  AdminSource,
  CloseConnectionResult,
  ConnectionDetail,
  ConnectionInfo,
  ConnectionQuery,
  HealthInfo,
  OpenAges,
  RouteInfo,
} from './source.js';
import { AGE_BINS, AGE_EDGES_MS, BUCKET_MS, WINDOW_MS, ageBin, milestonesOf } from '../telemetry/close-history.js';
import type { ProxyContext } from '../net/context.js';
import type { Connection } from '../net/connection.js';
import { exhaustedNow } from '../net/resources.js';
import type { PoolStats } from '../proxy/upstream-lease.js';
import type { Telemetry } from '../telemetry/telemetry.js';

export interface AdminSourceDeps {
  readonly ctx: ProxyContext;
  readonly telemetry: () => Telemetry | null;
  readonly started: () => boolean;
  readonly pools: () => PoolStats;
  readonly version: string;
  readonly startedAt: number;
  /** The configuration generation (1 at start, +1 per reload). */
  readonly generation?: () => number;
  /** The content hash of the configuration file in use (null: options given in code). */
  readonly configHash?: () => string | null;
}

function info(c: Connection, now: number): ConnectionInfo {
  return {
    id: c.id,
    route: c.routeName,
    client: c.remoteIP,
    clientPort: c.remotePort,
    listenPort: c.listenPort,
    sni: c.serverName,
    target: c.target,
    uniqueId: c.uniqueId,
    previousHopId: c.previousHopId,
    phase: c.phase,
    tls: c.isTLS,
    keepAliveTreatment: c.keepAliveTreatment,
    ageMs: now - c.incomingStartTime,
    idleMs: Math.max(0, now - c.lastActivity),
    bytesIn: c.bytesReceived,
    bytesOut: c.bytesSent,
  };
}

/** Where open connections not yet routed are counted in the open-ages view. */
const UNROUTED = '(unrouted)';

export function adminSource(d: AdminSourceDeps): AdminSource {
  const ctx = d.ctx;
  return {
    metrics: (openMetrics) =>
      d.telemetry()?.scrape(openMetrics) ??
      Promise.resolve({ contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' }),
    health(): HealthInfo {
      const started = d.started();
      const exhausted = exhaustedNow(ctx, ctx.clock.now());
      return {
        live: started,
        ready: started && !ctx.draining && exhausted === null,
        draining: ctx.draining,
        exhausted,
      };
    },
    stats() {
      const reg = ctx.registry;
      return {
        version: d.version,
        uptimeSeconds: Math.round((ctx.clock.now() - d.startedAt) / 1000),
        configGeneration: d.generation?.() ?? 1,
        configHash: d.configHash?.() ?? null,
        active: reg.size,
        accepted: reg.accepted,
        byRoute: Object.fromEntries(reg.byRoute()),
        terminations: reg.terminationStats(),
        upstreamPools: d.pools(),
        draining: ctx.draining,
      };
    },
    connections(q: ConnectionQuery) {
      const now = ctx.clock.now();
      const matched: Connection[] = [];
      for (const c of ctx.registry.live.values()) {
        if (q.route !== undefined && c.routeName !== q.route) continue;
        if (q.minAgeMs !== undefined && now - c.incomingStartTime < q.minAgeMs) continue;
        if (q.minIdleMs !== undefined && now - c.lastActivity < q.minIdleMs) continue;
        matched.push(c);
      }
      // Oldest first: the long-lived connections are the ones people ask about.
      matched.sort((a, b) => a.incomingStartTime - b.incomingStartTime);
      return { total: matched.length, items: matched.slice(0, q.limit).map((c) => info(c, now)) };
    },
    routes(): RouteInfo[] {
      const byRoute = ctx.registry.byRoute();
      return ctx.table.routes.map((r) => {
        const domains = r.config.match.domains;
        return {
          name: r.name,
          ports: r.ports,
          domains: domains === undefined ? [] : typeof domains === 'string' ? [domains] : domains,
          mode: r.tlsMode,
          protocol: r.protocol,
          target: r.targetLabel,
          active: byRoute.get(r.name) ?? 0,
        };
      });
    },
    patterns: () => (d.telemetry()?.standingPatterns() ?? []) as unknown as ReturnType<AdminSource['patterns']>,
    recentCloses: () => d.telemetry()?.recentCloses() ?? { bucketMs: BUCKET_MS, buckets: [] },
    closeAges: (route) => d.telemetry()?.closeAges(route) ?? { windowMs: WINDOW_MS, edgesMs: AGE_EDGES_MS, routes: [] },
    openAges(): OpenAges {
      const now = ctx.clock.now();
      const byRoute = new Map<string, { total: number; age: number[]; idle: number[] }>();
      for (const c of ctx.registry.live.values()) {
        const name = c.routeName ?? UNROUTED;
        let h = byRoute.get(name);
        if (h === undefined)
          byRoute.set(
            name,
            (h = { total: 0, age: new Array<number>(AGE_BINS).fill(0), idle: new Array<number>(AGE_BINS).fill(0) }),
          );
        h.total++;
        h.age[ageBin(now - c.incomingStartTime)]!++;
        h.idle[ageBin(Math.max(0, now - c.lastActivity))]!++;
      }
      return {
        edgesMs: AGE_EDGES_MS,
        routes: [...byRoute].map(([route, h]) => ({ route, ...h })).sort((a, b) => (a.route < b.route ? -1 : 1)),
      };
    },
    closeRecords: (filter) => d.telemetry()?.closeRecords(filter) ?? [],
    closeConnection(id): CloseConnectionResult {
      const c = ctx.registry.find(id);
      if (c === null || c.reason !== null)
        return { ok: false, status: 404, error: `no open connection with id ${String(id)}` };
      // The summary as it was: after the close the sockets are gone.
      const connection = info(c, ctx.clock.now());
      ctx.registry.closeById(c.id);
      return { ok: true, connection };
    },
    connection(id): ConnectionDetail | null {
      const now = ctx.clock.now();
      for (const c of ctx.registry.live.values()) {
        if (c.id !== id) continue;
        return {
          state: 'open',
          connection: info(c, now),
          milestones: milestonesOf(c, null, c.lastActivity),
          close: null,
        };
      }
      const close = d.telemetry()?.closeRecords({ id, limit: 1 })[0];
      return close === undefined ? null : { state: 'closed', connection: null, milestones: close.milestones, close };
    },
  };
}
