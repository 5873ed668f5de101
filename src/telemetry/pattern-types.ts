/** What the disconnect-pattern detector (patterns.ts) is fed and what it reports. */
import type { Initiator } from '../core/close-reasons.js';
import type { ConfiguredTimer } from './configured-timers.js';
import type { PatternShape, PatternTimer } from './fingerprints.js';

/**
 * What a finding is: one of the two periodic shapes, or a route whose closes are dominated by
 * abnormal reasons (heartbeat misses, resets, stuck backends: telemetry/abnormal.ts).
 */
export type PatternKind = PatternShape | 'abnormal-reason';

export interface CloseSample {
  readonly route: string;
  /** Wall-clock time of the close (epoch ms). */
  readonly at: number;
  /** Connection lifetime and idle gap at close (ms). */
  readonly durationMs: number;
  readonly idleAtCloseMs: number;
  readonly initiator: Initiator;
  /** True when the proxy itself decided (EndKind 'local'); false for a peer FIN/RST/error. */
  readonly local: boolean;
  readonly reason: string;
}

export interface DetectedPattern {
  readonly route: string;
  readonly kind: PatternKind;
  /**
   * The cluster age (age-clustered) or the repeat period (wall-clock-aligned), ms; 0 for
   * abnormal-reason. For Sightline's own kills it is the configured value (see measuredMs).
   */
  readonly periodMs: number;
  /** The age measured when periodMs reports a Sightline timer as configured (its sweep kills late); else null. */
  readonly measuredMs: number | null;
  /** Sightline's own closes: the setting that decided, as written (`inactivityTimeout: 30000`); else null. */
  readonly setting: string | null;
  /**
   * When the evidence fits a per-connection timer and a shared wall-clock timer alike (every burst
   * held connections of one age: clients reconnect promptly), the observation that would decide; else null.
   */
  readonly undecided: string | null;
  /** When no known product default is near the period: the timers configured on the route's path. */
  readonly timersOnPath: readonly string[];
  /** Half the range of the clustered ages / of the intervals: the pattern is periodMs ± spreadMs. */
  readonly spreadMs: number;
  /** Closes that make up the pattern. */
  readonly count: number;
  /** 'idle-timeout' when idle-at-close ≈ the age (an idle timer), 'age-cap' when closes happen whatever the idle gap. */
  readonly timer: PatternTimer;
  /** The initiator most of the closes share, and whether most were local (proxy) decisions. */
  readonly initiator: Initiator;
  readonly local: boolean;
  readonly reasons: Readonly<Record<string, number>>;
  readonly culprits: readonly string[];
  /** One line for logs and the status page. */
  readonly summary: string;
  readonly firstSeen: number;
  readonly lastSeen: number;
}

export interface PatternDetectorOptions {
  /** Closes kept per route (ring buffer), default 256. */
  readonly windowSize?: number;
  /** Minimum closes in a cluster before it is a pattern, default 8. */
  readonly minCount?: number;
  /** Routes tracked at most (least recently updated evicted), default 1024. */
  readonly maxRoutes?: number;
  /** Closes younger than this are ignored (connection churn, health checks), default 1000 ms. */
  readonly minDurationMs?: number;
  /** Sightline's own timers per route name (configured-timers.ts); replaced on reload with setTimers(). */
  readonly timers?: ReadonlyMap<string, readonly ConfiguredTimer[]>;
  /** Extra age tolerance for local closes: the proxy's sweep lands its kills up to one period late. Default 0. */
  readonly localSlackMs?: number;
}
