/**
 * The time source of every lifecycle decision. Production uses a monotonic clock anchored at the
 * process's epoch origin (so values read like `Date.now()` but never jump backwards); tests inject
 * a `ManualClock` and advance it.
 */
import { performance } from 'node:perf_hooks';

export interface Clock {
  /** Milliseconds, epoch-based, monotonic. */
  now(): number;
}

const origin = performance.timeOrigin;

export const systemClock: Clock = {
  // Whole milliseconds like Date.now() (the seed's records are compared with it), never backwards.
  now: () => Math.floor(origin + performance.now()),
};

/** A clock that moves only when told to. */
export class ManualClock implements Clock {
  #now: number;
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }
  now(): number {
    return this.#now;
  }
  advance(ms: number): number {
    this.#now += ms;
    return this.#now;
  }
  set(ms: number): void {
    this.#now = ms;
  }
}
