/**
 * The disconnect-pattern detector on synthetic close streams (seeded PRNG, explicit times): it finds
 * age clusters and wall-clock alignment, tells idle timers from age caps, and stays silent on
 * ordinary traffic.
 */
import { describe, expect, it } from 'vitest';
import { PatternDetector, type CloseSample, type DetectedPattern } from '../../../src/telemetry/patterns.js';
import { mulberry32 } from '../../helpers/prng.js';

const T0 = 1_700_000_000_000;

type Fields = Omit<CloseSample, 'route' | 'reason' | 'initiator' | 'local'> & Extra;
type Extra = { route?: string; reason?: string; initiator?: CloseSample['initiator']; local?: boolean };

function sample(p: Fields): CloseSample {
  return { route: 'ws', reason: 'backend_closed', initiator: 'backend', local: false, ...p };
}

/** Feed closes in close-time order; return everything observe() reported. */
function feed(det: PatternDetector, closes: CloseSample[]): DetectedPattern[] {
  const out: DetectedPattern[] = [];
  for (const c of [...closes].sort((a, b) => a.at - b.at)) out.push(...det.observe(c));
  return out;
}

/** n connections started at random over `overMs`, each dying at `ageMs` ± `jitterMs`. */
function ageCluster(
  rng: () => number,
  n: number,
  ageMs: number,
  jitterMs: number,
  idle: (age: number) => number,
  extra: Extra = {},
): CloseSample[] {
  return Array.from({ length: n }, () => {
    const start = T0 + rng() * 20 * 60_000;
    const durationMs = ageMs + (rng() * 2 - 1) * jitterMs;
    return sample({ at: start + durationMs, durationMs, idleAtCloseMs: idle(durationMs), ...extra });
  });
}

/** Bursts of connections of random ages (5 s – 10 min) closed together at `t0 + k·periodMs`. */
function alignedBursts(
  rng: () => number,
  bursts: number,
  perBurst: number,
  periodMs: number,
  t0 = T0 + 3_600_000,
): CloseSample[] {
  const out: CloseSample[] = [];
  for (let k = 0; k < bursts; k++) {
    for (let i = 0; i < perBurst; i++) {
      const durationMs = 5_000 + rng() * (600_000 - 5_000);
      out.push(sample({ at: t0 + k * periodMs + rng() * 300, durationMs, idleAtCloseMs: rng() * 3_000 }));
    }
  }
  return out;
}

function randomTraffic(rng: () => number, n: number, spanMs: number, life: () => number, route = 'ws'): CloseSample[] {
  return Array.from({ length: n }, () => {
    const durationMs = life();
    const at = T0 + rng() * spanMs + durationMs;
    const r = rng();
    return sample({
      route,
      at,
      durationMs,
      idleAtCloseMs: rng() * durationMs,
      initiator: r < 0.5 ? 'client' : r < 0.9 ? 'backend' : 'proxy',
      local: r >= 0.9,
      reason: r < 0.5 ? 'client_closed' : r < 0.9 ? 'backend_closed' : 'inactivity',
    });
  });
}

const lastAt = (closes: CloseSample[]): number => Math.max(...closes.map((c) => c.at));

describe('PatternDetector: age-clustered', () => {
  it('finds a 30 s cluster of backend closes after 30 s of silence as an idle timeout', () => {
    const rng = mulberry32(1);
    const closes = ageCluster(rng, 40, 30_000, 200, (d) => d - rng() * 300);
    const det = new PatternDetector();
    const reported = feed(det, closes);
    expect(reported).toHaveLength(1);
    const snap = det.snapshot(lastAt(closes));
    expect(snap).toHaveLength(1);
    const p = snap[0]!;
    expect(p.kind).toBe('age-clustered');
    expect(p.route).toBe('ws');
    expect(Math.abs(p.periodMs - 30_000)).toBeLessThanOrEqual(300);
    expect(p.spreadMs).toBeLessThanOrEqual(250);
    expect(p.timer).toBe('idle-timeout');
    expect(p.initiator).toBe('backend');
    expect(p.local).toBe(false);
    expect(p.count).toBeGreaterThanOrEqual(38);
    expect(p.reasons['backend_closed']).toBe(p.count);
    expect(p.culprits.some((c) => /half-zombie|heartbeat/.test(c))).toBe(true);
    // The backend side closed: `timeout server`, never `timeout client` (that one cuts the client side).
    expect(p.culprits.some((c) => /HAProxy `timeout server 30s`/.test(c))).toBe(true);
    expect(p.culprits.some((c) => /timeout client/.test(c))).toBe(false);
    // An idle timeout: the idle-timer rows come first.
    expect(p.culprits[0]).toMatch(/HAProxy|Azure/);
    expect(p.summary).toContain('route ws');
    expect(p.summary).toMatch(/die at 30\.0 s ± 0\.\d s \(age-clustered, idle-timeout, closed by backend/);
    expect(p.summary).toContain('known causes at 30 s');
    expect(p.lastSeen).toBe(lastAt(closes));
  });

  it('calls it an age cap when the proxy kills connections that were still busy', () => {
    const rng = mulberry32(2);
    const closes = ageCluster(rng, 40, 30_000, 200, () => rng() * 2_000, {
      initiator: 'proxy',
      local: true,
      reason: 'lifetime',
    });
    const det = new PatternDetector();
    feed(det, closes);
    const [p, ...rest] = det.snapshot(lastAt(closes));
    expect(rest).toHaveLength(0);
    expect(p?.kind).toBe('age-clustered');
    expect(p?.timer).toBe('age-cap');
    expect(p?.initiator).toBe('proxy');
    expect(p?.local).toBe(true);
    expect(p?.reasons).toEqual({ lifetime: 40 });
    expect(p?.summary).toContain('closed by proxy (proxy decision)');
  });

  it('finds a sharp 60 s peak that is a minority of a busy route', () => {
    const rng = mulberry32(3);
    const exp = (): number => 1_000 - 60_000 * Math.log(1 - rng());
    const closes = [
      ...randomTraffic(rng, 170, 40 * 60_000, exp),
      ...ageCluster(rng, 80, 60_000, 250, (d) => d - 100).map((c) => ({ ...c, at: c.at + 20 * 60_000 })),
    ];
    const det = new PatternDetector();
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    expect(snap.map((p) => p.kind)).toEqual(['age-clustered']);
    expect(Math.abs(snap[0]!.periodMs - 60_000)).toBeLessThan(300);
    expect(snap[0]!.culprits.some((c) => c.includes('proxy_read_timeout'))).toBe(true);
  });

  it('groups proxy kills smeared over one sweep period only when told the slack', () => {
    const mk = (): CloseSample[] => {
      const rng = mulberry32(4);
      return ageCluster(rng, 40, 35_000, 5_000, (d) => d - rng() * 500, {
        initiator: 'proxy',
        local: true,
        reason: 'inactivity',
      });
    };
    expect(feed(new PatternDetector(), mk())).toHaveLength(0);
    const det = new PatternDetector({ localSlackMs: 10_000 });
    const reported = feed(det, mk());
    expect(reported).toHaveLength(1);
    expect(reported[0]!.timer).toBe('idle-timeout');
    expect(Math.abs(reported[0]!.periodMs - 35_000)).toBeLessThan(2_000);
  });

  it('does not take one burst of connections opened and closed together for a timer', () => {
    const rng = mulberry32(5);
    const closes = Array.from({ length: 40 }, () => {
      const start = T0 + rng() * 100;
      return sample({ at: start + 30_000 + rng() * 50, durationMs: 30_000, idleAtCloseMs: 29_000 });
    });
    const det = new PatternDetector();
    expect(feed(det, closes)).toHaveLength(0);
    expect(det.snapshot(lastAt(closes))).toHaveLength(0);
  });

  it('but repeated reconnect-together bursts dying at 30 s are an age cluster, not wall-clock alignment', () => {
    const rng = mulberry32(6);
    const closes: CloseSample[] = [];
    for (let k = 0; k < 5; k++) {
      for (let i = 0; i < 20; i++) {
        const start = T0 + k * 31_000 + rng() * 100;
        closes.push(
          sample({ at: start + 30_000 + rng() * 100, durationMs: 30_000 + rng() * 100, idleAtCloseMs: 29_900 }),
        );
      }
    }
    const det = new PatternDetector();
    const reported = feed(det, closes);
    expect(reported.map((p) => p.kind)).toEqual(['age-clustered']);
  });
});

describe('PatternDetector: wall-clock-aligned', () => {
  it('finds connections of any age closed together every 120 s and names the pool age cap first', () => {
    const rng = mulberry32(7);
    const closes = alignedBursts(rng, 4, 6, 120_000);
    const det = new PatternDetector();
    const reported = feed(det, closes);
    expect(reported).toHaveLength(1);
    const snap = det.snapshot(lastAt(closes));
    expect(snap).toHaveLength(1);
    const p = snap[0]!;
    expect(p.kind).toBe('wall-clock-aligned');
    expect(Math.abs(p.periodMs - 120_000)).toBeLessThanOrEqual(1_500);
    expect(p.count).toBe(24);
    expect(p.timer).toBe('age-cap');
    expect(p.culprits[0]).toMatch(/pool age cap/);
    // Closed by the backend: a CDN edge (in front of Sightline, it cuts the client side) is not listed.
    expect(p.culprits.some((c) => c.includes('CDN'))).toBe(false);
    expect(p.summary).toMatch(/route ws are closed together every 120\.\d s/);
    expect(p.summary).toContain('4 bursts');
  });

  it('still finds it among background traffic, and interleaved with a second pooled connection', () => {
    const rng = mulberry32(8);
    const uniform = (): number => 1_000 + rng() * 599_000;
    const closes = [
      ...randomTraffic(rng, 60, 15 * 60_000, uniform).map((c) => ({ ...c, at: c.at + 3_000_000 })),
      ...alignedBursts(rng, 5, 5, 120_000),
      ...alignedBursts(rng, 5, 5, 120_000, T0 + 3_600_000 + 47_000),
    ];
    const det = new PatternDetector();
    feed(det, closes);
    const snap = det.snapshot(lastAt(closes));
    expect(snap.map((p) => p.kind)).toEqual(['wall-clock-aligned']);
    expect(Math.abs(snap[0]!.periodMs - 120_000)).toBeLessThanOrEqual(1_500);
  });

  it('bridges a missing burst (a pooled connection that carried nothing that time)', () => {
    const rng = mulberry32(10);
    const closes = alignedBursts(rng, 5, 6, 120_000).filter((c) => Math.abs(c.at - (T0 + 3_600_000 + 240_000)) > 1_000);
    const det = new PatternDetector();
    const reported = feed(det, closes);
    expect(reported).toHaveLength(1);
    expect(Math.abs(reported[0]!.periodMs - 120_000)).toBeLessThanOrEqual(1_500);
    expect(det.snapshot(lastAt(closes))[0]!.summary).toContain('4 bursts');
  });

  it('prefers the period that explains every burst over a multiple of it', () => {
    const rng = mulberry32(20);
    const keep = [0, 240_000, 480_000, 600_000];
    const closes = alignedBursts(rng, 6, 6, 120_000).filter((c) =>
      keep.some((k) => Math.abs(c.at - (T0 + 3_600_000 + k)) < 1_000),
    );
    const det = new PatternDetector();
    feed(det, closes);
    const [p] = det.snapshot(lastAt(closes));
    expect(Math.abs(p!.periodMs - 120_000)).toBeLessThanOrEqual(1_500);
    expect(p!.count).toBe(24);
  });

  it('needs three bursts: two are not a period', () => {
    const rng = mulberry32(9);
    const det = new PatternDetector();
    expect(feed(det, alignedBursts(rng, 2, 10, 120_000))).toHaveLength(0);
  });

  /** 10 clients opened 0.5 s apart, a timer closing all of them every 5.95 s, each reopening `delay()` later. */
  function shortTimer(rng: () => number, kills: number, delay: () => number): CloseSample[] {
    let opens = Array.from({ length: 10 }, (_, i) => T0 + i * 500);
    const out: CloseSample[] = [];
    for (let k = 1; k <= kills; k++) {
      const kill = T0 + k * 5_950;
      opens = opens.map((o) => {
        const at = kill + rng() * 5;
        out.push(sample({ at, durationMs: at - o, idleAtCloseMs: at - o }));
        return at + delay();
      });
    }
    return out;
  }

  it('a 6 s timer: its first burst is found though the next one lies within the 5 s it is judged against', () => {
    // Prompt reconnects: the first kill is the only one holding connections of different ages.
    const found = feed(
      new PatternDetector(),
      shortTimer(mulberry32(10), 3, () => 20),
    );
    expect(found.map((p) => [p.kind, Math.abs(p.periodMs - 5_950) < 100])).toEqual([['wall-clock-aligned', true]]);
  });

  it('a 6 s timer with clients reconnecting over 0.5–2.5 s: each burst is mixed (ages 2 s apart), with or without the first', () => {
    const rng = mulberry32(11);
    const later = shortTimer(rng, 6, () => 500 + rng() * 2_000).filter((c) => c.at > T0 + 10_000);
    const found = feed(new PatternDetector(), later);
    expect(found.map((p) => [p.kind, Math.abs(p.periodMs - 5_950) < 100, p.undecided])).toEqual([
      ['wall-clock-aligned', true, null],
    ]);
  });
});

describe('PatternDetector: ordinary traffic', () => {
  const cases: [string, (rng: () => number) => number][] = [
    ['exponential lifetimes (mean 60 s)', (rng) => -60_000 * Math.log(1 - rng())],
    ['uniform lifetimes 1 s – 10 min', (rng) => 1_000 + rng() * 599_000],
  ];
  for (const [name, life] of cases) {
    for (const [spanMs, label] of [
      [3_600_000, 'over an hour'],
      [600_000, 'over 10 minutes (busy)'],
    ] as const) {
      it(`never fires on ${name} ${label}`, () => {
        for (const seed of [11, 12, 13]) {
          const rng = mulberry32(seed);
          const closes = randomTraffic(rng, 2_000, spanMs, () => life(rng));
          const det = new PatternDetector();
          expect(feed(det, closes)).toEqual([]);
          expect(det.snapshot(lastAt(closes))).toEqual([]);
        }
      });
    }
  }

  it('never fires on the tail of short-lived traffic piling up just above minDurationMs', () => {
    const rng = mulberry32(19);
    const closes = randomTraffic(rng, 2_000, 3_600_000, () => 1_000 - 300 * Math.log(1 - rng()));
    const det = new PatternDetector();
    expect(feed(det, closes)).toEqual([]);
  });

  it('ignores short-lived churn without keeping state for it', () => {
    const det = new PatternDetector();
    for (let i = 0; i < 100; i++)
      expect(det.observe(sample({ at: T0 + i * 10, durationMs: 500, idleAtCloseMs: 500 }))).toHaveLength(0);
    expect(det.routes).toBe(0);
  });
});

describe('PatternDetector: state', () => {
  it('keeps routes independent', () => {
    const rng = mulberry32(14);
    const a = ageCluster(rng, 40, 30_000, 200, (d) => d - 100, { route: 'a' });
    const b = randomTraffic(rng, 300, 20 * 60_000, () => 1_000 + rng() * 599_000, 'b');
    const det = new PatternDetector();
    expect(feed(det, [...a, ...b]).map((p) => p.route)).toEqual(['a']);
    expect(det.snapshot(lastAt(a)).map((p) => p.route)).toEqual(['a']);
    expect(det.held('a')).toBe(40);
    expect(det.held('b')).toBe(256);
  });

  it('bounds the routes tracked (least recently updated evicted) and each ring', () => {
    const det = new PatternDetector({ maxRoutes: 100, windowSize: 32 });
    for (let i = 0; i < 5_000; i++) {
      det.observe(sample({ route: `r${i}`, at: T0 + i, durationMs: 5_000, idleAtCloseMs: 0 }));
      det.observe(sample({ route: 'hot', at: T0 + i, durationMs: 5_000 + i, idleAtCloseMs: 0 }));
      expect(det.routes).toBeLessThanOrEqual(100);
    }
    expect(det.held('hot')).toBe(32);
    expect(det.held('r4999')).toBe(1);
    expect(det.held('r0')).toBe(0);
  });

  it('expires a pattern 10 minutes after its last close, or 10 periods when that is longer', () => {
    const rng = mulberry32(15);
    const age = ageCluster(rng, 40, 30_000, 200, (d) => d - 100);
    const det = new PatternDetector();
    feed(det, age);
    const last = lastAt(age);
    expect(det.snapshot(last + 600_000)).toHaveLength(1);
    expect(det.snapshot(last + 600_001)).toHaveLength(0);

    const aligned = alignedBursts(mulberry32(16), 4, 6, 120_000);
    const det2 = new PatternDetector();
    feed(det2, aligned);
    const p = det2.snapshot(lastAt(aligned))[0]!;
    expect(p.lastSeen).toBe(lastAt(aligned));
    expect(det2.snapshot(p.lastSeen + 10 * p.periodMs)).toHaveLength(1);
    expect(det2.snapshot(p.lastSeen + 10 * p.periodMs + 1)).toHaveLength(0);
  });

  it('a close that fits the cluster keeps it standing; a new period is reported again', () => {
    const rng = mulberry32(17);
    const det = new PatternDetector();
    const first = ageCluster(rng, 40, 30_000, 200, (d) => d - 100);
    feed(det, first);
    const later = lastAt(first) + 500_000;
    expect(det.observe(sample({ at: later, durationMs: 30_050, idleAtCloseMs: 30_000 }))).toHaveLength(0);
    expect(det.snapshot(later + 599_000)[0]?.lastSeen).toBe(later);
    // The route's connections now die at 60 s: a changed period is reported.
    const moved = ageCluster(rng, 300, 60_000, 200, (d) => d - 100).map((c) => ({ ...c, at: c.at + later - T0 }));
    const reported = feed(det, moved);
    expect(reported.map((p) => Math.round(p.periodMs / 1000))).toEqual([60]);
  });

  it('stays cheap: 100k closes over 50 routes', () => {
    const rng = mulberry32(18);
    const det = new PatternDetector();
    const t = performance.now();
    for (let i = 0; i < 100_000; i++) {
      const durationMs = 1_000 + rng() * 600_000;
      det.observe(sample({ route: `r${i % 50}`, at: T0 + i * 20, durationMs, idleAtCloseMs: rng() * durationMs }));
    }
    expect(performance.now() - t).toBeLessThan(5_000);
  });
});
