/**
 * Fleet-wide diagnosis (issue 13): Sightline usually runs as several replicas behind one service,
 * and a timer outside them (a load balancer's idle cut) spreads its closes over all of them. Each
 * replica's detector may then hold too few closes to name the pattern, while the duration
 * histogram summed over the replicas (what Prometheus and the alerts see) shows the spike plainly.
 * This names such a spike as a finding when it comes from several instances, and says which
 * instances each pattern's closes came from.
 */
import { FINGERPRINTS, matchToleranceSeconds } from '../../telemetry/fingerprints.js';
import { countBetween, histogramEdges, type Histogram, type PatternFact, type RouteFacts } from './facts.js';

/** A spike: at least this many closes in a fingerprint bucket... */
export const SPIKE_MIN = 8;

export interface Spike {
  readonly seconds: number;
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Closes longer than 1 s (the detector ignores shorter ones). */
  readonly longer: number;
}

/** Fingerprint buckets holding ≥ SPIKE_MIN closes and at least half of those longer than 1 s. */
export function fingerprintSpikes(h: Histogram): Spike[] {
  const edges = histogramEdges(h);
  const longer = countBetween(h, 1, Infinity);
  const out: Spike[] = [];
  for (let i = 1; i < edges.length; i++) {
    const lo = edges[i - 1]!;
    const hi = edges[i]!;
    const f = FINGERPRINTS.find((x) => lo < x.seconds && x.seconds < hi && hi - lo <= 2 * matchToleranceSeconds(x) + 2);
    if (f === undefined) continue;
    const count = countBetween(h, lo, hi);
    if (count >= SPIKE_MIN && count * 2 >= longer) out.push({ seconds: f.seconds, lo, hi, count, longer });
  }
  return out;
}

/** Closes in (lo, hi] per instance, most first (instances with none left out). */
export function instanceCounts(r: RouteFacts, lo: number, hi: number): Array<{ instance: string; closes: number }> {
  const out: Array<{ instance: string; closes: number }> = [];
  for (const [instance, h] of r.durationByInstance ?? []) {
    const closes = countBetween(h, lo, hi);
    if (closes > 0 && instance !== '') out.push({ instance, closes });
  }
  return out.sort((a, b) => b.closes - a.closes || a.instance.localeCompare(b.instance));
}

/**
 * Patterns of a route with no detector pattern, from its summed histogram: a fingerprint spike
 * whose closes came from two or more instances. (On one instance a spike without a detector
 * pattern stays a note: those connections may have started together.)
 */
export function fleetPatterns(r: RouteFacts): PatternFact[] {
  if (r.patterns.length > 0) return [];
  return fingerprintSpikes(r.duration)
    .filter((s) => instanceCounts(r, s.lo, s.hi).length >= 2)
    .map((s) => ({
      kind: 'age-clustered',
      periodMs: s.seconds * 1000,
      count: s.count,
      fleet: true,
      instances: instanceCounts(r, s.lo, s.hi).map((i) => i.instance),
    }));
}
