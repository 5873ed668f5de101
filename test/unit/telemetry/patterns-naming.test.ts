/**
 * Diagnosis v2 on synthetic close streams (seeded PRNG, explicit times): wall-clock timers whose
 * clients reconnect at once or spread out, the undecided case and the observation that decides it,
 * culprits filtered by who closed and by timer family, Sightline's own kills named by setting at
 * the configured value, and abnormal-reason findings.
 */
import { describe, expect, it } from 'vitest';
import { PatternDetector, type CloseSample, type DetectedPattern } from '../../../src/telemetry/patterns.js';
import { TimerFamily } from '../../../src/telemetry/fingerprints.js';
import type { ConfiguredTimer } from '../../../src/telemetry/configured-timers.js';
import { mulberry32 } from '../../helpers/prng.js';

const T0 = 1_700_000_040_000;

function sample(p: Partial<CloseSample> & Pick<CloseSample, 'at' | 'durationMs'>): CloseSample {
  return { route: 'ws', reason: 'backend_closed', initiator: 'backend', local: false, idleAtCloseMs: p.durationMs - 50, ...p };
}

function feed(det: PatternDetector, closes: CloseSample[]): DetectedPattern[] {
  const out: DetectedPattern[] = [];
  for (const c of [...closes].sort((a, b) => a.at - b.at)) out.push(...det.observe(c));
  return out;
}

const lastAt = (closes: CloseSample[]): number => Math.max(...closes.map((c) => c.at));

/**
 * `clients` connections killed at every multiple of `periodMs` (a shared timer), each reconnecting
 * `delay()` ms after its kill; the first connections open at random in the first period (or all at
 * `startTogether` when given). Silent connections (idle ≈ age).
 */
function wallClock(rng: () => number, o: { clients: number; periodMs: number; kills: number; delay: () => number; startTogether?: number }): CloseSample[] {
  const out: CloseSample[] = [];
  for (let c = 0; c < o.clients; c++) {
    let start = T0 + (o.startTogether ?? rng() * o.periodMs * 0.9);
    for (let k = 1; k <= o.kills; k++) {
      const kill = T0 + k * o.periodMs + rng() * 40;
      if (kill <= start) continue;
      out.push(sample({ at: kill, durationMs: kill - start, idleAtCloseMs: kill - start - rng() * 50 }));
      start = kill + o.delay();
    }
  }
  return out;
}

const kinds = (ps: readonly DetectedPattern[]): string[] => ps.map((p) => p.kind).sort();

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
    const closes = wallClock(rng, { clients: 10, periodMs: 8_000, kills: 6, delay: () => 10 + rng() * 60, startTogether: 3_000 });
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
        if (det.observe(sample({ at, durationMs: at - start })).some((p) => p.kind === 'wall-clock-aligned')) detectedAt = k;
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
    const all = wallClock(rng, { clients: 12, periodMs: 30_000, kills: 7, delay: () => 20 + rng() * 100, startTogether: 0 });
    const det = new PatternDetector();
    const first = feed(det, all);
    expect(kinds(first)).toEqual(['age-clustered']);
    const [p] = det.snapshot(lastAt(all));
    expect(p!.undecided).toMatch(/a burst at the next multiple of 30 s holding connections younger than 30 s would make it a wall-clock \(shared\) timer/);
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
      for (let i = 0; i < 10; i++) closes.push(sample({ at: T0 + k * 60_000 + 10_000 + rng() * 200, durationMs: 10_000 + rng() * 200 }));
    }
    const det = new PatternDetector();
    feed(det, closes);
    expect(det.snapshot(lastAt(closes)).some((p) => p.kind === 'wall-clock-aligned')).toBe(false);
  });
});

const timers = (...t: Array<[string, number, TimerFamily, string | null]>): ReadonlyMap<string, readonly ConfiguredTimer[]> =>
  new Map([['ws', t.map(([setting, ms, family, reason]) => ({ setting, ms, family, reason }) as ConfiguredTimer)]]);

/** n connections opened at random, each closed at `age(rng)`. */
function cluster(rng: () => number, n: number, age: () => number, extra: Partial<CloseSample> = {}): CloseSample[] {
  return Array.from({ length: n }, () => {
    const d = age();
    const start = T0 + rng() * 20 * 60_000;
    return sample({ at: start + d, durationMs: d, idleAtCloseMs: d - 100, ...extra });
  });
}

describe('culprits named by who closed and by the timer family', () => {
  it("Sightline's own inactivity kill: the setting and its value first, no products outside it, the configured value reported", () => {
    const rng = mulberry32(20);
    const closes = cluster(rng, 30, () => 30_000 + rng() * 900, { initiator: 'proxy', local: true, reason: 'inactivity' });
    const det = new PatternDetector({ localSlackMs: 1_000, timers: timers(['inactivityTimeout: 30000', 30_000, TimerFamily.Idle, 'inactivity']) });
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
    const closes = cluster(rng, 30, () => 3_000 + rng() * 950, { initiator: 'proxy', local: true, reason: 'lifetime', idleAtCloseMs: 10 });
    const det = new PatternDetector({ localSlackMs: 1_000, timers: timers(['maxConnectionLifetime: 3000', 3_000, TimerFamily.Age, 'lifetime']) });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.periodMs).toBe(3_000);
    expect(p!.summary).toMatch(/^connections on route ws die at 3\.0 s .*maxConnectionLifetime: 3000/);
    expect(p!.culprits[0]).toMatch(/^Sightline's own `maxConnectionLifetime: 3000`/);
  });

  it('a peer closing at a period equal to a Sightline timeout says so', () => {
    const rng = mulberry32(22);
    const closes = cluster(rng, 30, () => 30_000 + rng() * 200, { initiator: 'client', reason: 'client_closed' });
    const det = new PatternDetector({ timers: timers(['inactivityTimeout: 30000', 30_000, TimerFamily.Idle, 'inactivity']) });
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
      timers: timers(['inactivityTimeout: 20000', 20_000, TimerFamily.Idle, 'inactivity'], ['maxConnectionLifetime: 86400000', 86_400_000, TimerFamily.Age, 'lifetime']),
    });
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(p!.culprits).toEqual([]);
    expect(p!.timersOnPath).toEqual(['inactivityTimeout: 20000 (20 s)', 'maxConnectionLifetime: 86400000 (86400 s)']);
    expect(p!.summary).toMatch(/no known default at this period \(7\.\d s\); timers configured on this path: inactivityTimeout: 20000 \(20 s\)/);
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

describe('abnormal-reason findings', () => {
  /** Closes at random moments and ages on `route`: `bad` of them with `reason`, the rest normal. */
  function mixed(rng: () => number, route: string, n: number, badShare: number, reason: string, spanMs = 300_000): CloseSample[] {
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
    const det = new PatternDetector({ timers: timers(['websocket.pingInterval: 30000 + pingTimeout: 10000', 40_000, TimerFamily.Idle, 'heartbeat_timeout']) });
    const reported = feed(det, closes);
    expect(reported.map((p) => p.kind)).toEqual(['abnormal-reason']);
    const [p] = det.snapshot(lastAt(closes));
    expect(p).toMatchObject({ kind: 'abnormal-reason', route: 'ws', initiator: 'proxy', local: true, setting: 'websocket.pingInterval: 30000 + pingTimeout: 10000' });
    expect(p!.culprits[0]).toMatch(/^Sightline's own `websocket.pingInterval: 30000 \+ pingTimeout: 10000`/);
    expect(p!.culprits[1]).toMatch(/^heartbeat_timeout: WebSocket clients stopped answering pings/);
    expect(p!.summary).toMatch(/closes on route ws are dominated by abnormal reasons .* mostly heartbeat_timeout/);
    // Lapses when the window no longer holds them.
    expect(det.snapshot(lastAt(closes) + 11 * 60_000)).toEqual([]);
  });

  it('heartbeat on clients silent from the start: one age-clustered finding at pingInterval + pingTimeout, not a second abnormal one', () => {
    const rng = mulberry32(36);
    const closes = cluster(rng, 40, () => 40_000 + rng() * 300, { initiator: 'proxy', local: true, reason: 'heartbeat_timeout' });
    const det = new PatternDetector({ localSlackMs: 1_000, timers: timers(['websocket.pingInterval: 30000 + pingTimeout: 10000', 40_000, TimerFamily.Idle, 'heartbeat_timeout']) });
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    expect(snap.map((p) => p.kind)).toEqual(['age-clustered']);
    expect(snap[0]).toMatchObject({ periodMs: 40_000, timer: 'idle-timeout', setting: 'websocket.pingInterval: 30000 + pingTimeout: 10000' });
  });

  it('and no transient abnormal finding first when the age cluster forms only by the 10th close', () => {
    const rng = mulberry32(37);
    const hb = { initiator: 'proxy', local: true, reason: 'heartbeat_timeout' } as const;
    // Two early misses at other ages keep the 8th close's analysis from seeing 8 at one age.
    const early = [sample({ at: T0 - 60_000, durationMs: 47_000, ...hb }), sample({ at: T0 - 50_000, durationMs: 52_000, ...hb })];
    const closes = [...early, ...cluster(rng, 20, () => 40_000 + rng() * 300, hb)];
    const det = new PatternDetector({ localSlackMs: 1_000, timers: timers(['websocket.pingInterval: 30000 + pingTimeout: 10000', 40_000, TimerFamily.Idle, 'heartbeat_timeout']) });
    expect(feed(det, closes).map((p) => p.kind)).toEqual(['age-clustered']);
  });

  it('misses at random with pings 1 s apart: cut at each ping (1.6, 2.6, 3.6 s), an abnormal finding, not one age', () => {
    // The heartbeat runs on its own timers: the sweep's lateness (localSlackMs) does not merge the pings.
    const rng = mulberry32(38);
    const closes = Array.from({ length: 40 }, (_, i) => {
      const d = (i < 18 ? 1 : i < 32 ? 2 : 3) * 1_000 + 600 + rng() * 50;
      return sample({ at: T0 + rng() * 30_000, durationMs: d, idleAtCloseMs: d - 1_000, initiator: 'proxy', local: true, reason: 'heartbeat_timeout' });
    });
    const det = new PatternDetector({ localSlackMs: 1_000, timers: timers(['websocket.pingInterval: 1000 + pingTimeout: 500', 1_500, TimerFamily.Idle, 'heartbeat_timeout']) });
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
      det.observe(sample({ route: `r${i % 50}`, at: T0 + i * 10, durationMs: 200 + rng() * 5_000, idleAtCloseMs: 100, reason: bad ? 'backend_reset' : 'client_closed', initiator: bad ? 'backend' : 'client' }));
    }
    const ms = performance.now() - t;
    expect(det.snapshot(T0 + 1_000_000).filter((p) => p.kind === 'abnormal-reason')).toHaveLength(50);
    expect(ms).toBeLessThan(3_000);
  });
});
