/**
 * Tail sampling for Sightline's spans (DESIGN §3: abnormal closes are always kept, normal ones
 * may be sampled). Every span is recorded; whether it is exported is decided by a `Verdict` that
 * the tracing subscriber attaches to the span when it starts it:
 *  - a connection whose first trace id falls inside the normal ratio is kept from the start
 *    (its spans go straight through, nothing is buffered);
 *  - any other connection's verdict stays pending until its close: spans that end before
 *    (setup, upstream connect, earlier segments) wait in the verdict, a few per connection and a
 *    bounded number overall, and are passed on if the close is abnormal, discarded otherwise.
 * The wrapper processor only sees spans through the provider it is installed in; spans that have
 * no verdict (someone else's) pass straight through.
 */
import type { Context } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace';

/** At most this many ended spans wait per connection (setup, connect, the latest segments). */
const MAX_PENDING_PER_VERDICT = 8;
/** At most this many ended spans wait in one processor overall. */
const MAX_PENDING_TOTAL = 10_000;

const PENDING = 0;
const KEEP = 1;
const DROP = 2;
type State = typeof PENDING | typeof KEEP | typeof DROP;

interface Waiting {
  readonly to: SamplingSpanProcessor;
  readonly span: ReadableSpan;
  /** A non-final, non-first connection segment: may give way to a newer span when full. */
  readonly evictable: boolean;
}

/** The export decision shared by all spans of one connection (or of one HTTP request). */
export class Verdict {
  #state: State;
  #waiting: Waiting[] | null = null;

  constructor(keep: boolean | null) {
    this.#state = keep === null ? PENDING : keep ? KEEP : DROP;
  }

  /** Decide (once): pass the waiting spans on, or discard them. */
  resolve(keep: boolean): void {
    if (this.#state !== PENDING) return;
    this.#state = keep ? KEEP : DROP;
    const waiting = this.#waiting;
    this.#waiting = null;
    if (waiting === null) return;
    for (const w of waiting) w.to.release(w.span, keep);
  }

  /** Called by a processor for a span that ended while pending; false: no room, dropped. */
  hold(w: Waiting): boolean {
    this.#waiting ??= [];
    if (this.#waiting.length >= MAX_PENDING_PER_VERDICT) {
      const i = this.#waiting.findIndex((x) => x.evictable);
      if (i === -1) return false;
      const [old] = this.#waiting.splice(i, 1);
      old?.to.evict();
    }
    this.#waiting.push(w);
    return true;
  }

  get state(): State {
    return this.#state;
  }
}

/** Verdicts that are decided from the start (HTTP request spans are decided before they end). */
export const KEEP_VERDICT = new Verdict(true);
export const DROP_VERDICT = new Verdict(false);

/** Span object → its verdict (the SDK hands the same object to `onEnd` that `startSpan` returned). */
const verdicts = new WeakMap<object, Verdict>();

export function attachVerdict(span: object, verdict: Verdict): void {
  verdicts.set(span, verdict);
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
  /** Spans not exported because their connection or request was normal and outside the ratio. */
  readonly sampledOut: number;
  /** Spans dropped because the pending buffers were full. */
  readonly overflowDropped: number;
  /** Spans waiting for their connection's close right now. */
  readonly waiting: number;
}

/** Wraps an exporting processor (Simple / Batch) so that only kept spans reach it. */
export class SamplingSpanProcessor implements SpanProcessor {
  readonly #inner: SpanProcessor;
  #exported = 0;
  #sampledOut = 0;
  #overflow = 0;
  #waiting = 0;

  constructor(inner: SpanProcessor) {
    this.#inner = inner;
  }

  get stats(): SamplingStats {
    return { exported: this.#exported, sampledOut: this.#sampledOut, overflowDropped: this.#overflow, waiting: this.#waiting };
  }

  onStart(span: Span, parentContext: Context): void {
    this.#inner.onStart(span, parentContext);
  }

  onEnding(span: Span): void {
    this.#inner.onEnding?.(span);
  }

  onEnd(span: ReadableSpan): void {
    const v = verdicts.get(span);
    if (v === undefined || v.state === KEEP) {
      this.#exported++;
      this.#inner.onEnd(span);
      return;
    }
    if (v.state === DROP) {
      this.#sampledOut++;
      return;
    }
    if (this.#waiting >= MAX_PENDING_TOTAL) {
      this.#overflow++;
      return;
    }
    const evictable = span.name === 'sightline.connection' && span.attributes['sightline.segment.index'] !== 0;
    if (v.hold({ to: this, span, evictable })) this.#waiting++;
    else this.#overflow++;
  }

  /** A waiting span gave way to a newer one of its connection. */
  evict(): void {
    this.#waiting--;
    this.#overflow++;
  }

  /** A waiting span's verdict is in. */
  release(span: ReadableSpan, keep: boolean): void {
    this.#waiting--;
    if (keep) {
      this.#exported++;
      this.#inner.onEnd(span);
    } else {
      this.#sampledOut++;
    }
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
