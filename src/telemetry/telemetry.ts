/**
 * The telemetry of one proxy (DESIGN §1 L5): metrics, logs, the disconnect-pattern detector and
 * tracing, each a subscriber of the core's channels. Started and closed by the composition root;
 * the data path knows nothing of it.
 *
 * Subscription order matters for the close event: tracing subscribes first, so that when metrics
 * and logs handle a close the connection's span context is final (an unsampled connection that
 * closed abnormally gets its span right then) and still readable (trace ids for exemplars and
 * access lines).
 */
import diagnostics from 'node:diagnostics_channel';
import type { Logger } from 'pino';
import type { TracerProvider } from '@opentelemetry/api';
import { CHANNEL_NAMES, type CloseEvent } from '../core/channels.js';
import type { Clock } from '../core/clock.js';
import type { ResolvedOptions } from '../config/schema.js';
import type { LogSubscription } from './logger.js';
import { CloseHistory, type CloseAges, type CloseRecord, type RecentCloses } from './close-history.js';
import { startMetrics, type Metrics, type MetricsSource } from './metrics.js';
import { patternSampleOf } from './pattern-feed.js';
import { configuredTimers } from './configured-timers.js';
import { PatternDetector, type DetectedPattern } from './patterns.js';
import type { Tracing } from './tracing.js';
import type { ProgressReporter } from './progress.js';

export interface TelemetryDeps {
  readonly proxyId: number;
  readonly options: ResolvedOptions;
  readonly clock: Clock;
  readonly version: string;
  /** Live data read at scrape time (open connections, pools). */
  readonly source: Omit<MetricsSource, 'patterns'>;
  /** A logger to use; undefined: build one from `telemetry.logging`; null: no logs. */
  readonly logger?: Logger | null | undefined;
  /** A tracer provider (the CLI's NodeSDK one; tests: in-memory); otherwise the globally registered one, if any. */
  readonly tracerProvider?: TracerProvider;
  /** How many connections are open (paces the progress records; absent: one pass per interval at once). */
  readonly liveCount?: () => number;
}

export interface Telemetry {
  readonly metrics: Metrics | null;
  readonly tracing: Tracing | null;
  readonly patterns: PatternDetector | null;
  readonly logs: LogSubscription | null;
  /** The metrics exposition (empty when metrics are off). */
  scrape(openMetrics: boolean): Promise<{ contentType: string; body: string }>;
  /** Standing disconnect patterns. */
  standingPatterns(): readonly DetectedPattern[];
  /** Close reasons and initiators per minute over the last 15 minutes (oldest first). */
  recentCloses(): RecentCloses;
  /** Per route, a log-scale histogram of age at close over the last 15 minutes. */
  closeAges(route?: string): CloseAges;
  /** The last closes (newest first), of one route or one connection id. */
  closeRecords(filter: { route?: string; id?: number; limit: number }): CloseRecord[];
  /** From the proxy's sweep tick: trace segments, refusal summaries. */
  sweep(now: number): void;
  /** The routes changed (reload): the detector names Sightline's own timers from the new config. */
  reconfigure(options: ResolvedOptions): void;
  close(): Promise<void>;
}

export async function startTelemetry(d: TelemetryDeps): Promise<Telemetry> {
  const t = d.options.telemetry;
  const clock = d.clock;
  // The proxy's own kills land up to one sweep period after their deadline.
  const sweepMs = Math.min(d.options.lifecycle.activitySampleInterval, d.options.inactivityCheckInterval);
  const patterns = t.patterns.enabled
    ? new PatternDetector({ localSlackMs: sweepMs, timers: configuredTimers(d.options) })
    : null;
  const standing = (): readonly DetectedPattern[] => patterns?.snapshot(clock.now()) ?? [];

  // Tracing first: it owns the span contexts the others read (see header).
  let tracing: Tracing | null = null;
  const wantTracing = t.tracing.enabled || d.tracerProvider !== undefined;

  let traceRef: Tracing | null = null;
  const spanContextOf = (conn: Parameters<Tracing['spanContextOf']>[0]): { traceId: string; spanId: string } | null =>
    traceRef?.spanContextOf(conn) ?? null;

  if (wantTracing) {
    const { startTracing } = await import('./tracing.js');
    tracing = startTracing({
      proxyId: d.proxyId,
      segmentLengthMs: t.tracing.segmentLength,
      clock,
      provider: d.tracerProvider,
    });
    traceRef = tracing;
  }

  const metrics = t.metrics.enabled
    ? startMetrics({
        proxyId: d.proxyId,
        version: d.version,
        source: { ...d.source, patterns: standing },
        traceIdOf: (conn) => spanContextOf(conn)?.traceId ?? null,
      })
    : null;

  let logs: LogSubscription | null = null;
  let logger: Logger | null = null;
  let flushPeriodically: (l: Logger) => void = () => {};
  if (d.logger !== null && !(d.logger === undefined && t.logging.level === 'silent')) {
    const { createLogger, subscribeLogs, flushPeriodically: flush } = await import('./logger.js');
    flushPeriodically = flush;
    logger = d.logger ?? createLogger(t.logging);
    logs = subscribeLogs(logger, { proxyId: d.proxyId, detailed: d.options.enableDetailedLogging, spanContextOf });
  }

  // ---- issue 14 point 5: progress records of long-lived connections (progress.ts) ----
  let progress: ProgressReporter | null = null;
  if (t.progressInterval > 0 && (logs !== null || tracing !== null)) {
    const { ProgressReporter: Reporter } = await import('./progress.js');
    progress = new Reporter(t.progressInterval, d.source.live, d.liveCount ?? (() => Infinity), (r) => {
      tracing?.progress(r);
      logs?.progress(r);
    });
  }

  // The recent past for the status page (bounded; see close-history.ts).
  const history = new CloseHistory();

  const onClose = (m: unknown): void => {
    try {
      const e = m as CloseEvent;
      const c = e.conn;
      if (c.proxyId !== d.proxyId) return;
      history.record(e, clock.now());
      if (patterns === null) return;
      const sample = patternSampleOf(e, clock.now());
      if (sample === null) return;
      const found = patterns.observe(sample);
      for (const p of found) {
        metrics?.patternDetected(p.route, p.kind);
        logs?.pattern(
          {
            route: p.route,
            kind: p.kind,
            periodMs: p.periodMs,
            spreadMs: p.spreadMs,
            count: p.count,
            timer: p.timer,
            initiator: p.initiator,
            culprits: p.culprits,
          },
          p.summary,
        );
      }
    } catch {
      /* the detector must never break the close path */
    }
  };
  diagnostics.subscribe(CHANNEL_NAMES.close, onClose);

  let closed: Promise<void> | null = null;
  let lastFlush = Date.now();
  return {
    metrics,
    tracing,
    patterns,
    logs,
    async scrape(openMetrics) {
      if (metrics === null) return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' };
      return metrics.scrape(openMetrics);
    },
    standingPatterns: standing,
    recentCloses: () => history.closesPerMinute(clock.now()),
    closeAges: (route) => history.closeAges(clock.now(), route),
    closeRecords: (filter) => history.records(filter),
    reconfigure(options) {
      patterns?.setTimers(configuredTimers(options));
    },
    sweep(now) {
      tracing?.sweep(now);
      progress?.step(now);
      logs?.sweep();
      // Buffered log lines reach their destination within a second.
      const wall = Date.now();
      if (logger !== null && wall - lastFlush >= 1000) {
        lastFlush = wall;
        flushPeriodically(logger);
      }
    },
    close() {
      closed ??= (async () => {
        diagnostics.unsubscribe(CHANNEL_NAMES.close, onClose);
        await tracing?.close();
        logs?.close();
        metrics?.close();
        if (logger !== null) {
          const { flushLogger } = await import('./logger.js');
          await flushLogger(logger);
        }
      })();
      return closed;
    },
  };
}
