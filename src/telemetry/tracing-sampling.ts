/**
 * Which of Sightline's spans are exported (DESIGN §3: abnormal closes are always kept, normal ones
 * may be sampled). The tracing subscriber decides per connection at accept: inside the normal ratio
 * its spans are created and kept; outside it no span exists while it lives, and an abnormal close
 * is traced after the fact (tracing.ts). HTTP request spans are decided when they start or end
 * (tracing-http.ts). A span not to be exported loses its W3C sampled flag before it ends: the
 * SDK's Batch and Simple span processors (the ones NodeSDK builds from the environment) export
 * only sampled spans, so no wrapper is needed in the SDK's pipeline. The decision is also kept as
 * a mark that the wrapper processor below reads, for a caller's provider whose processors do not
 * look at the flag; spans with no mark (someone else's) pass straight through.
 */
import { TraceFlags, type Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Span object → export it? (the SDK hands `onEnd` the same object `startSpan` returned). */
const marks = new WeakMap<object, boolean>();

interface Markable {
  isRecording(): boolean;
  spanContext(): { traceFlags: number };
}

/** Decide whether `span` is exported when it ends (call before `end()`). */
export function markSpan(span: Markable, keep: boolean): void {
  marks.set(span, keep);
  // Only a live SDK span owns its context object (a non-recording span may share a constant).
  if (keep || !span.isRecording()) return;
  const ctx = span.spanContext();
  if (!Object.isFrozen(ctx)) ctx.traceFlags &= ~TraceFlags.SAMPLED;
}

/** Whether a span ended (or about to end) is exported, as far as Sightline decided. */
export const isKept = (span: object): boolean => marks.get(span) !== false;

/**
 * Deterministic ratio by trace id: the low 32 bits of the (random) trace id against `ratio`.
 * The same trace id always gets the same answer, so separately decided spans of one trace agree.
 */
export function inRatio(traceId: string, ratio: number): boolean {
  if (ratio >= 1) return true;
  if (!(ratio > 0)) return false;
  const low = Number.parseInt(traceId.slice(-8), 16);
  if (!Number.isFinite(low)) return false;
  return low / 0x1_0000_0000 < ratio;
}

export interface SamplingStats {
  /** Spans passed on to the wrapped processor. */
  readonly exported: number;
  /** Spans not exported because their request was normal and outside the ratio. */
  readonly sampledOut: number;
}

/** Wraps an exporting processor (Simple / Batch) so that only kept spans reach it. */
export class SamplingSpanProcessor implements SpanProcessor {
  readonly #inner: SpanProcessor;
  #exported = 0;
  #sampledOut = 0;

  constructor(inner: SpanProcessor) {
    this.#inner = inner;
  }

  get stats(): SamplingStats {
    return { exported: this.#exported, sampledOut: this.#sampledOut };
  }

  onStart(span: Span, parentContext: Context): void {
    this.#inner.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    this.#inner.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    if (marks.get(span) === false) {
      this.#sampledOut++;
      return;
    }
    this.#exported++;
    this.#inner.onEnd(span);
  }

  forceFlush(): Promise<void> {
    return this.#inner.forceFlush();
  }

  shutdown(): Promise<void> {
    return this.#inner.shutdown();
  }
}

/** Wrap the processor that exports (e.g. a SimpleSpanProcessor) so Sightline's sampling applies. */
export function createSamplingProcessor(inner: SpanProcessor): SamplingSpanProcessor {
  return new SamplingSpanProcessor(inner);
}
