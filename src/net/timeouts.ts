/**
 * Effective timeouts of a connection (compat-semantics §3) as pure functions of the options and
 * whether the connection is keep-alive. `null` means "never": no timer, no sweep kill.
 * Every finite value is clamped to 2^31−1 ms.
 */
import { clampTimer } from '../core/timer-wheel.js';
import type { ResolvedOptions } from '../config/schema.js';

/** The reference's base idle timeout (4 h), also used when `inactivityTimeout` is 0. */
export const DEFAULT_INACTIVITY_MS = 14_400_000;

export interface EffectiveTimeouts {
  readonly treatment: 'standard' | 'extended' | 'immortal';
  /** Idle time after which the connection is killed (or, under `extended`, warned). */
  readonly idleMs: number | null;
  /** Age after which the connection is killed whatever it does. */
  readonly ageCapMs: number | null;
  /** `extended`: warn when `idleMs` passes, kill `warningGraceMs` later unless it wakes up. */
  readonly warningGraceMs: number | null;
  /** Socket-level idle timeout; never applied to keep-alive connections. */
  readonly socketTimeoutMs: number | null;
}

type TimeoutOptions = Pick<
  ResolvedOptions,
  | 'inactivityTimeout'
  | 'keepAliveTreatment'
  | 'keepAliveInactivityMultiplier'
  | 'maxConnectionLifetime'
  | 'extendedKeepAliveLifetime'
  | 'socketTimeout'
  | 'disableInactivityCheck'
> & { readonly lifecycle: Pick<ResolvedOptions['lifecycle'], 'extendedWarningGrace'> };

const orNull = (ms: number): number | null => (ms > 0 ? clampTimer(ms) : null);

export function effectiveTimeouts(o: TimeoutOptions, keepAlive: boolean): EffectiveTimeouts {
  const base = o.inactivityTimeout > 0 ? o.inactivityTimeout : DEFAULT_INACTIVITY_MS;
  const checks = !o.disableInactivityCheck;
  if (keepAlive && o.keepAliveTreatment === 'immortal') {
    return { treatment: 'immortal', idleMs: null, ageCapMs: null, warningGraceMs: null, socketTimeoutMs: null };
  }
  if (keepAlive && o.keepAliveTreatment === 'extended') {
    return {
      treatment: 'extended',
      idleMs: checks ? clampTimer(base * o.keepAliveInactivityMultiplier) : null,
      ageCapMs: orNull(o.extendedKeepAliveLifetime),
      warningGraceMs: clampTimer(o.lifecycle.extendedWarningGrace),
      socketTimeoutMs: null,
    };
  }
  return {
    treatment: 'standard',
    idleMs: checks ? clampTimer(base) : null,
    ageCapMs: orNull(o.maxConnectionLifetime),
    warningGraceMs: null,
    socketTimeoutMs: checks && !keepAlive ? orNull(o.socketTimeout) : null,
  };
}

/** How often the sweep visits every connection: the finer of the activity sample and the idle check. */
export function sweepPeriod(o: ResolvedOptions): number {
  const check = o.inactivityCheckInterval > 0 ? o.inactivityCheckInterval : Infinity;
  return clampTimer(Math.max(1, Math.min(o.lifecycle.activitySampleInterval, check)));
}
