/**
 * Diagnosis v2 on synthetic close streams (seeded PRNG, explicit times): wall-clock timers whose
 * clients reconnect at once or spread out, the undecided case and the observation that decides it,
 * culprits filtered by who closed and by timer family, Sightline's own kills named by setting at
 * the configured value. Abnormal-reason findings: patterns-abnormal.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { PatternDetector, type CloseSample } from '../../../src/telemetry/patterns.js';
import { TimerFamily } from '../../../src/telemetry/fingerprints.js';
import { mulberry32 } from '../../helpers/prng.js';
import { T0, sample, feed, lastAt, wallClock, kinds, timers, cluster } from '../../helpers/pattern-closes.js';

describe('wall-clock timers whatever the reconnect delay', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`prompt reconnects (seed ${seed}): one wall-clock finding at the period, no age cluster below it`, () => {
      const rng = mulberry32(seed);
      const closes = wallClock(rng, { clients: 12, periodMs: 60_000, kills: 8, delay: () => 20 + rng() * 200 });
      const det = new PatternDetector();
      feed(det, closes);
      const snap = det.snapshot(lastAt(closes));
      expect(kinds(snap)).toEqual(['wall-clock-aligned']);
      expect(Math.abs(snap[0]!.periodMs - 60_000)).toBeLessThanOrEqual(3_000);
      expect(snap[0]!.undecided).toBeNull();
      expect(snap[0]!.initiator).toBe('backend');
    });

    it(`spread reconnects over seconds (seed ${seed}): wall-clock`, () => {
      const rng = mulberry32(100 + seed);
      const closes = wallClock(rng, { clients: 12, periodMs: 60_000, kills: 8, delay: () => rng() * 8_000 });
      const det = new PatternDetector();
      feed(det, closes);
      const snap = det.snapshot(lastAt(closes));
      expect(kinds(snap)).toEqual(['wall-clock-aligned']);
      expect(Math.abs(snap[0]!.periodMs - 60_000)).toBeLessThanOrEqual(3_000);
    });
  }

  it('short periods (8 s) with prompt reconnects, and clients that all opened together mid-period', () => {
    const rng = mulberry32(9);
    const closes = wallClock(rng, {
      clients: 10,
      periodMs: 8_000,
      kills: 6,
      delay: () => 10 + rng() * 60,
      startTogether: 3_000,
    });
    const det = new PatternDetector();
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    // The first kill found connections 5 s old, the later ones ≈ 8 s: only a shared timer does that.
    expect(kinds(snap)).toEqual(['wall-clock-aligned']);
    expect(Math.abs(snap[0]!.periodMs - 8_000)).toBeLessThanOrEqual(800);
  });

  for (const seed of [13, 14, 15]) {
    it(`short period (7 s) with reconnects spread over 0–3 s (seed ${seed}): wall-clock, not an age cluster below it`, () => {
      const rng = mulberry32(seed);
      const closes = wallClock(rng, { clients: 10, periodMs: 7_000, kills: 6, delay: () => rng() * 3_000 });
      const det = new PatternDetector();
      feed(det, closes);
      const snap = det.snapshot(lastAt(closes));
      expect(kinds(snap)).toEqual(['wall-clock-aligned']);
      expect(Math.abs(snap[0]!.periodMs - 7_000)).toBeLessThanOrEqual(700);
    });
  }

  it('a 7 s timer is named at its third kill: neighbouring bursts are not background for each other', () => {
    const det = new PatternDetector();
    let detectedAt = 0;
    for (let k = 1; k <= 4 && detectedAt === 0; k++) {
      for (let c = 0; c < 10; c++) {
        // Clients opened 500 ms apart before the first kill, then reconnecting 20 ms after each.
        const start = k === 1 ? T0 + c * 500 : T0 + (k - 1) * 7_000 + 20;
        const at = T0 + k * 7_000 + c * 2;
        if (det.observe(sample({ at, durationMs: at - start })).some((p) => p.kind === 'wall-clock-aligned'))
          detectedAt = k;
      }
    }
    expect(detectedAt).toBe(3);
  });

  it('stays wall-clock once the ring holds only same-age bursts (the first kill long gone)', () => {
    const rng = mulberry32(10);
    const closes = wallClock(rng, { clients: 12, periodMs: 30_000, kills: 40, delay: () => 20 + rng() * 100 });
    const det = new PatternDetector();
    const reported = feed(det, closes);
    expect(kinds(reported)).toEqual(['wall-clock-aligned']);
    expect(kinds(det.snapshot(lastAt(closes)))).toEqual(['wall-clock-aligned']);
  });

  it('undecided while every burst holds connections of one age; the next burst of younger connections decides', () => {
    const rng = mulberry32(11);
    // Seen from after the first kill: every connection lived the whole period (less the reconnect).
    const all = wallClock(rng, {
      clients: 12,
      periodMs: 30_000,
      kills: 7,
      delay: () => 20 + rng() * 100,
      startTogether: 0,
    });
    const det = new PatternDetector();
    const first = feed(det, all);
    expect(kinds(first)).toEqual(['age-clustered']);
    const [p] = det.snapshot(lastAt(all));
    expect(p!.undecided).toMatch(
      /a burst at the next multiple of 30 s holding connections younger than 30 s would make it a wall-clock \(shared\) timer/,
    );
    expect(p!.summary).toContain('undecided');
    // The decisive observation: new clients joined mid-period and die with the others at 8 × 30 s.
    const kill = T0 + 8 * 30_000;
    const young = Array.from({ length: 6 }, (_, i) => sample({ at: kill + i * 5, durationMs: 7_000 + i * 2_000 }));
    const old = Array.from({ length: 12 }, (_, i) => sample({ at: kill + 10 + i * 3, durationMs: 29_800 }));
    const decided = feed(det, [...young, ...old]);
    expect(decided.map((x) => x.kind)).toContain('wall-clock-aligned');
    expect(kinds(det.snapshot(kill + 100))).toEqual(['wall-clock-aligned']);
  });

  it('groups opened together that live far shorter than their interval are not a shared timer', () => {
    const rng = mulberry32(12);
    const closes: CloseSample[] = [];
    for (let k = 0; k < 8; k++) {
      for (let i = 0; i < 10; i++)
        closes.push(sample({ at: T0 + k * 60_000 + 10_000 + rng() * 200, durationMs: 10_000 + rng() * 200 }));
    }
    const det = new PatternDetector();
    feed(det, closes);
    expect(det.snapshot(lastAt(closes)).some((p) => p.kind === 'wall-clock-aligned')).toBe(false);
  });
});

describe('culprits named by who closed and by the timer family', () => {
  it("Sightline's own inactivity kill: the setting and its value first, no products outside it, the configured value reported", () => {
    const rng = mulberry32(20);
    const closes = cluster(rng, 30, () => 30_000 + rng() * 900, {
      initiator: 'proxy',
      local: true,
      reason: 'inactivity',
    });
    const det = new PatternDetector({
      localSlackMs: 1_000,
      timers: timers(['inactivityTimeout: 30000', 30_000, TimerFamily.Idle, 'inactivity']),
    });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.culprits[0]).toBe("Sightline's own `inactivityTimeout: 30000` on route ws (reason inactivity)");
    expect(p!.setting).toBe('inactivityTimeout: 30000');
    expect(p!.culprits.join(' ')).not.toMatch(/HAProxy|Azure|CDN|nginx/);
    expect(p!.periodMs).toBe(30_000);
    expect(p!.measuredMs).toBeGreaterThan(30_000);
    expect(p!.summary).toMatch(/die at 30\.0 s/);
  });

  it('a locally enforced 3 s age cap killed up to one sample late is reported as 3 s, not ≈3.9 s', () => {
    const rng = mulberry32(21);
    const closes = cluster(rng, 30, () => 3_000 + rng() * 950, {
      initiator: 'proxy',
      local: true,
      reason: 'lifetime',
      idleAtCloseMs: 10,
    });
    const det = new PatternDetector({
      localSlackMs: 1_000,
      timers: timers(['maxConnectionLifetime: 3000', 3_000, TimerFamily.Age, 'lifetime']),
    });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.periodMs).toBe(3_000);
    expect(p!.summary).toMatch(/^connections on route ws die at 3\.0 s .*maxConnectionLifetime: 3000/);
    expect(p!.culprits[0]).toMatch(/^Sightline's own `maxConnectionLifetime: 3000`/);
  });

  it('a peer closing at a period equal to a Sightline timeout says so', () => {
    const rng = mulberry32(22);
    const closes = cluster(rng, 30, () => 30_000 + rng() * 200, { initiator: 'client', reason: 'client_closed' });
    const det = new PatternDetector({
      timers: timers(['inactivityTimeout: 30000', 30_000, TimerFamily.Idle, 'inactivity']),
    });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.culprits[0]).toMatch(/the period equals Sightline's own `inactivityTimeout: 30000` on route ws/);
    expect(p!.culprits.some((c) => c.includes('`timeout client 30s`'))).toBe(true);
    expect(p!.culprits.some((c) => c.includes('timeout server'))).toBe(false);
  });

  it('no product default at the period: says so and lists the timers configured on the path', () => {
    const rng = mulberry32(23);
    const closes = cluster(rng, 30, () => 7_000 + rng() * 100);
    const det = new PatternDetector({
      timers: timers(
        ['inactivityTimeout: 20000', 20_000, TimerFamily.Idle, 'inactivity'],
        ['maxConnectionLifetime: 86400000', 86_400_000, TimerFamily.Age, 'lifetime'],
      ),
    });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.culprits).toEqual([]);
    expect(p!.timersOnPath).toEqual(['inactivityTimeout: 20000 (20 s)', 'maxConnectionLifetime: 86400000 (86400 s)']);
    expect(p!.summary).toMatch(
      /no known default at this period \(7\.\d s\); timers configured on this path: inactivityTimeout: 20000 \(20 s\)/,
    );
  });

  it('an idle cut never lists a shared timer (ingress reloads), a wall-clock one lists it first', () => {
    const rng = mulberry32(24);
    const closes = cluster(rng, 30, () => 240_000 + rng() * 500, { initiator: 'client', reason: 'client_closed' });
    const det = new PatternDetector();
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.timer).toBe('idle-timeout');
    expect(p!.culprits.join(' ')).not.toMatch(/reload/);
    expect(p!.culprits[0]).toMatch(/Azure Basic Load Balancer/);
  });
});
