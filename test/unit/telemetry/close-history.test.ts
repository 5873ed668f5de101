/** The status page's recent past (close-history.ts): log bins, the minute window, the closes ring. */
import { describe, expect, it } from 'vitest';
import type { CloseEvent } from '../../../src/core/channels.js';
import {
  AGE_BINS,
  AGE_EDGES_MS,
  BUCKET_MS,
  CloseHistory,
  RECORDS,
  ageBin,
} from '../../../src/telemetry/close-history.js';

let nextId = 1;
function close(
  route: string | null,
  durationMs: number,
  over: Partial<CloseEvent> = {},
  extra: Record<string, number> = {},
): CloseEvent {
  const start = 1_700_000_000_000;
  return {
    conn: {
      proxyId: 1,
      id: nextId++,
      listenPort: 8080,
      remoteIP: '10.0.0.1',
      remotePort: 5000,
      routeName: route,
      serverName: null,
      isTLS: false,
      phase: 'tunnel',
      incomingStartTime: start,
      keepAliveTreatment: 'standard',
      mode: 'plain+tcp',
      ...extra,
    },
    reason: 'client_closed',
    initiator: 'client',
    firstSide: 'client',
    endKind: 'fin',
    phase: 'tunnel',
    durationMs,
    idleAtCloseMs: 100,
    bytesFromClient: 3,
    bytesToClient: 4,
    target: '127.0.0.1:9',
    error: null,
    ...over,
  } as CloseEvent;
}

describe('age bins', () => {
  it('10 per decade from 10 ms; every age lands in the bin whose edges hold it; the ends absorb the rest', () => {
    expect(AGE_EDGES_MS).toHaveLength(AGE_BINS + 1);
    expect(AGE_EDGES_MS[0]).toBe(10);
    expect(AGE_EDGES_MS[AGE_BINS]).toBe(100_000_000);
    const ages = [...AGE_EDGES_MS.slice(0, -1), ...AGE_EDGES_MS.slice(1, -1).map((e) => e - 0.01)];
    for (let ms = 10; ms < 9e7; ms *= 1.0137) ages.push(ms);
    for (const ms of ages) {
      const b = ageBin(ms);
      expect(AGE_EDGES_MS[b]! <= ms && ms < AGE_EDGES_MS[b + 1]!, `${ms} in bin ${b}`).toBe(true);
    }
    expect(ageBin(0)).toBe(0);
    expect(ageBin(-5)).toBe(0);
    expect(ageBin(Number.NaN)).toBe(0);
    expect(ageBin(1e15)).toBe(AGE_BINS - 1);
    // A 30 s timer's closes share one bar: 25.1 s to 31.6 s.
    expect(ageBin(29_500)).toBe(ageBin(31_000));
    expect(AGE_EDGES_MS[ageBin(30_000)]).toBe(25_118.9);
  });
});

describe('CloseHistory', () => {
  it('per route and minute: age histograms summed over the window, closes by reason and initiator', () => {
    const h = new CloseHistory();
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 5; i++) h.record(close('ws', 30_100), t0 + i * 1000);
    h.record(close('ws', 2_000, { reason: 'inactivity', initiator: 'proxy' } as Partial<CloseEvent>), t0 + BUCKET_MS);
    h.record(close('api', 50), t0 + BUCKET_MS);
    h.record(close(null, 5, { reason: 'ip_blocked', initiator: 'proxy' } as Partial<CloseEvent>), t0 + BUCKET_MS);
    const ages = h.closeAges(t0 + BUCKET_MS);
    expect(ages.routes.map((r) => [r.route, r.total])).toEqual([
      ['api', 1],
      ['ws', 6],
    ]);
    const ws = ages.routes.find((r) => r.route === 'ws')!;
    expect(ws.counts[ageBin(30_100)]).toBe(5);
    expect(ws.counts[ageBin(2_000)]).toBe(1);
    expect(h.closeAges(t0 + BUCKET_MS, 'api').routes).toHaveLength(1);
    const per = h.closesPerMinute(t0 + BUCKET_MS);
    expect(per.buckets.map((b) => b.byInitiator)).toEqual([{ client: 5 }, { proxy: 2, client: 1 }]);
    expect(per.buckets[1]!.byReason).toEqual({ inactivity: 1, client_closed: 1, ip_blocked: 1 });
    expect(per.now).toBe(t0 + BUCKET_MS);
    // 15 minutes on, the first minute has left the window.
    const later = t0 + 15 * BUCKET_MS;
    expect(h.closesPerMinute(later).buckets).toHaveLength(1);
    expect(h.closeAges(later, 'ws').routes[0]!.total).toBe(1);
    expect(h.closeAges(t0 + 16 * BUCKET_MS).routes).toEqual([]);
  });

  it('the closes ring keeps the last RECORDS, newest first, with milestones from the record', () => {
    const h = new CloseHistory();
    const first = nextId;
    for (let i = 0; i < RECORDS + 7; i++)
      h.record(
        close(
          'ws',
          1000 + i,
          {},
          i === RECORDS + 6 ? { connectStart: 1_700_000_000_010, backendConnectedAt: 1_700_000_000_012 } : {},
        ),
        1_700_000_000_000,
      );
    const all = h.records({ limit: 1000 });
    expect(all).toHaveLength(RECORDS);
    expect(all[0]!.id).toBe(first + RECORDS + 6);
    expect(all.at(-1)!.id).toBe(first + 7);
    expect(all[0]!.milestones.map((m) => m.name)).toEqual([
      'accepted',
      'backend connect started',
      'backend connected',
      'last activity',
      'closed',
    ]);
    expect(all[0]!.milestones.at(-1)!.at).toBe(1_700_000_000_000 + 1000 + RECORDS + 6);
    expect(h.records({ id: first + 9, limit: 1 }).map((r) => r.durationMs)).toEqual([1009]);
    expect(h.records({ id: first, limit: 1 })).toEqual([]);
    expect(h.records({ route: 'other', limit: 5 })).toEqual([]);
    expect(h.records({ limit: 3 })).toHaveLength(3);
  });
});
