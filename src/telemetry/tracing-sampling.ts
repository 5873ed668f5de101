/**
 * Which of Sightline's spans are exported (DESIGN §3: abnormal closes are always kept, normal ones
 * may be sampled). The tracing subscriber decides per connection at accept: inside the normal ratio
 * its spans are created and kept; outside it no span exists while it lives, and an abnormal close
 * is traced after the fact (tracing.ts). HTTP request spans are decided when they start or end
 * (tracing-http.ts). The decision is a mark on the span that this wrapper processor reads; spans
 * with no mark (someone else's) pass straight through.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** Span object → export it? (the SDK hands `onEnd` the same object `startSpan` returned). */
const marks = new WeakMap<object, boolean>();

/** Decide whether `span` is exported when it ends. */
export function markSpan(span: object, keep: boolean): void {
  marks.set(span, keep);
}

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
