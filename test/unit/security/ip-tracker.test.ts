import { describe, expect, it } from 'vitest';
import { IpTracker } from '../../../src/security/ip-tracker.js';

describe('IpTracker', () => {
  it('counts a sliding minute: the previous window fades out as the current one advances', () => {
    const t = new IpTracker();
    let now = 0;
    for (let i = 0; i < 100; i++) t.attempt('a', now);
    expect(t.attempt('a', now)).toBe(101);
    now = 60_000; // a new window: the previous 101 weigh fully at its start
    expect(t.attempt('a', now)).toBe(101 + 1);
    now = 90_000; // half-way: half of the previous window remains
    expect(t.attempt('a', now)).toBe(Math.floor(101 * 0.5) + 2);
    now = 250_000; // long quiet: nothing remains
    expect(t.attempt('a', now)).toBe(1);
  });

  it('tracks concurrency per IP', () => {
    const t = new IpTracker();
    t.acquire('a', 0);
    t.acquire('a', 0);
    t.acquire('b', 0);
    expect(t.active('a')).toBe(2);
    t.release('a', 1);
    expect(t.active('a')).toBe(1);
    t.release('zzz', 1); // unknown: no-op
  });

  it('expires idle entries after two minutes and keeps those with open connections', () => {
    const t = new IpTracker();
    t.attempt('idle', 0);
    t.acquire('busy', 0);
    expect(t.expire(119_999)).toBe(0);
    expect(t.expire(120_000)).toBe(1);
    expect(t.size).toBe(1);
    expect(t.active('busy')).toBe(1);
  });

  it('stays bounded under a flood of distinct addresses, never evicting an IP with open connections', () => {
    const t = new IpTracker(1000);
    t.acquire('keep-me', 0);
    for (let i = 0; i < 50_000; i++) t.attempt(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`, 1);
    expect(t.size).toBeLessThanOrEqual(1000);
    expect(t.evicted).toBeGreaterThan(0);
    expect(t.active('keep-me')).toBe(1);
  });
});
