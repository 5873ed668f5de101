/** The primary's one view of the workers (src/cli/cluster/merge.ts), from real prom-client registries. */
import { describe, expect, it } from 'vitest';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import {
  mergeCloseAges,
  mergeCloseRecords,
  mergeCloses,
  mergeConnections,
  mergeMetrics,
  mergeOpenAges,
  mergeStats,
} from '../../../src/cli/cluster/merge.js';
import type { MetricsJson } from '../../../src/cli/cluster/messages.js';
import type { CloseRecord, ConnectionInfo } from '../../../src/admin/source.js';

async function worker(closed: number, active: number, oldest: number, durations: number[]): Promise<MetricsJson> {
  const registers = [new Registry()];
  new Counter({ name: 'sightline_connections_closed_total', help: 'h', labelNames: ['route'], registers }).inc(
    { route: 'r' },
    closed,
  );
  new Gauge({ name: 'sightline_connections_active', help: 'h', labelNames: ['route'], registers }).set(
    { route: 'r' },
    active,
  );
  new Gauge({ name: 'sightline_connection_oldest_age_seconds', help: 'h', labelNames: ['route'], registers }).set(
    { route: 'r' },
    oldest,
  );
  new Gauge({ name: 'sightline_build_info', help: 'h', labelNames: ['version'], registers }).set({ version: '1' }, 1);
  const h = new Histogram({
    name: 'sightline_connection_duration_seconds',
    help: 'h',
    labelNames: ['route'],
    buckets: [1, 30],
    registers,
  });
  for (const d of durations) h.observe({ route: 'r' }, d);
  return (await registers[0]!.getMetricsAsJSON()) as MetricsJson;
}

describe('mergeMetrics', () => {
  it('sums counters, histograms and per-route gauges; the oldest age is the max; build info once', async () => {
    const text = await mergeMetrics([
      await worker(3, 2, 40, [0.5, 29]),
      await worker(4, 5, 90, [29, 29, 60]),
    ]).metrics();
    expect(text).toContain('sightline_connections_closed_total{route="r"} 7');
    expect(text).toContain('sightline_connections_active{route="r"} 7');
    expect(text).toContain('sightline_connection_oldest_age_seconds{route="r"} 90');
    expect(text).toContain('sightline_build_info{version="1"} 1');
    expect(text).toContain('sightline_connection_duration_seconds_bucket{le="1",route="r"} 1');
    expect(text).toContain('sightline_connection_duration_seconds_bucket{le="30",route="r"} 4');
    expect(text).toContain('sightline_connection_duration_seconds_count{route="r"} 5');
  });
});

describe('mergeStats / mergeConnections / mergeCloses', () => {
  it('sums totals and nested counts, keeps one line per worker', () => {
    const s = mergeStats(
      [
        {
          worker: 0,
          body: {
            active: 2,
            accepted: 10,
            byRoute: { a: 2 },
            terminations: { byReason: { client_closed: { client: 5 } }, total: 8 },
            upstreamPools: { open: 1, idle: 1 },
            draining: false,
          },
        },
        {
          worker: 1,
          body: {
            active: 3,
            accepted: 7,
            byRoute: { a: 1, b: 2 },
            terminations: { byReason: { client_closed: { client: 1, proxy: 2 } }, total: 4 },
            upstreamPools: { open: 2, idle: 0 },
            draining: true,
          },
        },
      ],
      { version: 'x' },
    );
    expect(s).toMatchObject({
      version: 'x',
      active: 5,
      accepted: 17,
      byRoute: { a: 3, b: 2 },
      terminations: { byReason: { client_closed: { client: 6, proxy: 2 } }, total: 12 },
      upstreamPools: { open: 3, idle: 1 },
      draining: true,
      workers: [
        { worker: 0, active: 2, accepted: 10 },
        { worker: 1, active: 3, accepted: 7 },
      ],
    });
  });

  it('connections: oldest first over every worker, marked with it, cut at the limit; totals summed', () => {
    const c = (id: number, ageMs: number): ConnectionInfo => ({ id, ageMs }) as unknown as ConnectionInfo;
    const m = mergeConnections(
      [
        { worker: 0, body: { total: 5, items: [c(1, 50), c(2, 10)] } },
        { worker: 1, body: { total: 2, items: [c(1, 70), c(9, 20)] } },
      ],
      { limit: 3 },
    );
    expect(m.total).toBe(7);
    expect(m.items.map((i) => [(i as unknown as { worker: number }).worker, i.id])).toEqual([
      [1, 1],
      [0, 1],
      [1, 9],
    ]);
  });

  it('recent closes: buckets of the same minute summed, by reason and by initiator', () => {
    const m = mergeCloses([
      {
        worker: 0,
        body: {
          bucketMs: 60_000,
          now: 100_000,
          buckets: [{ start: 60_000, byReason: { a: 1 }, byInitiator: { client: 1 } }],
        },
      },
      {
        worker: 1,
        body: {
          bucketMs: 60_000,
          now: 110_000,
          buckets: [
            { start: 0, byReason: { b: 2 }, byInitiator: { backend: 2 } },
            { start: 60_000, byReason: { a: 2, c: 1 }, byInitiator: { client: 2, proxy: 1 } },
          ],
        },
      },
    ]);
    expect(m.now).toBe(110_000);
    expect(m.buckets).toEqual([
      { start: 0, byReason: { b: 2 }, byInitiator: { backend: 2 } },
      { start: 60_000, byReason: { a: 3, c: 1 }, byInitiator: { client: 3, proxy: 1 } },
    ]);
  });

  it("close ages and open ages: each route's bins summed over the workers", () => {
    const edgesMs = [0, 10, 100];
    const ages = mergeCloseAges([
      { worker: 0, body: { windowMs: 900_000, edgesMs, routes: [{ route: 'r', total: 3, counts: [1, 2] }] } },
      {
        worker: 1,
        body: {
          windowMs: 900_000,
          edgesMs,
          routes: [
            { route: 'r', total: 1, counts: [0, 1] },
            { route: 's', total: 1, counts: [1, 0] },
          ],
        },
      },
    ]);
    expect(ages).toEqual({
      windowMs: 900_000,
      edgesMs,
      routes: [
        { route: 'r', total: 4, counts: [1, 3] },
        { route: 's', total: 1, counts: [1, 0] },
      ],
    });
    const open = mergeOpenAges([
      { worker: 0, body: { edgesMs, routes: [{ route: 'r', total: 1, age: [0, 1], idle: [1, 0] }] } },
      { worker: 1, body: { edgesMs, routes: [{ route: 'r', total: 2, age: [1, 1], idle: [2, 0] }] } },
    ]);
    expect(open.routes).toEqual([{ route: 'r', total: 3, age: [1, 2], idle: [3, 0] }]);
  });

  it('recent close records: the newest over every worker, marked with it, at most limit', () => {
    const rec = (id: number, closedAt: number) => ({ id, closedAt }) as unknown as CloseRecord;
    const m = mergeCloseRecords(
      [
        { worker: 0, body: [rec(1, 30), rec(2, 10)] },
        { worker: 1, body: [rec(1, 20)] },
      ],
      2,
    );
    expect(m.map((r) => [r.id, r.closedAt, (r as CloseRecord & { worker: number }).worker])).toEqual([
      [1, 30, 0],
      [1, 20, 1],
    ]);
  });
});
