/**
 * The metrics computed at scrape time (metrics.ts): gauges and byte counters of open connections
 * are read from the live registry when Prometheus asks, so nothing happens per chunk of data.
 * One pass over the open connections serves every collector of a scrape (they run in the same
 * turn of the event loop); the summary is dropped right after.
 */
import { Counter, Gauge, type Registry, type RegistryContentType } from 'prom-client';
import { AGE_THRESHOLDS_SECONDS, metricSpec as spec } from './metric-catalogue.js';
import type { MetricsSource } from './metrics.js';

/** The route label of connections that were not routed (yet). */
export const NO_ROUTE = 'none';

/** Bytes of closed connections per route, added by the close subscriber. */
export type ClosedBytes = Map<string, { in: number; out: number }>;

interface RouteLive {
  count: number;
  oldestMs: number;
  olderThan: number[];
  bytesIn: number;
  bytesOut: number;
}

/** Register the scrape-time collectors on `registers`, reading `src` and `closedBytes`. */
export function registerScrapeTimeMetrics(
  registers: Array<Registry<RegistryContentType>>,
  src: MetricsSource,
  closedBytes: ClosedBytes,
): void {
  let live: Map<string, RouteLive> | null = null;
  const liveByRoute = (): Map<string, RouteLive> => {
    if (live !== null) return live;
    const now = src.now();
    const m = new Map<string, RouteLive>();
    const fresh = (): RouteLive => ({
      count: 0,
      oldestMs: 0,
      olderThan: AGE_THRESHOLDS_SECONDS.map(() => 0),
      bytesIn: 0,
      bytesOut: 0,
    });
    // Every configured route has its series, at 0 when nothing is open on it (known series are never absent).
    for (const name of src.routes?.() ?? []) m.set(name, fresh());
    for (const c of src.live()) {
      const route = c.routeName ?? NO_ROUTE;
      let r = m.get(route);
      if (r === undefined) m.set(route, (r = fresh()));
      const age = now - c.incomingStartTime;
      r.count++;
      if (age > r.oldestMs) r.oldestMs = age;
      AGE_THRESHOLDS_SECONDS.forEach((t, i) => {
        if (age > t * 1000) r.olderThan[i]!++;
      });
      r.bytesIn += c.bytesReceived;
      r.bytesOut += c.bytesSent;
    }
    live = m;
    queueMicrotask(() => {
      live = null;
    });
    return m;
  };
  new Gauge({
    ...spec('sightline_connections_active'),
    registers,
    collect() {
      this.reset();
      for (const [route, r] of liveByRoute()) this.set({ route }, r.count);
    },
  });
  new Gauge({
    ...spec('sightline_connection_oldest_age_seconds'),
    registers,
    collect() {
      this.reset();
      for (const [route, r] of liveByRoute()) if (route !== NO_ROUTE) this.set({ route }, r.oldestMs / 1000);
    },
  });
  new Gauge({
    ...spec('sightline_connections_older_than'),
    registers,
    collect() {
      this.reset();
      for (const [route, r] of liveByRoute()) {
        if (route !== NO_ROUTE) {
          AGE_THRESHOLDS_SECONDS.forEach((t, i) => this.set({ route, seconds: String(t) }, r.olderThan[i]!));
        }
      }
    },
  });
  new Counter({
    ...spec('sightline_bytes_total'),
    registers,
    collect() {
      // Closed connections' bytes (added at close) plus what open ones have moved so far: both
      // only grow, and a connection's bytes move from the second sum to the first when it closes.
      const totals = new Map<string, { in: number; out: number }>();
      for (const [route, b] of closedBytes) totals.set(route, { in: b.in, out: b.out });
      for (const [route, r] of liveByRoute()) {
        let t = totals.get(route);
        if (t === undefined) totals.set(route, (t = { in: 0, out: 0 }));
        t.in += r.bytesIn;
        t.out += r.bytesOut;
      }
      this.reset();
      for (const [route, t] of totals) {
        this.inc({ route, direction: 'in' }, t.in);
        this.inc({ route, direction: 'out' }, t.out);
      }
    },
  });
  new Gauge({
    ...spec('sightline_disconnect_pattern_period_seconds'),
    registers,
    collect() {
      this.reset();
      for (const p of src.patterns()) this.set({ route: p.route, kind: p.kind }, p.periodMs / 1000);
    },
  });
  new Gauge({
    ...spec('sightline_upstream_sockets'),
    registers,
    collect() {
      this.reset();
      const p = src.pools();
      if (p === null) return;
      this.set({ state: 'open' }, p.open);
      this.set({ state: 'idle' }, p.idle);
    },
  });
}
