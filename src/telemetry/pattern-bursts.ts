/**
 * The wall-clock half of the detector (patterns.ts): sharp bursts of closes in a route's ring,
 * each with its connections' ages, and the longest arithmetic progression of them.
 *
 * A burst is a window of ≥ 3 closes within 1 s that is improbable (Poisson tail ≤ 3e-5) for the
 * close rate of both the 5 s and the 30 s around it (other sharp windows aside): a kill is sharp,
 * so busy traffic and smooth close-rate peaks make no bursts. The 5 s around a burst reach the
 * next one at short periods (5–6 s): the sharp windows are found again with the ones found so far
 * set aside, until none is added, so a neighbour burst does not count as background.
 */
import { Ring, SWEPT_BIT, ageTolerance, chainFrom, lowerBound, poissonTail } from './pattern-ring.js';

const BURST_WINDOW_MS = 1_000;
const BURST_MIN_CLOSES = 3;
/** Uniform bursts whose typical ages lie more than this apart were not made by one per-connection timer. */
export const BURST_MIN_AGE_SPREAD_MS = 2_000;
/**
 * A burst is mixed when its connections' ages (outliers aside) lie further apart than one
 * per-connection timer spreads them: twice an age cluster's width, at least 1 s, at most
 * BURST_MIN_AGE_SPREAD_MS, plus the sweep's lateness when Sightline's sweep made the kills. At short
 * periods a flat 2 s called bursts of clients that reconnected over 0–3 s uniform.
 */
const mixedSpread = (age: number, slack: number): number =>
  Math.min(BURST_MIN_AGE_SPREAD_MS, Math.max(1_000, 2 * ageTolerance(age))) + slack;
/** Rounds of finding sharp windows with the earlier ones set aside (each adds the neighbours they hid). */
const SHARP_ROUNDS = 3;
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
function background(
  ts: Float64Array,
  n: number,
  i: number,
  size: number,
  side: number,
  inSharp: Int32Array | null,
): number {
  const from = ts[i]! - side;
  const to = ts[i]! + BURST_WINDOW_MS + side;
  const lo = lowerBound(ts, n, from);
  const hi = lowerBound(ts, n, to);
  const j = i + size;
  // The window's own closes, and those of the other sharp windows either side of it.
  const aside = inSharp === null ? 0 : inSharp[i]! - inSharp[lo]! + inSharp[hi]! - inSharp[j]!;
  const others = hi - lo - size - aside;
  // The time counted over, clipped to what the ring still holds.
  const covered = Math.min(ts[n - 1]!, to) - Math.max(ts[0]!, from) - BURST_WINDOW_MS;
  return (others * BURST_WINDOW_MS) / Math.max(covered, BURST_WINDOW_MS);
}

const improbable = (size: number, mu: number): boolean =>
  poissonTail(size, Math.max(mu, MIN_BACKGROUND)) <= BURST_ALPHA;

/**
 * Sharp, improbable bursts among the sorted close instants `ts[0..n)`, each with its connections'
 * ages. First the windows improbable for the 5 s around them (sharp), then those of them also
 * improbable for the 30 s around them, less the other sharp windows.
 */
/** Windows of ≥ 3 closes within 1 s improbable for the 5 s around them, `aside` (prefix counts) set aside. */
function sharpWindows(ts: Float64Array, n: number, aside: Int32Array | null): Array<[number, number]> {
  const sharp: Array<[number, number]> = [];
  for (let i = 0, j = 0; i < n;) {
    if (j < i) j = i;
    while (j + 1 < n && ts[j + 1]! - ts[i]! <= BURST_WINDOW_MS) j++;
    const size = j - i + 1;
    if (size < BURST_MIN_CLOSES || !improbable(size, background(ts, n, i, size, SHARP_MS, aside))) {
      i++;
      continue;
    }
    sharp.push([i, j]);
    i = j + 1;
  }
  return sharp;
}

/** Prefix counts over ts[0..n) of the closes inside `windows`. */
function prefixOf(windows: ReadonlyArray<[number, number]>, n: number): Int32Array {
  const p = new Int32Array(n + 1);
  for (const [i, j] of windows) for (let k = i; k <= j; k++) p[k + 1] = 1;
  for (let k = 0; k < n; k++) p[k + 1]! += p[k]!;
  return p;
}

export function findBursts(ring: Ring, ts: Float64Array, n: number, localSlackMs = 0): Burst[] {
  let sharp = sharpWindows(ts, n, null);
  let inSharp = prefixOf(sharp, n);
  for (let round = 1; round < SHARP_ROUNDS; round++) {
    const again = sharpWindows(ts, n, inSharp);
    const next = prefixOf(again, n);
    if (next[n] === inSharp[n] && again.length === sharp.length) break;
    [sharp, inSharp] = [again, next];
  }
  const bursts: Burst[] = [];
  const ages: number[] = [];
  for (const [i, j] of sharp) {
    const size = j - i + 1;
    if (!improbable(size, background(ts, n, i, size, BACKGROUND_MS, inSharp))) continue;
    const from = ts[i]!;
    const to = ts[j]!;
    ages.length = 0;
    let local = 0;
    for (let k = 0; k < n; k++) {
      if (ring.at[k]! < from || ring.at[k]! > to) continue;
      ages.push(ring.dur[k]!);
      if ((ring.flags[k]! & SWEPT_BIT) !== 0) local++;
    }
    ages.sort((x, y) => x - y);
    // One stray close (background traffic) must not make a burst mixed: trim one at each end.
    const trim = ages.length >= 5 ? 1 : 0;
    const median = ages[ages.length >> 1]!;
    const mixed =
      ages[ages.length - 1 - trim]! - ages[trim]! > mixedSpread(median, local * 2 > ages.length ? localSlackMs : 0);
    bursts.push({ from, to, mid: ts[(i + j) >> 1]!, size, mixed, medianAge: median });
  }
  return bursts;
}

/**
 * The longest progression of bursts (ties: more closes, then the tighter one) holding at least
 * `minCount` closes: every pair of bursts, 1, 2 or 3 periods apart, seeds one (a burst can be
 * hidden by traffic or missing).
 */
export function bestChain(
  b: readonly Burst[],
  minCount: number,
): { chain: number[]; period: number; spread: number; closes: number } | null {
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
          (c.chain.length === best.chain.length &&
            (closes > best.closes || (closes === best.closes && c.spread < best.spread)))
        ) {
          best = { ...c, closes };
        }
      }
    }
  }
  return best;
}
