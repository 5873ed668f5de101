/**
 * One view of the whole process (issue 13): the workers' admin answers merged into what a single
 * proxy would answer. Pure functions over plain JSON; each answer comes with its worker's slot.
 * Counters and histograms sum; gauges sum per label set, except where a sum means nothing (the
 * oldest connection's age is the max over workers; build info is the same everywhere).
 */
import { AggregatorRegistry, type Registry, type RegistryContentType } from 'prom-client';
import type {
  CloseAges,
  CloseRecord,
  ConnectionInfo,
  ConnectionList,
  ConnectionQuery,
  OpenAges,
  RecentCloses,
  RouteInfo,
} from '../../admin/source.js';
import type { MetricsJson } from './messages.js';

export interface Answer<T> {
  readonly worker: number;
  readonly body: T;
}

type Json = Readonly<Record<string, unknown>>;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How a metric combines across workers when summing would be wrong. */
const AGGREGATOR: Readonly<Record<string, 'max' | 'first'>> = {
  sightline_connection_oldest_age_seconds: 'max',
  sightline_build_info: 'first',
};

/** The workers' metrics (getMetricsAsJSON) and the primary's own, as one registry. */
export function mergeMetrics(parts: readonly MetricsJson[]): Registry<RegistryContentType> {
  const all = parts.map((p) =>
    p.map((m) => (AGGREGATOR[m.name] === undefined ? m : { ...m, aggregator: AGGREGATOR[m.name]! })),
  );
  return AggregatorRegistry.aggregate(all as Parameters<typeof AggregatorRegistry.aggregate>[0]);
}

/** Add every number of `from` into `into`, recursively (objects of counts). */
function addCounts(into: Record<string, unknown>, from: unknown): void {
  if (!isObj(from)) return;
  for (const [k, v] of Object.entries(from)) {
    if (typeof v === 'number') into[k] = (typeof into[k] === 'number' ? into[k] : 0) + v;
    else if (isObj(v)) {
      const sub = isObj(into[k]) ? (into[k] as Record<string, unknown>) : (into[k] = {});
      addCounts(sub as Record<string, unknown>, v);
    }
  }
}

/** /api/stats: totals summed, `draining` if any worker is; per-worker lines beside. */
export function mergeStats(parts: ReadonlyArray<Answer<Json>>, own: Json): Json {
  const sum: Record<string, unknown> = {};
  const per: Array<Record<string, unknown>> = [];
  let draining = false;
  for (const p of parts) {
    const b = p.body;
    if (!isObj(b)) continue;
    for (const k of ['active', 'accepted', 'byRoute', 'terminations', 'upstreamPools'] as const) {
      if (typeof b[k] === 'number') sum[k] = ((sum[k] as number | undefined) ?? 0) + b[k];
      else if (isObj(b[k])) addCounts((sum[k] ??= {}) as Record<string, unknown>, b[k]);
    }
    if (b.draining === true) draining = true;
    // Each worker's generation and file hash: a worker left on an older configuration shows here.
    per.push({
      worker: p.worker,
      active: b.active,
      accepted: b.accepted,
      configGeneration: b.configGeneration,
      configHash: b.configHash,
    });
  }
  return {
    ...own,
    active: sum.active ?? 0,
    accepted: sum.accepted ?? 0,
    byRoute: sum.byRoute ?? {},
    terminations: sum.terminations ?? { byReason: {}, total: 0 },
    upstreamPools: sum.upstreamPools ?? {},
    draining: draining || own.draining === true,
    workers: per,
  };
}

/** /api/connections: every worker's matches, oldest first, each item marked with its worker. */
export function mergeConnections(parts: ReadonlyArray<Answer<ConnectionList>>, q: ConnectionQuery): ConnectionList {
  let total = 0;
  const items: Array<ConnectionInfo & { worker: number }> = [];
  for (const p of parts) {
    if (!isObj(p.body) || !Array.isArray(p.body.items)) continue;
    total += p.body.total;
    for (const c of p.body.items) items.push({ ...c, worker: p.worker });
  }
  items.sort((a, b) => b.ageMs - a.ageMs);
  return { total, items: items.slice(0, q.limit) };
}

/** /api/routes: the route table (the same in every worker), open connections summed. */
export function mergeRoutes(parts: ReadonlyArray<Answer<readonly RouteInfo[]>>): RouteInfo[] {
  const first = parts.find((p) => Array.isArray(p.body));
  if (first === undefined) return [];
  const active = new Map<string, number>();
  for (const p of parts)
    if (Array.isArray(p.body)) for (const r of p.body) active.set(r.name, (active.get(r.name) ?? 0) + r.active);
  return first.body.map((r) => ({ ...r, active: active.get(r.name) ?? 0 }));
}

/** /api/closes: per-minute buckets summed by start, reason and initiator. */
export function mergeCloses(parts: ReadonlyArray<Answer<RecentCloses>>): RecentCloses {
  const byStart = new Map<number, { byReason: Record<string, number>; byInitiator: Record<string, number> }>();
  let bucketMs = 60_000;
  let now: number | undefined;
  for (const p of parts) {
    if (!isObj(p.body) || !Array.isArray(p.body.buckets)) continue;
    bucketMs = p.body.bucketMs;
    now = Math.max(now ?? 0, p.body.now ?? 0);
    for (const b of p.body.buckets) {
      const into = byStart.get(b.start) ?? { byReason: {}, byInitiator: {} };
      addCounts(into.byReason, b.byReason);
      addCounts(into.byInitiator, b.byInitiator);
      byStart.set(b.start, into);
    }
  }
  const buckets = [...byStart].sort((a, b) => a[0] - b[0]).map(([start, c]) => ({ start, ...c }));
  return now === undefined ? { bucketMs, buckets } : { bucketMs, now, buckets };
}

/** Sums per-route count arrays (the bins are the same in every worker: one code, one table). */
function sumInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < from.length; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
}

/** /api/close-ages: each route's bins summed over the workers. */
export function mergeCloseAges(parts: ReadonlyArray<Answer<CloseAges>>): CloseAges {
  const first = parts.find((p) => isObj(p.body) && Array.isArray(p.body.routes));
  const routes = new Map<string, { route: string; total: number; counts: number[] }>();
  for (const p of parts) {
    if (!isObj(p.body) || !Array.isArray(p.body.routes)) continue;
    for (const r of p.body.routes) {
      const into = routes.get(r.route) ?? { route: r.route, total: 0, counts: [] };
      into.total += r.total;
      sumInto(into.counts, r.counts);
      routes.set(r.route, into);
    }
  }
  return { windowMs: first?.body.windowMs ?? 0, edgesMs: first?.body.edgesMs ?? [], routes: [...routes.values()] };
}

/** /api/open-ages: each route's age and idle bins summed over the workers. */
export function mergeOpenAges(parts: ReadonlyArray<Answer<OpenAges>>): OpenAges {
  const first = parts.find((p) => isObj(p.body) && Array.isArray(p.body.routes));
  const routes = new Map<string, { route: string; total: number; age: number[]; idle: number[] }>();
  for (const p of parts) {
    if (!isObj(p.body) || !Array.isArray(p.body.routes)) continue;
    for (const r of p.body.routes) {
      const into = routes.get(r.route) ?? { route: r.route, total: 0, age: [], idle: [] };
      into.total += r.total;
      sumInto(into.age, r.age);
      sumInto(into.idle, r.idle);
      routes.set(r.route, into);
    }
  }
  return { edgesMs: first?.body.edgesMs ?? [], routes: [...routes.values()] };
}

/** /api/recent-closes: the newest `limit` over every worker, each marked with its worker. */
export function mergeCloseRecords(parts: ReadonlyArray<Answer<readonly CloseRecord[]>>, limit: number): CloseRecord[] {
  const items: Array<CloseRecord & { worker: number }> = [];
  for (const p of parts) if (Array.isArray(p.body)) for (const r of p.body) items.push({ ...r, worker: p.worker });
  items.sort((a, b) => b.closedAt - a.closedAt);
  return items.slice(0, limit);
}
