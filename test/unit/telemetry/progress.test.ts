/** ProgressReporter pacing: one record per connection per interval, a pass spread over the first half, no burst. */
import { describe, expect, it } from 'vitest';
import {
  ProgressReporter,
  progressAttributes,
  progressFields,
  type ProgressConnection,
  type ProgressRecord,
} from '../../../src/telemetry/progress.js';

function conn(id: number, start: number): ProgressConnection {
  // A variable, not a literal: the view may have more fields than this one names.
  const c = {
    proxyId: 1,
    id,
    listenPort: 80,
    clientIP: '10.0.0.1',
    clientPort: 1000 + id,
    remoteIP: '10.0.0.1',
    remotePort: 1000 + id,
    peerIP: '10.0.0.1',
    peerPort: 1000 + id,
    routeName: 'r',
    serverName: null,
    isTLS: false,
    phase: 'tunnel',
    incomingStartTime: start,
    keepAliveTreatment: 'standard',
    mode: 'plain+tcp',
    story: { configGeneration: 4 },
    bytesReceived: id * 10,
    bytesSent: id * 20,
    idleFor: 5,
  } as const;
  return c;
}

describe('ProgressReporter', () => {
  it('visits every connection once per interval, a share per tick, only those older than the interval', () => {
    const live = new Map<number, ProgressConnection>();
    for (let i = 1; i <= 1000; i++) live.set(i, conn(i, 0));
    const young = conn(5000, 9_000);
    live.set(5000, young);
    const got: Array<{ at: number; r: ProgressRecord }> = [];
    let now = 10_000;
    const rep = new ProgressReporter(
      10_000,
      () => live.values(),
      () => live.size,
      (r) => got.push({ at: now, r }),
    );
    const perTick: number[] = [];
    for (; now < 40_000; now += 50) {
      const before = got.length;
      rep.step(now);
      perTick.push(got.length - before);
    }
    // Passes at 10 s, 20 s, 30 s: each of the 1000 old connections three times; the young one
    // (accepted at 9 s) is old enough from 19 s on: twice.
    const count = (id: number): number => got.filter((g) => g.r.conn.id === id).length;
    expect(count(1)).toBe(3);
    expect(count(1000)).toBe(3);
    expect(count(5000)).toBe(2);
    expect(got).toHaveLength(3002);
    // No burst: a pass of 1001 spread over 5 s of 50 ms ticks is about 11 a tick.
    expect(Math.max(...perTick)).toBeLessThanOrEqual(12);
    // One connection's records are an interval apart.
    const times = got.filter((g) => g.r.conn.id === 500).map((g) => g.at);
    expect(times[1]! - times[0]!).toBe(10_000);
    expect(got[0]!.r).toMatchObject({ ageMs: 10_000, idleMs: 5, bytesIn: 10, bytesOut: 20 });
  });

  it('a subscriber that throws is counted, the pass goes on', () => {
    const live = [conn(1, 0), conn(2, 0)];
    let n = 0;
    const rep = new ProgressReporter(
      100,
      () => live,
      () => live.length,
      () => {
        n++;
        throw new Error('boom');
      },
    );
    expect(() => rep.step(1000)).not.toThrow();
    expect(n).toBe(1); // the first tick of the pass visits a share
    rep.step(1100);
    expect(n).toBe(2);
    expect(rep.errors).toBe(2);
  });

  it('fields and attributes name the record as the access line and the close span do', () => {
    const r: ProgressRecord = { conn: conn(3, 0), ageMs: 600_000, idleMs: 2000, bytesIn: 30, bytesOut: 60 };
    expect(progressFields(r)).toEqual({
      event: 'connection-progress',
      connectionId: 3,
      route: 'r',
      client: '10.0.0.1',
      port: 80,
      mode: 'plain+tcp',
      phase: 'tunnel',
      ageMs: 600_000,
      idleMs: 2000,
      bytesIn: 30,
      bytesOut: 60,
      configGeneration: 4,
    });
    expect(progressAttributes(r)).toEqual({
      'sightline.age_ms': 600_000,
      'sightline.idle_ms': 2000,
      'sightline.bytes.from_client': 30,
      'sightline.bytes.to_client': 60,
      'sightline.phase': 'tunnel',
      'sightline.config.generation': 4,
      'sightline.route': 'r',
    });
  });
});
