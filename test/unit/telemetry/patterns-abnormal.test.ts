// The pattern detector's abnormal-reason findings on synthetic close streams, and its cost on busy broken routes.
import { describe, expect, it } from 'vitest';
import { PatternDetector, type CloseSample } from '../../../src/telemetry/patterns.js';
import { TimerFamily } from '../../../src/telemetry/fingerprints.js';
import { mulberry32 } from '../../helpers/prng.js';
import { T0, sample, feed, lastAt, timers, cluster } from '../../helpers/pattern-closes.js';

describe('abnormal-reason findings', () => {
  /** Closes at random moments and ages on `route`: `bad` of them with `reason`, the rest normal. */
  function mixed(
    rng: () => number,
    route: string,
    n: number,
    badShare: number,
    reason: string,
    spanMs = 300_000,
  ): CloseSample[] {
    return Array.from({ length: n }, () => {
      const d = 500 + rng() * 120_000;
      const bad = rng() < badShare;
      return sample({
        route,
        at: T0 + rng() * spanMs,
        durationMs: d,
        idleAtCloseMs: rng() * d,
        reason: bad ? reason : 'client_closed',
        initiator: bad && reason === 'heartbeat_timeout' ? 'proxy' : bad ? 'backend' : 'client',
        local: bad && reason === 'heartbeat_timeout',
      });
    });
  }

  it('heartbeat misses at random moments: a finding naming the heartbeat setting, reported once', () => {
    const rng = mulberry32(30);
    const closes = mixed(rng, 'ws', 60, 0.7, 'heartbeat_timeout');
    const det = new PatternDetector({
      timers: timers([
        'websocket.pingInterval: 30000 + pingTimeout: 10000',
        40_000,
        TimerFamily.Idle,
        'heartbeat_timeout',
      ]),
    });
    const reported = feed(det, closes);
    expect(reported.map((p) => p.kind)).toEqual(['abnormal-reason']);
    const [p] = det.snapshot(lastAt(closes));
    expect(p).toMatchObject({
      kind: 'abnormal-reason',
      route: 'ws',
      initiator: 'proxy',
      local: true,
      setting: 'websocket.pingInterval: 30000 + pingTimeout: 10000',
    });
    expect(p!.culprits[0]).toMatch(/^Sightline's own `websocket.pingInterval: 30000 \+ pingTimeout: 10000`/);
    expect(p!.culprits[1]).toMatch(/^heartbeat_timeout: WebSocket clients stopped answering pings/);
    expect(p!.summary).toMatch(/closes on route ws are dominated by abnormal reasons .* mostly heartbeat_timeout/);
    // Lapses when the window no longer holds them.
    expect(det.snapshot(lastAt(closes) + 11 * 60_000)).toEqual([]);
  });

  it('heartbeat on clients silent from the start: one age-clustered finding at pingInterval + pingTimeout, not a second abnormal one', () => {
    const rng = mulberry32(36);
    const closes = cluster(rng, 40, () => 40_000 + rng() * 300, {
      initiator: 'proxy',
      local: true,
      reason: 'heartbeat_timeout',
    });
    const det = new PatternDetector({
      localSlackMs: 1_000,
      timers: timers([
        'websocket.pingInterval: 30000 + pingTimeout: 10000',
        40_000,
        TimerFamily.Idle,
        'heartbeat_timeout',
      ]),
    });
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    expect(snap.map((p) => p.kind)).toEqual(['age-clustered']);
    expect(snap[0]).toMatchObject({
      periodMs: 40_000,
      timer: 'idle-timeout',
      setting: 'websocket.pingInterval: 30000 + pingTimeout: 10000',
    });
  });

  it('and no transient abnormal finding first when the age cluster forms only by the 10th close', () => {
    const rng = mulberry32(37);
    const hb = { initiator: 'proxy', local: true, reason: 'heartbeat_timeout' } as const;
    // Two early misses at other ages keep the 8th close's analysis from seeing 8 at one age.
    const early = [
      sample({ at: T0 - 60_000, durationMs: 47_000, ...hb }),
      sample({ at: T0 - 50_000, durationMs: 52_000, ...hb }),
    ];
    const closes = [...early, ...cluster(rng, 20, () => 40_000 + rng() * 300, hb)];
    const det = new PatternDetector({
      localSlackMs: 1_000,
      timers: timers([
        'websocket.pingInterval: 30000 + pingTimeout: 10000',
        40_000,
        TimerFamily.Idle,
        'heartbeat_timeout',
      ]),
    });
    expect(feed(det, closes).map((p) => p.kind)).toEqual(['age-clustered']);
  });

  it('misses at random with pings 1 s apart: cut at each ping (1.6, 2.6, 3.6 s), an abnormal finding, not one age', () => {
    // The heartbeat runs on its own timers: the sweep's lateness (localSlackMs) does not merge the pings.
    const rng = mulberry32(38);
    const closes = Array.from({ length: 40 }, (_, i) => {
      const d = (i < 18 ? 1 : i < 32 ? 2 : 3) * 1_000 + 600 + rng() * 50;
      return sample({
        at: T0 + rng() * 30_000,
        durationMs: d,
        idleAtCloseMs: d - 1_000,
        initiator: 'proxy',
        local: true,
        reason: 'heartbeat_timeout',
      });
    });
    const det = new PatternDetector({
      localSlackMs: 1_000,
      timers: timers(['websocket.pingInterval: 1000 + pingTimeout: 500', 1_500, TimerFamily.Idle, 'heartbeat_timeout']),
    });
    feed(det, closes);
    expect(det.snapshot(lastAt(closes)).map((p) => p.kind)).toEqual(['abnormal-reason']);
  });

  it('one bad route with random resets among healthy ones: only that route', () => {
    const rng = mulberry32(31);
    const closes = [
      ...mixed(rng, 'bad', 80, 0.6, 'backend_reset'),
      ...mixed(rng, 'good-1', 80, 0.03, 'backend_reset'),
      ...mixed(rng, 'good-2', 80, 0.03, 'client_reset'),
    ];
    const det = new PatternDetector();
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    expect(snap.map((p) => `${p.route}:${p.kind}`)).toEqual(['bad:abnormal-reason']);
    expect(snap[0]!.reasons).toHaveProperty('backend_reset');
    // Even a very short-lived close counts (a reset within the first second).
    expect(snap[0]!.count).toBeGreaterThanOrEqual(10);
  });

  it('below the baseline (too few, or under half) and operator or policy closes are no finding', () => {
    const rng = mulberry32(32);
    for (const closes of [
      mixed(rng, 'few', 9, 1, 'backend_reset'),
      mixed(rng, 'minority', 200, 0.3, 'half_zombie'),
      mixed(rng, 'drain', 100, 1, 'shutdown'),
      mixed(rng, 'idle', 100, 1, 'inactivity'),
      mixed(rng, 'limits', 100, 1, 'route_connection_limit'),
    ]) {
      const det = new PatternDetector();
      expect(feed(det, closes).filter((p) => p.kind === 'abnormal-reason')).toEqual([]);
    }
  });

  it('random lifetimes with normal reasons never fire, over several seeds', () => {
    for (const seed of [33, 34, 35]) {
      const rng = mulberry32(seed);
      const closes = mixed(rng, 'ws', 1_500, 0.04, 'client_reset', 3_600_000);
      const det = new PatternDetector();
      expect(feed(det, closes)).toEqual([]);
    }
  });
});

describe('cost', () => {
  it('stays cheap on busy broken routes: 100k closes over 50 routes, 60 % resets', () => {
    const rng = mulberry32(40);
    const det = new PatternDetector();
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const bad = rng() < 0.6;
      det.observe(
        sample({
          route: `r${i % 50}`,
          at: T0 + i * 10,
          durationMs: 200 + rng() * 5_000,
          idleAtCloseMs: 100,
          reason: bad ? 'backend_reset' : 'client_closed',
          initiator: bad ? 'backend' : 'client',
        }),
      );
    }
    const ms = performance.now() - t;
    expect(det.snapshot(T0 + 1_000_000).filter((p) => p.kind === 'abnormal-reason')).toHaveLength(50);
    expect(ms).toBeLessThan(3_000);
  });
});
