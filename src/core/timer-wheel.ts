/**
 * One coarse shared timer wheel (DESIGN §2.4) instead of a `setTimeout` per socket.
 *
 * Deadlines are rounded up to the wheel's resolution and kept in per-slot sets, so arming,
 * re-arming and cancelling are O(1). A single unref'd interval drives `tick()` while anything is
 * armed and stops when the wheel is empty. Tests call `tick()` themselves with a `ManualClock`.
 */
import type { Clock } from './clock.js';

/** Anything that can sit on the wheel: it is told when its deadline has passed. */
export interface WheelEntry {
  onDeadline(now: number): void;
}

const kSlot = Symbol('sightline.wheelSlot');
type Slotted = WheelEntry & { [kSlot]?: number | undefined };

export interface TimerWheelOptions {
  /** Slot width in ms: a deadline fires at most this late. */
  readonly resolutionMs?: number;
  /** Drive ticks from a real interval (false in tests that call tick()). */
  readonly autoTick?: boolean;
  /** Called when an entry's callback throws; the wheel keeps going. */
  readonly onError?: (err: unknown) => void;
}

export class TimerWheel {
  readonly resolutionMs: number;
  readonly #clock: Clock;
  readonly #slots = new Map<number, Set<Slotted>>();
  readonly #autoTick: boolean;
  readonly #onError: (err: unknown) => void;
  #size = 0;
  #lastSlot: number;
  #interval: NodeJS.Timeout | null = null;

  constructor(clock: Clock, options: TimerWheelOptions = {}) {
    this.#clock = clock;
    this.resolutionMs = Math.max(1, Math.floor(options.resolutionMs ?? 100));
    this.#autoTick = options.autoTick ?? true;
    this.#onError = options.onError ?? (() => {});
    this.#lastSlot = Math.floor(clock.now() / this.resolutionMs);
  }

  get size(): number {
    return this.#size;
  }

  /** Arm (or re-arm) `entry` to fire once `deadline` (clock ms) has passed. */
  schedule(entry: WheelEntry, deadline: number): void {
    const e = entry as Slotted;
    this.cancel(e);
    // Round up so an entry never fires early; never schedule into a slot already swept.
    const slot = Math.max(Math.ceil(deadline / this.resolutionMs), this.#lastSlot + 1);
    let set = this.#slots.get(slot);
    if (set === undefined) {
      set = new Set();
      this.#slots.set(slot, set);
    }
    set.add(e);
    e[kSlot] = slot;
    this.#size++;
    if (this.#autoTick && this.#interval === null) this.#startInterval();
  }

  /** Disarm `entry`; a no-op when it is not armed. */
  cancel(entry: WheelEntry): void {
    const e = entry as Slotted;
    const slot = e[kSlot];
    if (slot === undefined) return;
    e[kSlot] = undefined;
    const set = this.#slots.get(slot);
    if (set !== undefined && set.delete(e)) {
      this.#size--;
      if (set.size === 0) this.#slots.delete(slot);
    }
  }

  isArmed(entry: WheelEntry): boolean {
    return (entry as Slotted)[kSlot] !== undefined;
  }

  /** Fire every entry whose slot has passed. Returns how many fired. */
  tick(now: number = this.#clock.now()): number {
    const current = Math.floor(now / this.resolutionMs);
    let fired = 0;
    if (current <= this.#lastSlot) return 0;
    // Walk slots in order; when the gap is large (a stalled loop, a test jump), walk the map instead.
    if (current - this.#lastSlot > this.#slots.size * 4 + 64) {
      const due = [...this.#slots.keys()].filter((s) => s <= current).sort((a, b) => a - b);
      for (const s of due) fired += this.#fireSlot(s, now);
    } else {
      for (let s = this.#lastSlot + 1; s <= current; s++) fired += this.#fireSlot(s, now);
    }
    this.#lastSlot = current;
    if (this.#size === 0) this.#stopInterval();
    return fired;
  }

  /** Stop the driving interval; armed entries stay armed. */
  close(): void {
    this.#stopInterval();
  }

  #fireSlot(slot: number, now: number): number {
    const set = this.#slots.get(slot);
    if (set === undefined) return 0;
    this.#slots.delete(slot);
    let fired = 0;
    for (const e of set) {
      e[kSlot] = undefined;
      this.#size--;
      fired++;
      try {
        e.onDeadline(now);
      } catch (err) {
        this.#onError(err);
      }
    }
    return fired;
  }

  #startInterval(): void {
    this.#interval = setInterval(() => this.tick(), this.resolutionMs);
    this.#interval.unref();
  }

  #stopInterval(): void {
    if (this.#interval !== null) {
      clearInterval(this.#interval);
      this.#interval = null;
    }
  }
}

/** Largest delay Node's timers accept; everything longer is clamped to it (DESIGN, compat §3). */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function clampTimer(ms: number): number {
  if (!Number.isFinite(ms) || ms > MAX_TIMER_MS) return MAX_TIMER_MS;
  return ms < 0 ? 0 : ms;
}
