import { describe, expect, it } from 'vitest';
import { effectiveTimeouts, DEFAULT_INACTIVITY_MS } from '../../../src/net/timeouts.js';
import { MAX_TIMER_MS } from '../../../src/core/timer-wheel.js';
import { validateOptions } from '../../../src/config/validate.js';

const opts = (o: Record<string, unknown> = {}) => validateOptions({ routes: [], ...o });
const H = 3_600_000;

describe('effective timeouts (compat-semantics §3)', () => {
  it('defaults: extended treatment, 4 h × 6 = 24 h idle with a 10 min warning grace, 7 d age cap', () => {
    const t = effectiveTimeouts(opts(), true);
    expect(t).toEqual({
      treatment: 'extended',
      idleMs: 24 * H,
      ageCapMs: 7 * 24 * H,
      warningGraceMs: 600_000,
      socketTimeoutMs: null,
    });
  });

  it('seed example 1: extended, ×10, 4 h base gives 40 h', () => {
    const t = effectiveTimeouts(
      opts({ keepAliveTreatment: 'extended', keepAliveInactivityMultiplier: 10, inactivityTimeout: 14_400_000 }),
      true,
    );
    expect(t.idleMs).toBe(40 * H);
  });

  it('standard: the base idle timeout and maxConnectionLifetime; socketTimeout ignored for keep-alive', () => {
    const t = effectiveTimeouts(opts({ keepAliveTreatment: 'standard' }), true);
    expect(t).toEqual({
      treatment: 'standard',
      idleMs: 4 * H,
      ageCapMs: 24 * H,
      warningGraceMs: null,
      socketTimeoutMs: null,
    });
  });

  it('a connection that is not keep-alive gets standard rules and the socket timeout, whatever the treatment', () => {
    for (const treatment of ['standard', 'extended', 'immortal']) {
      const t = effectiveTimeouts(opts({ keepAliveTreatment: treatment }), false);
      expect(t.treatment).toBe('standard');
      expect(t.idleMs).toBe(4 * H);
      expect(t.socketTimeoutMs).toBe(H);
      expect(t.ageCapMs).toBe(24 * H);
    }
  });

  it('immortal keep-alive: no idle kill, no age cap, no timer at all', () => {
    const t = effectiveTimeouts(opts({ keepAliveTreatment: 'immortal' }), true);
    expect(t).toEqual({
      treatment: 'immortal',
      idleMs: null,
      ageCapMs: null,
      warningGraceMs: null,
      socketTimeoutMs: null,
    });
  });

  it('inactivityTimeout 0 means the default', () => {
    expect(effectiveTimeouts(opts({ inactivityTimeout: 0, keepAliveTreatment: 'standard' }), true).idleMs).toBe(
      DEFAULT_INACTIVITY_MS,
    );
  });

  it('clamps every value to 2^31−1 ms', () => {
    const t = effectiveTimeouts(
      opts({
        inactivityTimeout: 30 * 24 * H,
        keepAliveInactivityMultiplier: 100,
        extendedKeepAliveLifetime: 365 * 24 * H,
      }),
      true,
    );
    expect(t.idleMs).toBe(MAX_TIMER_MS);
    expect(t.ageCapMs).toBe(MAX_TIMER_MS);
  });

  it('disableInactivityCheck removes idle and socket timeouts but keeps the age cap', () => {
    const t = effectiveTimeouts(opts({ disableInactivityCheck: true, keepAliveTreatment: 'standard' }), false);
    expect(t.idleMs).toBeNull();
    expect(t.socketTimeoutMs).toBeNull();
    expect(t.ageCapMs).toBe(24 * H);
  });

  it('a zero age cap means none', () => {
    expect(
      effectiveTimeouts(opts({ keepAliveTreatment: 'standard', maxConnectionLifetime: 0 }), true).ageCapMs,
    ).toBeNull();
  });
});
