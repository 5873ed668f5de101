/**
 * Shared by the metrics integration tests (test/integration/metrics*.test.ts): a proxy with the
 * metrics on, its scrape as a map, and a series' value. Each test file registers `cleanup` in its
 * own afterEach.
 */
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import type { SightlineOptions } from '../../src/config/schema.js';
import { startProxy, type RunningProxy } from './proxy.js';

export const cleanup: Array<() => Promise<void> | void> = [];

export async function proxy(
  options: Partial<SightlineOptions> & Pick<SightlineOptions, 'routes'>,
  deps = {},
): Promise<RunningProxy> {
  const p = await startProxy(
    { gracefulShutdownTimeout: 100, maxConnectionsPerIP: 0, connectionRateLimitPerMinute: 0, ...options },
    deps,
  );
  cleanup.push(() => p.stop());
  return p;
}

export type Json = MetricObjectWithValues<MetricValue<string>>;

export async function metricsOf(p: RunningProxy): Promise<Map<string, Json>> {
  const list = (await p.proxy.telemetry!.metrics!.registry.getMetricsAsJSON()) as Json[];
  return new Map(list.map((m) => [m.name, m]));
}

/** The value of one series (labels must match exactly those given; others ignored). */
export function value(
  m: Map<string, Json>,
  name: string,
  labels: Record<string, string | number>,
  metricName?: string,
): number {
  const metric = m.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const found = metric.values.filter(
    (v) =>
      (metricName === undefined || (v as { metricName?: string }).metricName === metricName) &&
      Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === String(want)),
  );
  return found.reduce((a, v) => a + v.value, 0);
}

export function seriesCount(text: string): number {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}
