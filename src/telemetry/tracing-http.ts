/**
 * HTTP request spans (DESIGN §3: where HTTP is terminated, W3C traceparent is injected toward the
 * backend). One CLIENT span per request, from request-start to the end of the exchange (one in
 * flight per connection). Its parent is the client's span when the client sent a valid
 * traceparent (the connection span is then a link), else the connection's current segment. The
 * request-start event's mutable `traceparent` is replaced by this span's, synchronously, which
 * is what the data path sends on. Failed exchanges (5xx, no response, any reason other than
 * http_completed) are always exported; the others by the normal ratio.
 */
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  defaultTextMapGetter,
  defaultTextMapSetter,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { ConnectionView, HttpRequestEvent, HttpRequestStartEvent } from '../core/channels.js';
import type { CloseReason } from '../core/close-reasons.js';
import { A, methodAttributes, requestEndAttributes, requestStartAttributes } from './tracing-attributes.js';
import { inRatio, markSpan } from './tracing-sampling.js';

const propagator = new W3CTraceContextPropagator();

export interface RequestSpanDeps {
  start(name: string, kind: SpanKind, startMs: number, attributes: Attributes, parent: Context, links?: Link[]): Span;
  /** The connection's current segment span, undefined when the connection is not traced. */
  /** End a span (the tracer counts what is exported). */
  end(span: Span, ms: number): void;
  segmentOf(conn: ConnectionView): Span | undefined;
  readonly ratio: number;
}

export class RequestSpans {
  readonly #d: RequestSpanDeps;
  /** The request in flight per connection. */
  readonly #open = new Map<ConnectionView, Span>();

  constructor(d: RequestSpanDeps) {
    this.#d = d;
  }

  onStart(e: HttpRequestStartEvent, now: number): void {
    const c = e.conn;
    this.#abandon(c, now);
    const seg = this.#d.segmentOf(c);
    let parent = seg === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, seg);
    let links: Link[] | undefined;
    if (e.traceparent !== null) {
      const carrier =
        e.tracestate !== null
          ? { traceparent: e.traceparent, tracestate: e.tracestate }
          : { traceparent: e.traceparent };
      const incoming = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
      if (trace.getSpanContext(incoming) !== undefined) {
        parent = incoming;
        if (seg !== undefined) links = [{ context: seg.spanContext(), attributes: { 'sightline.link': 'connection' } }];
      }
    }
    const attrs: Attributes = {};
    const name = methodAttributes(e.method, attrs);
    const span = this.#d.start(name, SpanKind.CLIENT, now, requestStartAttributes(e, attrs), parent, links);
    this.#open.set(c, span);
    const out: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, span), out, defaultTextMapSetter);
    if (out.traceparent !== undefined) e.traceparent = out.traceparent;
  }

  onEnd(e: HttpRequestEvent, now: number): void {
    const c = e.conn;
    let span = this.#open.get(c);
    if (span !== undefined) {
      this.#open.delete(c);
    } else {
      // Answered by the proxy before it was announced (no route, blocked, ...): a span after the fact.
      const attrs: Attributes = { [A.connectionId]: c.id };
      const name = methodAttributes(e.method, attrs);
      if (e.routeName !== null) attrs[A.route] = e.routeName;
      const seg = this.#d.segmentOf(c);
      span = this.#d.start(
        name,
        SpanKind.SERVER,
        now - Math.max(0, e.durationMs),
        attrs,
        seg === undefined ? ROOT_CONTEXT : trace.setSpan(ROOT_CONTEXT, seg),
      );
    }
    const end: Attributes = {};
    const { failed, error } = requestEndAttributes(e, end);
    span.setAttributes(end);
    if (error) span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? e.reason });
    markSpan(span, failed || inRatio(span.spanContext().traceId, this.#d.ratio));
    this.#d.end(span, now);
  }

  /** The connection closed with a request still in flight: it failed with the close's reason. */
  onClose(c: ConnectionView, reason: CloseReason, now: number): void {
    const span = this.#open.get(c);
    if (span === undefined) return;
    this.#open.delete(c);
    span.setAttributes({ [A.requestReason]: reason, [ATTR_ERROR_TYPE]: reason });
    span.setStatus({ code: SpanStatusCode.ERROR, message: 'connection closed during the request' });
    markSpan(span, true);
    this.#d.end(span, now);
  }

  /** Shutdown: end what is still in flight (not exported: its outcome is unknown). */
  endAll(now: number): void {
    for (const c of [...this.#open.keys()]) this.#abandon(c, now);
  }

  /** One request in flight per connection: a request-start without an end gives up the older one. */
  #abandon(c: ConnectionView, now: number): void {
    const old = this.#open.get(c);
    if (old === undefined) return;
    this.#open.delete(c);
    markSpan(old, false);
    this.#d.end(old, now);
  }
}
