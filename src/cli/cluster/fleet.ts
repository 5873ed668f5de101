/**
 * What the primary knows of the whole process: the one pattern detector fed by every worker's
 * closes, its own metrics (workers, restarts, patterns, connections lost with a worker), and the
 * admin view that merges the workers' answers with them (served by the ordinary admin server).
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { Logger } from 'pino';
import type {
  AdminSource,
  CloseConnectionResult,
  CloseAges,
  CloseRecord,
  ConnectionDetail,
  ConnectionQuery,
  HealthInfo,
  OpenAges,
  RecentCloses,
  RouteInfo,
  ConnectionList,
} from '../../admin/source.js';
import { CloseReason, Initiator } from '../../core/close-reasons.js';
import { METRICS, type MetricName } from '../../telemetry/metric-catalogue.js';
import { PatternDetector, type DetectedPattern } from '../../telemetry/patterns.js';
import type { CloseSample } from '../../telemetry/pattern-types.js';
import {
  mergeCloseAges,
  mergeCloseRecords,
  mergeCloses,
  mergeConnections,
  mergeMetrics,
  mergeOpenAges,
  mergeRoutes,
  mergeStats,
} from './merge.js';

const isDetail = (v: unknown): v is ConnectionDetail => typeof v === 'object' && v !== null && 'state' in v;
import type { MetricsJson } from './messages.js';
import type { Supervisor } from './supervisor.js';

const TEXT = 'text/plain; version=0.0.4; charset=utf-8';

const spec = (name: MetricName): { name: string; help: string; labelNames: string[] } => {
  const m = METRICS.find((x) => x.name === name)!;
  return { name: m.name, help: m.help, labelNames: [...m.labels] };
};

export interface FleetOptions {
  readonly version: string;
  /** The proxy's own kills land up to one sweep period late (see telemetry.ts). */
  readonly localSlackMs: number;
  readonly patterns: boolean;
  readonly logger: Logger | null;
}

export class Fleet {
  readonly registry = new Registry();
  readonly detector: PatternDetector | null;
  readonly #o: FleetOptions;
  readonly #detected: Counter;
  readonly #lost: Counter;
  readonly #restarts: Counter;
  readonly #startedAt = Date.now();
  draining = false;
  #sup: Supervisor | null = null;

  constructor(o: FleetOptions) {
    this.#o = o;
    this.detector = o.patterns ? new PatternDetector({ localSlackMs: o.localSlackMs }) : null;
    const registers = [this.registry];
    this.#detected = new Counter({ ...spec('sightline_disconnect_patterns_total'), registers });
    // Same name as the workers' counter: the aggregate sums both.
    this.#lost = new Counter({ ...spec('sightline_connections_closed_total'), registers });
    const standing = (): readonly DetectedPattern[] => this.detector?.snapshot(Date.now()) ?? [];
    new Gauge({
      ...spec('sightline_disconnect_pattern_period_seconds'),
      registers,
      collect() {
        this.reset();
        for (const p of standing()) this.set({ route: p.route, kind: p.kind }, p.periodMs / 1000);
      },
    });
    const sup = (): Supervisor | null => this.#sup;
    new Gauge({
      name: 'sightline_cluster_workers',
      help: 'Cluster workers by state (listening, or down and waiting to restart). Only with `workers` > 1.',
      labelNames: ['state'],
      registers,
      collect() {
        const s = sup();
        this.set({ state: 'listening' }, s?.readyCount ?? 0);
        this.set({ state: 'down' }, (s?.size ?? 0) - (s?.readyCount ?? 0));
      },
    });
    this.#restarts = new Counter({
      name: 'sightline_cluster_worker_restarts_total',
      help: 'Cluster workers restarted after they died. Only with `workers` > 1.',
      registers,
    });
    this.#restarts.inc(0);
  }

  attach(sup: Supervisor): void {
    this.#sup = sup;
  }

  /** A batch of closes from one worker. */
  observe(samples: readonly CloseSample[]): void {
    const d = this.detector;
    if (d === null) return;
    for (const s of samples) {
      for (const p of d.observe(s)) {
        this.#detected.inc({ route: p.route, kind: p.kind });
        this.#o.logger?.warn(
          {
            event: 'disconnect-pattern',
            route: p.route,
            kind: p.kind,
            periodMs: p.periodMs,
            spreadMs: p.spreadMs,
            count: p.count,
            timer: p.timer,
            initiator: p.initiator,
            culprits: p.culprits,
          },
          p.summary,
        );
        this.#o.logger?.flush();
      }
    }
  }

  /** A worker died holding `open` connections: they ended with it (counted as internal_error by the proxy). */
  lost(slot: number, open: Readonly<Record<string, number>>): number {
    this.#restarts.inc();
    this.#retire(slot);
    let n = 0;
    for (const [route, count] of Object.entries(open)) {
      if (count <= 0) continue;
      this.#lost.inc({ route, reason: CloseReason.InternalError, initiator: Initiator.Proxy }, count);
      n += count;
    }
    return n;
  }

  /** Each worker's metrics at the last scrape, by slot. */
  readonly #seen = new Map<number, MetricsJson>();
  /** The counters and histograms of workers that died, as of their last scrape. */
  #retired: MetricsJson = [];

  /**
   * A dead worker's counters and histograms stay in the sums (as of the last scrape): otherwise
   * every summed counter would drop, and Prometheus would read the drop as a reset followed by
   * a burst as large as the survivors' totals (a false surge in every rate).
   */
  #retire(slot: number): void {
    const last = this.#seen.get(slot);
    this.#seen.delete(slot);
    if (last === undefined) return;
    const monotonic = last.filter((m) => ['counter', 'histogram'].includes(String(m.type)));
    void mergeMetrics([this.#retired, monotonic])
      .getMetricsAsJSON()
      .then((j) => (this.#retired = j as MetricsJson));
  }

  source(): AdminSource {
    const ask = <T>(what: Parameters<Supervisor['ask']>[0], q?: unknown): Promise<Array<{ worker: number; body: T }>> =>
      this.#sup?.ask<T>(what, q) ?? Promise.resolve([]);
    return {
      metrics: async () => {
        const parts = await ask<MetricsJson>('metrics');
        for (const p of parts) this.#seen.set(p.worker, p.body);
        const merged = mergeMetrics([
          ...parts.map((p) => p.body),
          this.#retired,
          (await this.registry.getMetricsAsJSON()) as MetricsJson,
        ]);
        // Always the Prometheus text format: exemplars stay with the workers.
        return { contentType: TEXT, body: await merged.metrics() };
      },
      health: (): HealthInfo => {
        const ready = (this.#sup?.readyCount ?? 0) > 0;
        return { live: ready || this.draining, ready: ready && !this.draining, draining: this.draining };
      },
      stats: async () =>
        mergeStats(await ask('stats'), {
          version: this.#o.version,
          uptimeSeconds: Math.round((Date.now() - this.#startedAt) / 1000),
          draining: this.draining,
          cluster: { workers: this.#sup?.describe() ?? [], restarts: this.#sup?.restarts ?? 0 },
        }),
      connections: async (q: ConnectionQuery): Promise<ConnectionList> =>
        mergeConnections(await ask<ConnectionList>('connections', q), q),
      routes: async (): Promise<RouteInfo[]> => mergeRoutes(await ask<readonly RouteInfo[]>('routes')),
      patterns: () => (this.detector?.snapshot(Date.now()) ?? []) as unknown as ReturnType<AdminSource['patterns']>,
      recentCloses: async (): Promise<RecentCloses> => mergeCloses(await ask<RecentCloses>('closes')),
      closeAges: async (route?: string): Promise<CloseAges> =>
        mergeCloseAges(await ask<CloseAges>('close-ages', route)),
      openAges: async (): Promise<OpenAges> => mergeOpenAges(await ask<OpenAges>('open-ages')),
      closeRecords: async (filter: { route?: string; limit: number }): Promise<CloseRecord[]> =>
        mergeCloseRecords(await ask<readonly CloseRecord[]>('close-records', filter), filter.limit),
      // Connection ids are per worker: the first worker that knows the id answers (marked with it).
      connection: async (id: number): Promise<ConnectionDetail | null> => {
        const found = (await ask<ConnectionDetail | null>('connection', id)).find((p) => isDetail(p.body));
        return found === undefined ? null : ({ ...found.body, worker: found.worker } as ConnectionDetail);
      },
      // Numeric ids repeat across workers: closing by one could hit the wrong connection.
      closeConnection: async (id: number | string): Promise<CloseConnectionResult> => {
        if (typeof id === 'number')
          return {
            ok: false,
            status: 400,
            error: 'numeric connection ids are per worker in cluster mode: close by the uniqueId',
          };
        const done = (await ask<CloseConnectionResult>('close-connection', id)).find(
          (p) => typeof p.body === 'object' && p.body !== null && p.body.ok,
        );
        return done === undefined ? { ok: false, status: 404, error: `no open connection with id ${id}` } : done.body;
      },
    };
  }
}
