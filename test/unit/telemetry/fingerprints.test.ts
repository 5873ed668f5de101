/** The fingerprint table is data: every reference value is present, matched and bracketed by the histogram edges. */
import { describe, expect, it } from 'vitest';
import { FINGERPRINTS, FINGERPRINT_BUCKETS_SECONDS, culpritsFor } from '../../../src/telemetry/fingerprints.js';

/** Every row of reference/disconnect-fingerprints.md (ranges by both ends). */
const REFERENCE_SECONDS = [2, 3, 10, 13, 15, 30, 50, 60, 100, 120, 180, 240, 300, 3600];

describe('fingerprint table', () => {
  it('covers every reference row', () => {
    for (const v of REFERENCE_SECONDS) {
      expect(culpritsFor(v, 'wall-clock-aligned').length, `${v} s`).toBeGreaterThan(0);
      // Age-clustered closes never list shared timers: the reload row (10–13 s) is wall-clock only.
      if (v !== 10 && v !== 13) expect(culpritsFor(v, 'age-clustered').length, `${v} s`).toBeGreaterThan(0);
    }
    expect(culpritsFor(11.5, 'age-clustered')).toEqual([]);
    expect(FINGERPRINTS.every((f) => ['client', 'backend', 'either', 'proxy'].includes(f.side))).toBe(true);
    expect(FINGERPRINTS.every((f) => f.culprits.length > 0)).toBe(true);
  });

  it('matches within tolerance and nothing far from a row', () => {
    expect(culpritsFor(60.4, 'age-clustered')).toContain('nginx `proxy_read_timeout` default (60 s)');
    expect(culpritsFor(3_640, 'age-clustered')).toContain('a 1 h socket timeout');
    expect(culpritsFor(42, 'age-clustered')).toEqual([]);
    expect(culpritsFor(75, 'wall-clock-aligned')).toEqual([]);
    expect(culpritsFor(100, 'age-clustered').some((c) => c.includes('120 s'))).toBe(false);
  });

  it('orders culprits by the shape and timer of the pattern', () => {
    expect(culpritsFor(120, 'wall-clock-aligned')[0]).toMatch(/pool age cap/);
    expect(culpritsFor(120, 'age-clustered', 'idle-timeout')[0]).toMatch(/CDN edge idle cut/);
    expect(culpritsFor(240, 'wall-clock-aligned')[0]).toMatch(/after a reload/);
    expect(culpritsFor(60, 'age-clustered', 'idle-timeout')[0]).toMatch(/nginx/);
    expect(culpritsFor(60, 'age-clustered', 'age-cap')[0]).toMatch(/headersTimeout/);
    const all = culpritsFor(60, 'age-clustered');
    expect(new Set(all).size).toBe(all.length);
    expect(all).toHaveLength(4);
  });

  it('has histogram edges strictly increasing that bracket every fingerprint in a bucket of its own', () => {
    const b = FINGERPRINT_BUCKETS_SECONDS;
    for (let i = 1; i < b.length; i++) expect(b[i]!).toBeGreaterThan(b[i - 1]!);
    for (const f of FINGERPRINTS) {
      const lo = f.seconds - (f.toleranceSeconds ?? 0);
      const hi = f.seconds + (f.toleranceSeconds ?? 0);
      const slack = Math.max(3, 0.01 * f.seconds);
      const below = b.findLastIndex((e) => e < lo);
      expect(below, `${f.seconds} s`).toBeGreaterThanOrEqual(0);
      expect(lo - b[below]!, `${f.seconds} s lower edge`).toBeLessThanOrEqual(slack);
      expect(lo - b[below]!, `${f.seconds} s lower edge`).toBeGreaterThanOrEqual(0.4);
      const above = b[below + 1]!;
      expect(above, `${f.seconds} s: the next edge is above the whole range`).toBeGreaterThan(hi);
      expect(above - hi, `${f.seconds} s upper edge`).toBeLessThanOrEqual(slack);
    }
    for (const e of [28, 32, 58, 62, 118, 122, 3590, 3610]) expect(b).toContain(e);
    for (const e of [0.1, 0.5, 1, 5, 600, 1800, 7200, 86_400]) expect(b).toContain(e);
  });
});
