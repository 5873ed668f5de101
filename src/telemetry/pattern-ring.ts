/**
 * The detector's per-route memory (a columnar ring of recent closes) and the small numeric tools
 * its two analyses share (patterns.ts): sorted search, Poisson tails, arithmetic progressions.
 */
import type { Initiator } from '../core/close-reasons.js';
import { closeReasonInfo } from '../core/close-reason-table.js';
import type { CloseSample } from './pattern-types.js';

export const INITIATORS: readonly Initiator[] = ['client', 'backend', 'proxy'];
export const LOCAL_BIT = 4;
/**
 * A local close that Sightline's lifecycle sweep decided (the table's `sweep` attribute: idle, age
 * cap, socket timeout, half-zombie, stuck, write stall): it lands up to one sweep period after its
 * deadline, so only these get the detector's `localSlackMs`. The heartbeat and the HTTP timeouts
 * run on their own timers and land on time: with the slack, WebSocket clients cut at each ping
 * 1 s apart looked like one age.
 */
export const SWEPT_BIT = 8;
export const swept = (s: Pick<CloseSample, 'local' | 'reason'>): boolean =>
  s.local && closeReasonInfo(s.reason)?.sweep === true;

/** Width of an age cluster at age `v` (ms). */
export const ageTolerance = (v: number): number => Math.max(500, 0.02 * v);

/** How far an interval may stray from the period (ms). */
export const periodTolerance = (p: number): number => Math.max(1_000, 0.05 * p);

/** The last `max` closes of one route, columnar; grows by doubling until `max`, then wraps. */
export class Ring {
  readonly #max: number;
  at = new Float64Array(0);
  dur = new Float64Array(0);
  idle = new Float64Array(0);
  flags = new Uint8Array(0);
  reasons: string[] = [];
  length = 0;
  #head = 0;

  constructor(max: number) {
    this.#max = max;
    this.#grow(Math.min(16, max));
  }

  push(s: CloseSample): void {
    let i: number;
    if (this.length < this.at.length) i = this.length++;
    else if (this.at.length < this.#max) {
      this.#grow(Math.min(this.#max, this.at.length * 2));
      i = this.length++;
    } else {
      i = this.#head;
      this.#head = (this.#head + 1) % this.#max;
    }
    this.at[i] = s.at;
    this.dur[i] = s.durationMs;
    this.idle[i] = s.idleAtCloseMs;
    this.flags[i] =
      Math.max(0, INITIATORS.indexOf(s.initiator)) | (s.local ? LOCAL_BIT : 0) | (swept(s) ? SWEPT_BIT : 0);
    this.reasons[i] = s.reason;
  }

  #grow(cap: number): void {
    const at = new Float64Array(cap);
    const dur = new Float64Array(cap);
    const idle = new Float64Array(cap);
    const flags = new Uint8Array(cap);
    at.set(this.at);
    dur.set(this.dur);
    idle.set(this.idle);
    flags.set(this.flags);
    this.at = at;
    this.dur = dur;
    this.idle = idle;
    this.flags = flags;
  }
}

/**
 * The state of `key`, moved to the end of `routes` (insertion order is update order), made with
 * `create` when absent after evicting the least recently updated entry when `max` are held.
 */
export function touchRoute<T>(routes: Map<string, T>, key: string, max: number, create: () => T): T {
  let st = routes.get(key);
  if (st !== undefined) routes.delete(key);
  else {
    if (routes.size >= max) {
      const oldest = routes.keys().next();
      if (oldest.done !== true) routes.delete(oldest.value);
    }
    st = create();
  }
  routes.set(key, st);
  return st;
}

/** What the members of a pattern share: built from the ring indices that make it up. */
export interface Members {
  count: number;
  silent: number;
  local: number;
  firstSeen: number;
  lastSeen: number;
  byInitiator: [number, number, number];
  reasons: Record<string, number>;
}

/** P(X ≥ k) for X ~ Poisson(mu). */
export function poissonTail(k: number, mu: number): number {
  if (mu >= k) return 1;
  let term = Math.exp(-mu);
  for (let i = 1; i <= k; i++) term *= mu / i;
  let sum = 0;
  for (let i = k; term > sum * 1e-12 && i < k + 1_000; i++) {
    sum += term;
    term *= mu / (i + 1);
  }
  return sum;
}

/** First index of sorted `a[0..n)` with a value ≥ x. */
export function lowerBound(a: Float64Array, n: number, x: number): number {
  let lo = 0;
  let hi = n;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the value nearest to `x` in the sorted `a[from..]`, or -1. */
export function nearest(a: readonly number[], from: number, x: number): number {
  let lo = from;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  if (lo >= a.length) return a.length > from ? a.length - 1 : -1;
  if (lo > from && x - a[lo - 1]! < a[lo]! - x) return lo - 1;
  return lo;
}

/**
 * Bursts (sorted instants `mids`) at mids[i] + m·step, one missing slot in a row allowed: at least
 * 3 of them filling 2/3 of the slots, each interval within tolerance of the median period.
 */
export function chainFrom(
  mids: readonly number[],
  i: number,
  step: number,
): { chain: number[]; period: number; spread: number } | null {
  const tol = periodTolerance(step);
  const chain = [i];
  const periods: number[] = [];
  let slots = 1;
  for (let last = i, gap = 1; ;) {
    const target = mids[last]! + gap * step;
    if (target > mids[mids.length - 1]! + tol) break;
    const k = nearest(mids, last + 1, target);
    if (k >= 0 && Math.abs(mids[k]! - target) <= tol) {
      chain.push(k);
      periods.push((mids[k]! - mids[last]!) / gap);
      slots += gap;
      last = k;
      gap = 1;
    } else if (++gap > 2) break;
  }
  if (chain.length < 3 || chain.length * 3 < slots * 2) return null;
  periods.sort((p, q) => p - q);
  const period = periods[periods.length >> 1]!;
  if (periods.some((p) => Math.abs(p - period) > periodTolerance(period))) return null;
  return { chain, period, spread: (periods[periods.length - 1]! - periods[0]!) / 2 };
}
