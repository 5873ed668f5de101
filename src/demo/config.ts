/**
 * The demo's embedded configuration and its timing. The detector (src/telemetry/patterns.ts)
 * reports an age cluster once it holds ≥ 8 closes older than 1 s, within max(0.5 s, 2 %) of one
 * another in age, whose start times are spread (the densest 1 s of starts holds at most half of
 * them). The load-balanced route opens one connection every `openEvery` and the simulated load
 * balancer closes each one `dropAfter` after its last byte (the greeting, at t ≈ 0), so close k
 * lands at k·openEvery + dropAfter and the 8th close (the first analysis with 8 held) comes at
 * dropAfter + 7·openEvery: 30 s + 7 × 2 s = 44 s with the defaults, 3 s + 7 × 0.4 s ≈ 6 s with
 * `--drop-after 3`.
 */
import type { SightlineOptions } from '../index.js';

/** Closes the detector needs in one cluster (PatternDetector's default minCount). */
export const DETECTOR_MIN_CLOSES = 8;
/** Closes younger than this are churn to the detector (its default minDurationMs), plus one cluster width. */
export const MIN_DROP_AFTER_S = 2;
export const MAX_DROP_AFTER_S = 3600;

export const HEALTHY_ROUTE = 'echo';
export const LB_ROUTE = 'ws-behind-lb';

export interface DemoTiming {
  readonly dropAfterMs: number;
  /** A new idle connection on the load-balanced route this often. */
  readonly openEveryMs: number;
  /** When the detector should first see the pattern, from the first connection (ms). */
  readonly expectedDetectionMs: number;
}

/**
 * One new connection per 1/15 of the drop interval, between 0.4 s and 2 s: about 15 open at a
 * time, and never more than 3 starts in one second (the detector's "not opened together" rule
 * allows up to half of the 8).
 */
export function demoTiming(dropAfterS: number): DemoTiming {
  const dropAfterMs = Math.round(dropAfterS * 1000);
  const openEveryMs = Math.min(2000, Math.max(400, Math.round(dropAfterMs / 15)));
  return { dropAfterMs, openEveryMs, expectedDetectionMs: dropAfterMs + (DETECTOR_MIN_CLOSES - 1) * openEveryMs };
}

export interface DemoPorts {
  readonly adminPort: number;
  readonly healthyPort: number;
  readonly lbPort: number;
  readonly echoBackend: number;
  readonly loadBalancer: number;
}

export function demoOptions(p: DemoPorts, logLevel: 'silent' | 'info' | 'debug' = 'silent'): SightlineOptions {
  return {
    listenHost: '127.0.0.1',
    // Ctrl-C should not wait long: the demo's own clients are ended before the drain.
    gracefulShutdownTimeout: 2000,
    // All demo traffic comes from 127.0.0.1: the per-IP caps would otherwise count all of it as one client.
    maxConnectionsPerIP: 1000,
    connectionRateLimitPerMinute: 6000,
    admin: { host: '127.0.0.1', port: p.adminPort },
    telemetry: { logging: { level: logLevel, destination: 'stderr' } },
    routes: [
      {
        name: HEALTHY_ROUTE,
        match: { ports: p.healthyPort },
        action: { type: 'forward', target: { host: '127.0.0.1', port: p.echoBackend } },
      },
      {
        name: LB_ROUTE,
        match: { ports: p.lbPort },
        action: { type: 'forward', target: { host: '127.0.0.1', port: p.loadBalancer } },
      },
    ],
  };
}
