/**
 * The age-clustered analysis of the pattern detector (patterns.ts has the full rule): connections
 * killed by a per-connection timer die at one age, so the ring's ages hold a spike. Pure, and
 * allocation-free on the hot path: it sorts into the detector's two scratch arrays.
 */
import type { ConfiguredTimer } from './configured-timers.js';
import type { Measured } from './pattern-naming.js';
import { SWEPT_BIT, ageTolerance, type Ring } from './pattern-ring.js';
import { collectMembers, timerOfSilence } from './pattern-members.js';

/** The detector's settings and scratch space this analysis reads. */
export interface AgeClusterParams {
  readonly minCount: number;
  readonly minDurationMs: number;
  readonly localSlackMs: number;
  /** Two scratch arrays of windowSize, overwritten on every call. */
  readonly a: Float64Array;
  readonly b: Float64Array;
}

/** A found cluster: what was measured, and which ring slots belong to it. */
export interface AgeCluster {
  readonly measured: Measured;
  readonly member: (k: number) => boolean;
}

/**
 * Densest run of sorted `d[0..n)` within `width(d[i]) + slack`: [start, end] indices, or end < start.
 * Runs starting within one width of `minDurationMs` are skipped: that edge is where the tail of
 * short-lived traffic piles up.
 */
function densest(d: Float64Array, n: number, slack: number, minDurationMs: number): [number, number] {
  let bi = 0;
  let bj = -1;
  for (let i = 0, j = 0; i < n; i++) {
    const w = ageTolerance(d[i]!);
    if (d[i]! < minDurationMs + w) continue;
    if (j < i) j = i;
    while (j + 1 < n && d[j + 1]! <= d[i]! + w + slack) j++;
    if (j - i > bj - bi || (j - i === bj - bi && d[j]! - d[i]! < d[bj]! - d[bi]!)) [bi, bj] = [i, j];
  }
  return [bi, bj];
}

/** The ring's age cluster when it is a spike (see patterns.ts), null otherwise. */
export function findAgeCluster(
  p: AgeClusterParams,
  route: string,
  ring: Ring,
  timers: readonly ConfiguredTimer[],
): AgeCluster | null {
  const n = ring.length;
  const all = p.a;
  for (let i = 0; i < n; i++) all[i] = ring.dur[i]!;
  const d = all.subarray(0, n).sort();
  let [i, j] = densest(d, n, 0, p.minDurationMs);
  let lo = d[i]!;
  let hi = d[j]!;
  let median = d[(i + j) >> 1]!;
  let localOnly = false;
  if (p.localSlackMs > 0) {
    let m = 0;
    for (let k = 0; k < n; k++) if ((ring.flags[k]! & SWEPT_BIT) !== 0) p.b[m++] = ring.dur[k]!;
    const l = p.b.subarray(0, m).sort();
    const [li, lj] = densest(l, m, p.localSlackMs, p.minDurationMs);
    if (m > 0 && lj - li > j - i) {
      [i, j, lo, hi, median, localOnly] = [li, lj, l[li]!, l[lj]!, l[(li + lj) >> 1]!, true];
    }
  }
  const count = j - i + 1;
  if (count < p.minCount) return null;
  const width = ageTolerance(median) + (localOnly ? p.localSlackMs : 0);
  // A timer makes a spike, standing out from both sides: count what lies within 10 widths
  // below and above it (a smooth lifetime distribution puts ~1/20 of that in one width). A
  // cluster holding half the ring needs 3 more closes for each one of that neighbourhood; a
  // minority cluster on a busy route needs 2·minCount closes, as many as the neighbourhood
  // and 3 times either side.
  let below = 0;
  let above = 0;
  for (let k = 0; k < n; k++) {
    if (d[k]! < lo && d[k]! >= median - 10 * width) below++;
    else if (d[k]! > hi && d[k]! <= median + 10 * width) above++;
  }
  const ok =
    count * 2 >= n
      ? count >= p.minCount + 3 * (below + above)
      : count >= 2 * p.minCount && count >= below + above && count >= 3 * Math.max(below, above);
  if (!ok) return null;
  const member = (k: number): boolean =>
    ring.dur[k]! >= lo && ring.dur[k]! <= hi && (!localOnly || (ring.flags[k]! & SWEPT_BIT) !== 0);
  // Connections opened together and closed together once are one event, not a timer.
  let m = 0;
  for (let k = 0; k < n; k++) if (member(k)) p.b[m++] = ring.at[k]! - ring.dur[k]!;
  const starts = p.b.subarray(0, m).sort();
  const startWindow = Math.max(1_000, width);
  let dense = 0;
  for (let s = 0, e = 0; s < m; s++) {
    while (e + 1 < m && starts[e + 1]! - starts[s]! <= startWindow) e++;
    dense = Math.max(dense, e - s + 1);
  }
  if (dense * 2 > m) return null;
  const mem = collectMembers(ring, member);
  const measured: Measured = {
    route,
    kind: 'age-clustered',
    periodMs: median,
    spreadMs: (hi - lo) / 2,
    timer: timerOfSilence(mem),
    members: mem,
    timers,
    slackMs: p.localSlackMs,
  };
  return { measured, member };
}
