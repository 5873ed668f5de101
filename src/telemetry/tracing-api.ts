/**
 * What tracing.ts offers the rest of telemetry: its options and the handle a caller keeps. Kept
 * apart from the channel subscriber so that readers of the contract need not read the handlers.
 */
import type { TracerProvider } from '@opentelemetry/api';
import type { ConnectionView } from '../core/channels.js';
import type { Clock } from '../core/clock.js';
import type { ProgressRecord } from './progress.js';
import type { SamplingStats } from './tracing-sampling.js';

export interface TracingOptions {
  /** Only events whose conn.proxyId matches. */
  readonly proxyId: number;
  /** telemetry.tracing.segmentLength (default 600000); 0 or less: no segments. */
  readonly segmentLengthMs: number;
  /** The proxy's clock (ms, epoch-like): every span time comes from it. */
  readonly clock: Clock;
  /**
   * A tracer provider to use: the CLI's NodeSDK one (tracing-sdk.ts), a caller's, or in tests an
   * SDK TracerProvider with an InMemorySpanExporter. Its Batch / Simple processors honour the
   * sampling (tracing-sampling.ts); wrap other processors with `createSamplingProcessor()`.
   * When absent: the provider an application registered globally with the OpenTelemetry API
   * (Sightline itself never registers one), and no tracing when there is none.
   */
  readonly provider?: TracerProvider;
  /** Fraction of NORMAL closes exported (abnormal ones always are). Default: OTEL_TRACES_SAMPLER[_ARG], else 1. */
  readonly normalSampleRatio?: number;
}

export interface Tracing {
  /** Trace and span id of the connection's current SERVER span (for logs and metric exemplars), null when none. */
  spanContextOf(conn: ConnectionView): { traceId: string; spanId: string } | null;
  /** Called on each sweep tick with the proxy clock: rolls long connections into a new linked segment span. */
  sweep(now: number): void;
  /** A long-lived connection's progress record: an event on its current segment (progress.ts). */
  progress(r: ProgressRecord): void;
  /** Handler errors caught (never thrown into the data path). */
  readonly errors: number;
  /** Spans ended and handed to the provider for export, and spans the sampling rule dropped. */
  readonly stats: SamplingStats;
  /** Unsubscribe, end open spans (as not-closed segments) and flush the provider (its owner shuts it down). Idempotent. */
  close(): Promise<void>;
}
