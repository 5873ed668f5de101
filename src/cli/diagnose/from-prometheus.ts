/**
 * The same facts through a Prometheus server's HTTP API (/api/v1/query): standing patterns from
 * `sightline_disconnect_pattern_period_seconds`, and over a window (default 1h) the closes by
 * route, reason and initiator and the duration and idle-at-close histogram buckets, all summed
 * over the instances the selector matches.
 */
import { histogramOf, type CloseCount, type Facts, type PatternFact, type RouteFacts } from './facts.js';
import { DiagnoseError, getJson, type HttpOptions } from './http.js';

interface VectorItem {
  readonly metric: Readonly<Record<string, string>>;
  readonly value: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export const WINDOW_RE = /^\d+(ms|s|m|h|d|w|y)$/;

/** The PromQL the report is built from (exported for the docs and tests). */
export function queries(
  window: string,
  selector = '',
): Readonly<
  Record<'patterns' | 'closes' | 'duration' | 'idle' | 'active' | 'patternInstances' | 'durationByInstance', string>
> {
  const sel = selector === '' ? '' : `{${selector}}`;
  return {
    patterns: `max by (route, kind) (sightline_disconnect_pattern_period_seconds${sel})`,
    closes: `sum by (route, reason, initiator) (increase(sightline_connections_closed_total${sel}[${window}]))`,
    duration: `sum by (route, initiator, le) (increase(sightline_connection_duration_seconds_bucket${sel}[${window}]))`,
    idle: `sum by (route, initiator, le) (increase(sightline_connection_idle_at_close_seconds_bucket${sel}[${window}]))`,
    active: `sum by (route) (sightline_connections_active${sel})`,
    // A fleet: which instances report each pattern, and each instance's closes by lifetime.
    patternInstances: `max by (route, kind, instance) (sightline_disconnect_pattern_period_seconds${sel})`,
    durationByInstance: `sum by (instance, route, le) (increase(sightline_connection_duration_seconds_bucket${sel}[${window}]))`,
  };
}

async function query(base: URL, q: string, o: HttpOptions): Promise<VectorItem[]> {
  const url = new URL('api/v1/query', base);
  url.searchParams.set('query', q);
  const body = await getJson(url, o);
  if (!isObject(body)) throw new DiagnoseError(`${o.what} at ${base.href}: unexpected answer to ${q}`);
  if (body.status !== 'success') {
    throw new DiagnoseError(
      `${o.what} at ${base.href} refused the query ${q}: ${typeof body.error === 'string' ? body.error : 'unknown error'}`,
    );
  }
  const data = body.data;
  if (!isObject(data) || data.resultType !== 'vector' || !Array.isArray(data.result)) {
    throw new DiagnoseError(`${o.what} at ${base.href}: expected an instant vector for ${q}`);
  }
  const out: VectorItem[] = [];
  for (const r of data.result) {
    if (!isObject(r) || !isObject(r.metric) || !Array.isArray(r.value)) continue;
    const v = Number(r.value[1]);
    if (Number.isNaN(v)) continue;
    const metric: Record<string, string> = {};
    for (const [k, x] of Object.entries(r.metric)) if (typeof x === 'string') metric[k] = x;
    out.push({ metric, value: v });
  }
  return out;
}

const leOf = (s: string | undefined): number => (s === undefined ? NaN : s === '+Inf' ? Infinity : Number(s));

/** Per instance, its duration histogram on `route` (all initiators together). */
function byInstance(items: readonly VectorItem[], route: string): Map<string, ReturnType<typeof histogramOf>> {
  const out = new Map<string, ReturnType<typeof histogramOf>>();
  const mine = items.filter((i) => i.metric.route === route && i.metric.instance !== undefined);
  for (const instance of new Set(mine.map((i) => i.metric.instance!))) {
    const rows = mine
      .filter((i) => i.metric.instance === instance)
      .map((i) => ({ initiator: 'all', le: leOf(i.metric.le), count: Math.round(i.value) }));
    out.set(instance, histogramOf(rows.filter((r) => !Number.isNaN(r.le))));
  }
  return out;
}

export async function factsFromPrometheus(
  base: URL,
  window: string,
  selector: string,
  http: Omit<HttpOptions, 'what'>,
): Promise<Facts> {
  const o: HttpOptions = { ...http, what: 'Prometheus' };
  const q = queries(window, selector);
  const [patterns, closes, duration, idle, active, patternInstances, durationByInstance] = await Promise.all([
    query(base, q.patterns, o),
    query(base, q.closes, o),
    query(base, q.duration, o),
    query(base, q.idle, o),
    query(base, q.active, o),
    query(base, q.patternInstances, o),
    query(base, q.durationByInstance, o),
  ]);
  if (patterns.length + closes.length + duration.length + active.length === 0) {
    throw new DiagnoseError(
      `Prometheus at ${base.href} has no sightline_* series${selector === '' ? '' : ` matching {${selector}}`}: is it scraping Sightline's /metrics (admin listener, default :9464)?`,
    );
  }
  const names: string[] = [];
  const add = (r: string | undefined): void => {
    if (r !== undefined && r !== 'none' && !names.includes(r)) names.push(r);
  };
  for (const a of active) add(a.metric.route);
  for (const c of closes) if (Math.round(c.value) > 0) add(c.metric.route);
  for (const p of patterns) add(p.metric.route);

  const bucketsOf = (items: VectorItem[], route: string): ReturnType<typeof histogramOf> =>
    histogramOf(
      items
        .filter((i) => i.metric.route === route)
        .map((i) => ({ initiator: i.metric.initiator ?? 'unknown', le: leOf(i.metric.le), count: Math.round(i.value) }))
        .filter((i) => !Number.isNaN(i.le)),
    );
  const routes: RouteFacts[] = names.map((route) => {
    const act = active.find((a) => a.metric.route === route);
    const pats: PatternFact[] = patterns
      .filter((p) => p.metric.route === route && p.value > 0)
      .map((p) => ({
        kind: p.metric.kind ?? 'unknown',
        periodMs: p.value * 1000,
        instances: patternInstances
          .filter(
            (i) =>
              i.metric.route === route &&
              i.metric.kind === p.metric.kind &&
              i.value > 0 &&
              i.metric.instance !== undefined,
          )
          .map((i) => i.metric.instance!),
      }));
    const cl: CloseCount[] = closes
      .filter((c) => c.metric.route === route && Math.round(c.value) > 0)
      .map((c) => ({
        reason: c.metric.reason ?? 'unknown',
        initiator: c.metric.initiator ?? 'unknown',
        count: Math.round(c.value),
      }));
    return {
      route,
      active: act === undefined ? undefined : Math.round(act.value),
      patterns: pats,
      closes: cl,
      duration: bucketsOf(duration, route),
      idle: bucketsOf(idle, route),
      durationByInstance: byInstance(durationByInstance, route),
    };
  });
  return { source: { kind: 'prometheus', url: base.href }, window, routes };
}
