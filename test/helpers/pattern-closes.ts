/**
 * Synthetic close streams for the pattern detector tests (test/unit/telemetry/patterns-*.test.ts):
 * samples at explicit times from a seeded PRNG, wall-clock kills, age clusters, configured timers.
 */
import { PatternDetector, type CloseSample, type DetectedPattern } from '../../src/telemetry/patterns.js';
import { TimerFamily } from '../../src/telemetry/fingerprints.js';
import type { ConfiguredTimer } from '../../src/telemetry/configured-timers.js';

export const T0 = 1_700_000_040_000;

export function sample(p: Partial<CloseSample> & Pick<CloseSample, 'at' | 'durationMs'>): CloseSample {
  return {
    route: 'ws',
    reason: 'backend_closed',
    initiator: 'backend',
    local: false,
    idleAtCloseMs: p.durationMs - 50,
    ...p,
  };
}

export function feed(det: PatternDetector, closes: CloseSample[]): DetectedPattern[] {
  const out: DetectedPattern[] = [];
  for (const c of [...closes].sort((a, b) => a.at - b.at)) out.push(...det.observe(c));
  return out;
}

export const lastAt = (closes: CloseSample[]): number => Math.max(...closes.map((c) => c.at));

/**
 * `clients` connections killed at every multiple of `periodMs` (a shared timer), each reconnecting
 * `delay()` ms after its kill; the first connections open at random in the first period (or all at
 * `startTogether` when given). Silent connections (idle ≈ age).
 */
export function wallClock(
  rng: () => number,
  o: { clients: number; periodMs: number; kills: number; delay: () => number; startTogether?: number },
): CloseSample[] {
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

export const kinds = (ps: readonly DetectedPattern[]): string[] => ps.map((p) => p.kind).sort();

export const timers = (
  ...t: Array<[string, number, TimerFamily, string | null]>
): ReadonlyMap<string, readonly ConfiguredTimer[]> =>
  new Map([['ws', t.map(([setting, ms, family, reason]) => ({ setting, ms, family, reason }) as ConfiguredTimer)]]);

/** n connections opened at random, each closed at `age(rng)`. */
export function cluster(
  rng: () => number,
  n: number,
  age: () => number,
  extra: Partial<CloseSample> = {},
): CloseSample[] {
  return Array.from({ length: n }, () => {
    const d = age();
    const start = T0 + rng() * 20 * 60_000;
    return sample({ at: start + d, durationMs: d, idleAtCloseMs: d - 100, ...extra });
  });
}
