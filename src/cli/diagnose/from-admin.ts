/**
 * Facts from a Sightline admin listener: /api/patterns (the detector's standing patterns),
 * /api/routes (names, open connections), /api/stats (version, uptime) and /metrics (closes by
 * route, reason and initiator; the duration and idle-at-close histograms). Counts are since the
 * proxy started.
 */
import {
  histogramOf,
  type CloseCount,
  type Facts,
  type Histogram,
  type PatternFact,
  type RouteFacts,
} from './facts.js';
import { DiagnoseError, getJson, getText, type HttpOptions } from './http.js';
import { leOf, parsePromText, type Sample } from './prom-text.js';

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function patternOf(p: Record<string, unknown>): (PatternFact & { route: string }) | null {
  const route = str(p.route);
  const periodMs = num(p.periodMs);
  if (route === undefined || periodMs === undefined) return null;
  const reasons: Record<string, number> = {};
  if (isObject(p.reasons)) for (const [k, v] of Object.entries(p.reasons)) if (typeof v === 'number') reasons[k] = v;
  const culprits = Array.isArray(p.culprits) ? p.culprits.filter((c): c is string => typeof c === 'string') : undefined;
  return {
    route,
    kind: str(p.kind) ?? 'unknown',
    periodMs,
    spreadMs: num(p.spreadMs),
    count: num(p.count),
    timer: str(p.timer),
    initiator: str(p.initiator),
    local: typeof p.local === 'boolean' ? p.local : undefined,
    reasons,
    culprits,
    summary: str(p.summary),
    firstSeen: num(p.firstSeen),
    lastSeen: num(p.lastSeen),
    setting: str(p.setting) ?? null,
    measuredMs: num(p.measuredMs) ?? null,
    undecided: str(p.undecided) ?? null,
    timersOnPath: Array.isArray(p.timersOnPath) ? p.timersOnPath.filter((c): c is string => typeof c === 'string') : [],
  };
}

function histogramFor(samples: readonly Sample[], name: string, route: string): Histogram {
  return histogramOf(
    samples
      .filter((s) => s.name === `${name}_bucket` && s.labels.route === route)
      .map((s) => ({ initiator: s.labels.initiator ?? 'unknown', le: leOf(s.labels), count: s.value }))
      .filter((s) => !Number.isNaN(s.le)),
  );
}

export async function factsFromAdmin(base: URL, http: Omit<HttpOptions, 'what'>): Promise<Facts> {
  const o: HttpOptions = { ...http, what: 'the Sightline admin API' };
  // Patterns first: it tells a Sightline admin listener from anything else answering there.
  const patternsBody = await getJson(new URL('api/patterns', base), o);
  if (!isObject(patternsBody) || !Array.isArray(patternsBody.patterns)) {
    throw new DiagnoseError(
      `${new URL('api/patterns', base).href} is not a Sightline admin API answer (expected { patterns: [...] })`,
    );
  }
  const [routesBody, statsBody, metrics] = await Promise.all([
    getJson(new URL('api/routes', base), o),
    getJson(new URL('api/stats', base), o),
    getText(new URL('metrics', base), o),
  ]);
  const patterns = patternsBody.patterns
    .filter(isObject)
    .map(patternOf)
    .filter((p): p is PatternFact & { route: string } => p !== null);
  const samples = parsePromText(metrics.body);

  const names: string[] = [];
  const active = new Map<string, number>();
  const add = (r: string): void => {
    if (!names.includes(r)) names.push(r);
  };
  if (isObject(routesBody) && Array.isArray(routesBody.routes)) {
    for (const r of routesBody.routes) {
      if (!isObject(r) || typeof r.name !== 'string') continue;
      add(r.name);
      if (typeof r.active === 'number') active.set(r.name, r.active);
    }
  }
  const closes = new Map<string, CloseCount[]>();
  for (const s of samples) {
    if (s.name !== 'sightline_connections_closed_total') continue;
    const route = s.labels.route ?? 'none';
    if (route === 'none' || s.value <= 0) continue;
    add(route);
    let list = closes.get(route);
    if (list === undefined) closes.set(route, (list = []));
    list.push({ reason: s.labels.reason ?? 'unknown', initiator: s.labels.initiator ?? 'unknown', count: s.value });
  }
  for (const p of patterns) add(p.route);

  const routes: RouteFacts[] = names.map((route) => ({
    route,
    ...(active.has(route) ? { active: active.get(route)! } : {}),
    patterns: patterns.filter((p) => p.route === route),
    closes: closes.get(route) ?? [],
    duration: histogramFor(samples, 'sightline_connection_duration_seconds', route),
    idle: histogramFor(samples, 'sightline_connection_idle_at_close_seconds', route),
  }));
  const stats = isObject(statsBody) ? statsBody : {};
  return {
    source: { kind: 'admin', url: base.href },
    ...(typeof stats.version === 'string' ? { version: stats.version } : {}),
    ...(typeof stats.uptimeSeconds === 'number' ? { uptimeSeconds: stats.uptimeSeconds } : {}),
    routes,
  };
}
