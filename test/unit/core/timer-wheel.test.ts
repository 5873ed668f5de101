import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import { TimerWheel, clampTimer, MAX_TIMER_MS, type WheelEntry } from '../../../src/core/timer-wheel.js';

function entry(log: number[], id: number): WheelEntry {
  return { onDeadline: (now) => log.push(id * 1e6 + (now % 1e6)) };
}

describe('TimerWheel', () => {
  it('fires entries once their deadline passed, never early, in slot order', () => {
    const clock = new ManualClock(1_000_000);
    const wheel = new TimerWheel(clock, { resolutionMs: 100, autoTick: false });
    const fired: number[] = [];
    const ids: number[] = [];
    const mk = (id: number): WheelEntry => ({ onDeadline: () => ids.push(id) });
    const a = mk(1),
      b = mk(2),
      c = mk(3);
    wheel.schedule(a, clock.now() + 250);
    wheel.schedule(b, clock.now() + 50);
    wheel.schedule(c, clock.now() + 1000);
    expect(wheel.size).toBe(3);
    clock.advance(49);
    wheel.tick();
    expect(ids).toEqual([]);
    clock.advance(51);
    wheel.tick();
    expect(ids).toEqual([2]);
    clock.advance(200);
    wheel.tick();
    expect(ids).toEqual([2, 1]);
    clock.advance(10_000);
    wheel.tick();
    expect(ids).toEqual([2, 1, 3]);
    expect(wheel.size).toBe(0);
    expect(fired).toEqual([]);
  });

  it('re-arming and cancelling are O(1) and exact', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, { resolutionMs: 10, autoTick: false });
    const log: number[] = [];
    const e = entry(log, 1);
    wheel.schedule(e, 100);
    wheel.schedule(e, 500); // re-arm moves it
    expect(wheel.size).toBe(1);
    clock.set(200);
    wheel.tick();
    expect(log).toEqual([]);
    wheel.cancel(e);
    expect(wheel.isArmed(e)).toBe(false);
    clock.set(1000);
    wheel.tick();
    expect(log).toEqual([]);
    wheel.cancel(e); // no-op
  });

  it('handles a large jump (stalled loop) without walking every slot', () => {
    const clock = new ManualClock(0);
    const wheel = new TimerWheel(clock, { resolutionMs: 1, autoTick: false });
    const ids: number[] = [];
    for (let i = 0; i < 100; i++) wheel.schedule({ onDeadline: () => ids.push(i) }, 1_000_000 * (i + 1));
    clock.set(1e12);
    const t0 = performance.now();
    expect(wheel.tick()).toBe(100);
    expect(performance.now() - t0).toBeLessThan(500);
    expect(ids).toEqual([...Array(100).keys()]);
  });

  it('keeps going when an entry throws, and reports the error', () => {
    const clock = new ManualClock(0);
    const errors: unknown[] = [];
    const wheel = new TimerWheel(clock, { resolutionMs: 10, autoTick: false, onError: (e) => errors.push(e) });
    const ok: number[] = [];
    wheel.schedule(
      {
        onDeadline: () => {
          throw new Error('boom');
        },
      },
      10,
    );
    wheel.schedule({ onDeadline: () => ok.push(1) }, 10);
    clock.set(20);
    wheel.tick();
    expect(ok).toEqual([1]);
    expect(errors).toHaveLength(1);
  });

  it('drives itself from one unref’d interval while armed', async () => {
    const wheel = new TimerWheel({ now: () => Date.now() }, { resolutionMs: 10 });
    const fired = await new Promise<boolean>((resolve) => {
      wheel.schedule({ onDeadline: () => resolve(true) }, Date.now() + 30);
      setTimeout(() => resolve(false), 1000);
    });
    expect(fired).toBe(true);
    wheel.close();
  });

  it('clampTimer: finite, non-negative, at most 2^31−1', () => {
    expect(clampTimer(Infinity)).toBe(MAX_TIMER_MS);
    expect(clampTimer(2 ** 40)).toBe(MAX_TIMER_MS);
    expect(clampTimer(-5)).toBe(0);
    expect(clampTimer(1234)).toBe(1234);
  });
});
