// Tracing's sampling: what waits for the verdict, what is kept, what is dropped (synthetic events, injected clock).
import { afterEach, describe, expect, it } from 'vitest';
import { INVALID_SPAN_CONTEXT, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { createSamplingProcessor, inRatio, markSpan } from '../../../src/telemetry/tracing-sampling.js';
import { cleanup, rig } from '../../helpers/tracing-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('sampling', () => {
  it('ratio 0: a normal long connection exports nothing and costs no span; an abnormal one is traced at close with its real times', async () => {
    const r = rig({ ratio: 0, segmentLengthMs: 1000 });
    const normal = r.conn();
    const broken = r.conn();
    r.open(normal);
    r.open(broken);
    const opened = r.clock.now();
    for (let i = 0; i < 3; i++) {
      r.clock.advance(1000);
      r.tracing.sweep(r.clock.now());
    }
    expect(await r.spans()).toHaveLength(0);
    expect(r.tracing.spanContextOf(normal)).toBeNull();
    r.close(normal, 'client_closed');
    expect(await r.spans()).toHaveLength(0);
    r.close(broken, 'heartbeat_timeout', { initiator: 'proxy' });
    const spans = await r.spans();
    expect(spans.map((s) => s.name)).toEqual(['sightline.connection']);
    const span = spans[0]!;
    expect(span.attributes).toMatchObject({
      'sightline.connection.id': broken.id,
      'sightline.traced_at_close': true,
      'error.type': 'heartbeat_timeout',
    });
    expect(span.startTime[0] * 1000 + span.startTime[1] / 1e6).toBeCloseTo(broken.incomingStartTime, -1);
    expect(broken.incomingStartTime).toBeLessThanOrEqual(opened);
    expect(r.tracing.spanContextOf(broken)?.spanId).toBe(span.spanContext().spanId);
  });

  it('inRatio is deterministic by trace id and bounded by 0 and 1', () => {
    const ids = Array.from({ length: 2000 }, (_, i) => (i * 2654435761).toString(16).padStart(32, '0'));
    expect(ids.every((id) => inRatio(id, 1))).toBe(true);
    expect(ids.some((id) => inRatio(id, 0))).toBe(false);
    const kept = ids.filter((id) => inRatio(id, 0.25)).length;
    expect(kept).toBeGreaterThan(350);
    expect(kept).toBeLessThan(650);
    expect(ids.map((id) => inRatio(id, 0.25))).toEqual(ids.map((id) => inRatio(id, 0.25)));
    expect(inRatio('ffffffffffffffffffffffffffffffff', 0.999)).toBe(false);
    expect(inRatio('00000000000000000000000000000000', 0.001)).toBe(true);
  });

  it('spans without a mark pass through; marked ones are exported or dropped as marked', async () => {
    const exporter = new InMemorySpanExporter();
    const sampling = createSamplingProcessor(new SimpleSpanProcessor({ exporter }));
    const provider = new TracerProvider({ spanProcessors: [sampling] });
    const tracer = provider.getTracer('t');
    tracer.startSpan('foreign').end();
    const a = tracer.startSpan('a');
    markSpan(a, true);
    a.end();
    const d = tracer.startSpan('d');
    markSpan(d, false);
    d.end();
    await provider.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['foreign', 'a']);
    expect(sampling.stats).toMatchObject({ exported: 2, sampledOut: 1 });
  });

  it("a span marked not to export loses its sampled flag: the SDK's own Batch / Simple processors drop it without the wrapper", async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const tracer = provider.getTracer('t');
    const keep = tracer.startSpan('keep');
    markSpan(keep, true);
    keep.end();
    const drop = tracer.startSpan('drop');
    markSpan(drop, false);
    expect(drop.spanContext().traceFlags & 1).toBe(0);
    drop.end();
    // A non-recording span (no SDK) shares the API's constant context: it is left alone.
    const invalid = trace.wrapSpanContext(INVALID_SPAN_CONTEXT);
    markSpan(invalid, false);
    expect(INVALID_SPAN_CONTEXT.traceFlags).toBe(0);
    const sampledConst = trace.wrapSpanContext({ traceId: '1'.repeat(32), spanId: '2'.repeat(16), traceFlags: 1 });
    markSpan(sampledConst, false);
    expect(sampledConst.spanContext().traceFlags).toBe(1);
    await provider.forceFlush();
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['keep']);
  });
});
