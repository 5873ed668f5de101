/**
 * The wall-clock half of the detector (patterns.ts): sharp bursts of closes in a route's ring,
 * each with its connections' ages, and the longest arithmetic progression of them.
 *
 * A burst is a window of ≥ 3 closes within 1 s that is improbable (Poisson tail ≤ 3e-5) for the
 * close rate of both the 5 s and the 30 s around it (other sharp windows aside): a kill is sharp,
 * so busy traffic and smooth close-rate peaks make no bursts.
 */
import { Ring, chainFrom, lowerBound, poissonTail } from './pattern-ring.js';

const BURST_WINDOW_MS = 1_000;
const BURST_MIN_CLOSES = 3;
/** A burst is mixed when its connections' ages lie more than this apart (outliers aside). */
export const BURST_MIN_AGE_SPREAD_MS = 2_000;
const BURST_ALPHA = 3e-5;
const SHARP_MS = 5_000;
const BACKGROUND_MS = 30_000;
/** Closes per burst window assumed at least, however quiet the route. */
const MIN_BACKGROUND = 0.02;
export const MIN_PERIOD_MS = 5_000;

export interface Burst {
  readonly from: number;
  readonly to: number;
  readonly mid: number;
  readonly size: number;
  /** Connections of different ages died together: only a shared timer does that. */
  readonly mixed: boolean;
  readonly medianAge: number;
}

/**
 * Closes expected in one burst window from the rate within `side` ms either side of ts[i..i+size),
 * not counting closes of other sharp windows (`inSharp`: prefix counts over ts): at short periods
 * the 30 s around a burst holds its neighbours, which are no background.
 */
function background(ts: Float64Array, n: number, i: number, size: number, side: number, inSharp: Int32Array | null): number {
  const from = ts[i]! - side;
  const to = ts[i]! + BURST_WINDOW_MS + side;
  const lo = lowerBound(ts, n, from);
  const hi = lowerBound(ts, n, to);
  const sharp = inSharp === null ? size : inSharp[hi]! - inSharp[lo]!;
  const others = hi - lo - sharp;
  // The time counted over, clipped to what the ring still holds.
  const covered = Math.min(ts[n - 1]!, to) - Math.max(ts[0]!, from) - BURST_WINDOW_MS;
  return (others * BURST_WINDOW_MS) / Math.max(covered, BURST_WINDOW_MS);
}

const improbable = (size: number, mu: number): boolean => poissonTail(size, Math.max(mu, MIN_BACKGROUND)) <= BURST_ALPHA;

/**
 * Sharp, improbable bursts among the sorted close instants `ts[0..n)`, each with its connections'
 * ages. First the windows improbable for the 5 s around them (sharp), then those of them also
 * improbable for the 30 s around them, less the other sharp windows.
 */
export function findBursts(ring: Ring, ts: Float64Array, n: number): Burst[] {
  const sharp: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < n; ) {
    if (j < i) j = i;
    while (j + 1 < n && ts[j + 1]! - ts[i]! <= BURST_WINDOW_MS) j++;
    const size = j - i + 1;
    if (size < BURST_MIN_CLOSES || !improbable(size, background(ts, n, i, size, SHARP_MS, null))) {
      i++;
      continue;
    }
    sharp.push([i, j]);
    i = j + 1;
  }
  const inSharp = new Int32Array(n + 1);
  for (const [i, j] of sharp) for (let k = i; k <= j; k++) inSharp[k + 1] = 1;
  for (let k = 0; k < n; k++) inSharp[k + 1]! += inSharp[k]!;
  const bursts: Burst[] = [];
  const ages: number[] = [];
  for (const [i, j] of sharp) {
    const size = j - i + 1;
    if (!improbable(size, background(ts, n, i, size, BACKGROUND_MS, inSharp))) continue;
    const from = ts[i]!;
    const to = ts[j]!;
    ages.length = 0;
    for (let k = 0; k < n; k++) if (ring.at[k]! >= from && ring.at[k]! <= to) ages.push(ring.dur[k]!);
    ages.sort((x, y) => x - y);
    // One stray close (background traffic) must not make a burst mixed: trim one at each end.
    const trim = ages.length >= 5 ? 1 : 0;
    const mixed = ages[ages.length - 1 - trim]! - ages[trim]! > BURST_MIN_AGE_SPREAD_MS;
    bursts.push({ from, to, mid: ts[(i + j) >> 1]!, size, mixed, medianAge: ages[ages.length >> 1]! });
  }
  return bursts;
}

/**
 * The longest progression of bursts (ties: more closes, then the tighter one) holding at least
 * `minCount` closes: every pair of bursts, 1, 2 or 3 periods apart, seeds one (a burst can be
 * hidden by traffic or missing).
 */
export function bestChain(b: readonly Burst[], minCount: number): { chain: number[]; period: number; spread: number; closes: number } | null {
  const mids = b.map((x) => x.mid);
  let best: { chain: number[]; period: number; spread: number; closes: number } | null = null;
  for (let i = 0; i < b.length; i++) {
    for (let j = i + 1; j < b.length; j++) {
      for (let q = 1; q <= 3; q++) {
        const step = (mids[j]! - mids[i]!) / q;
        if (step < MIN_PERIOD_MS) break;
        const c = chainFrom(mids, i, step);
        if (c === null) continue;
        const closes = c.chain.reduce((acc, k) => acc + b[k]!.size, 0);
        if (closes < minCount) continue;
        if (
          best === null ||
          c.chain.length > best.chain.length ||
          (c.chain.length === best.chain.length && (closes > best.closes || (closes === best.closes && c.spread < best.spread)))
        ) {
          best = { ...c, closes };
        }
      }
    }
  }
  return best;
}
