/**
 * OpenTelemetry traces as a subscriber of the core's channels (DESIGN §1, §3): the data path
 * never calls the tracer. Per connection:
 *  - `sightline.connection` (SERVER): accept → close, with the close attributes; a connection
 *    older than the segment length is cut at a sweep into segments, each a new span linked to
 *    the previous one (only the current segment is held, so memory stays bounded);
 *  - `sightline.setup` (INTERNAL, child): accept → route → backend connected (or the first HTTP
 *    request, or the close when it never got that far);
 *  - `sightline.upstream.connect` (CLIENT, child): one per backend connect, failed ones included;
 *  - on HTTP routes one CLIENT span per request (`GET`, ...), continuing the client's W3C trace
 *    when it sent one, and whose traceparent is what the backend receives.
 * Span times come from the proxy's clock. Every handler is guarded: errors are counted, never
 * thrown into the data path (DESIGN §2.9). Export decisions: see tracing-sampling.ts.
 */
import diagnostics from 'node:diagnostics_channel';
import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import {
  CHANNEL_NAMES,
  type AcceptEvent,
  type BackendConnectedEvent,
  type CloseEvent,
  type ConnectionView,
  type HttpRequestEvent,
  type HttpRequestStartEvent,
  type LifecycleEvent,
  type RouteEvent,
} from '../core/channels.js';
import { isAbnormal, Phase } from '../core/close-reasons.js';
import type { Clock } from '../core/clock.js';
import type { Tracing, TracingOptions } from './tracing-api.js';
import {
  A,
  SPAN_CONNECT,
  SPAN_CONNECTION,
  SPAN_SETUP,
  closeAttributes,
  connectionAttributes,
  detailAttributes,
  hostPort,
  hr,
  routeAttributes,
} from './tracing-attributes.js';
import { endFailedConnect, traceAfterTheFact, type LazyState, type SpanOps } from './tracing-close-spans.js';
import { normalRatioFromEnv } from './tracing-env.js';
import { RequestSpans } from './tracing-http.js';
import { progressAttributes, type ProgressRecord } from './progress.js';
import { isKept, type SamplingStats } from './tracing-sampling.js';

export { createSamplingProcessor, type SamplingStats } from './tracing-sampling.js';
export type { Tracing, TracingOptions } from './tracing-api.js';

interface ConnState {
  readonly conn: ConnectionView;
  /** The current segment of the connection span. */
  seg: Span;
  segIndex: number;
  segStart: number;
  setup: Span | null;
  /** When the route event came (-1: not routed yet). */
  routeAt: number;
  target: string | null;
  connected: boolean;
}

/** Start tracing proxy `o.proxyId`; null when there is no provider (none given, none registered). */
export function startTracing(o: TracingOptions): Tracing | null {
  let provider = o.provider;
  if (provider === undefined) {
    const global = trace.getTracerProvider() as TracerProvider & { getDelegateTracer?: (name: string) => unknown };
    // The API's stand-in has no delegate until an SDK is registered: no spans to make then.
    if (global.getDelegateTracer?.('sightline') === undefined) return null;
    provider = global;
  }
  return new ChannelTracing(o, provider);
}

class ChannelTracing implements Tracing {
  readonly #proxyId: number;
  readonly #clock: Clock;
  readonly #segmentMs: number;
  readonly #ratio: number;
  readonly #tracer: Tracer;
  readonly #provider: TracerProvider;
  #exported = 0;
  #sampledOut = 0;
  /** Open connections, in order of their current segment's start (a roll re-inserts at the end). */
  readonly #conns = new Map<ConnectionView, ConnState>();
  /**
   * Connections outside the sampling ratio: no span exists while they live (spans cost tens of
   * µs each); a few numbers are kept so that an abnormal close can still be traced, after the
   * fact, with the right times.
   */
  readonly #unsampled = new Map<ConnectionView, LazyState>();
  /** The span context a closed connection had (or got at close): logs and exemplars read it. */
  readonly #closed = new WeakMap<ConnectionView, { traceId: string; spanId: string }>();
  readonly #requests: RequestSpans;
  /** start/end for the spans built at close (tracing-close-spans.ts). */
  readonly #ops: SpanOps = {
    start: (name, kind, startMs, attributes, parent, links) =>
      this.#start(name, kind, startMs, attributes, parent, links),
    end: (span, ms) => this.#end(span, ms),
  };
  readonly #subs: Array<[string, (m: unknown) => void]>;
  #errors = 0;
  #closing: Promise<void> | null = null;

  constructor(o: TracingOptions, provider: TracerProvider) {
    this.#proxyId = o.proxyId;
    this.#clock = o.clock;
    this.#segmentMs = Number.isFinite(o.segmentLengthMs) && o.segmentLengthMs > 0 ? o.segmentLengthMs : Infinity;
    const r = o.normalSampleRatio ?? normalRatioFromEnv();
    this.#ratio = Number.isFinite(r) ? Math.min(1, Math.max(0, r)) : 1;
    this.#provider = provider;
    this.#tracer = provider.getTracer('sightline');
    this.#requests = new RequestSpans({
      ...this.#ops,
      segmentOf: (conn) => this.#conns.get(conn)?.seg,
      ratio: this.#ratio,
    });
    this.#subs = [
      [CHANNEL_NAMES.accept, this.#guard<AcceptEvent>((e) => this.#onAccept(e))],
      [CHANNEL_NAMES.route, this.#guard<RouteEvent>((e) => this.#onRoute(e))],
      [CHANNEL_NAMES.backendConnected, this.#guard<BackendConnectedEvent>((e) => this.#onBackendConnected(e))],
      [CHANNEL_NAMES.lifecycle, this.#guard<LifecycleEvent>((e) => this.#onLifecycle(e))],
      [CHANNEL_NAMES.httpRequestStart, this.#guard<HttpRequestStartEvent>((e) => this.#onRequestStart(e))],
      [CHANNEL_NAMES.httpRequest, this.#guard<HttpRequestEvent>((e) => this.#requests.onEnd(e, this.#clock.now()))],
      [CHANNEL_NAMES.close, this.#guard<CloseEvent>((e) => this.#onClose(e))],
    ];
    for (const [name, fn] of this.#subs) diagnostics.subscribe(name, fn);
  }

  get errors(): number {
    return this.#errors;
  }

  get stats(): SamplingStats {
    return { exported: this.#exported, sampledOut: this.#sampledOut };
  }

  #guard<T extends { readonly conn: ConnectionView }>(fn: (e: T) => void): (m: unknown) => void {
    return (m) => {
      try {
        const e = m as T;
        if (e.conn.proxyId === this.#proxyId) fn(e);
      } catch {
        this.#errors++;
      }
    };
  }

  spanContextOf(conn: ConnectionView): { traceId: string; spanId: string } | null {
    try {
      const st = this.#conns.get(conn);
      if (st === undefined) return this.#closed.get(conn) ?? null;
      const { traceId, spanId } = st.seg.spanContext();
      return { traceId, spanId };
    } catch {
      this.#errors++;
      return null;
    }
  }

  /** Every span ends here: the counts of what the sampling rule kept and dropped. */
  #end(span: Span, ms: number): void {
    if (isKept(span)) this.#exported++;
    else this.#sampledOut++;
    span.end(hr(ms));
  }

  // ---- connection spans -----------------------------------------------------------------------

  #start(name: string, kind: SpanKind, startMs: number, attributes: Attributes, parent: Context, links?: Link[]): Span {
    return this.#tracer.startSpan(
      name,
      { kind, startTime: hr(startMs), attributes, ...(links ? { links } : {}), root: parent === ROOT_CONTEXT },
      parent,
    );
  }

  #onAccept(e: AcceptEvent): void {
    const c = e.conn;
    if (this.#conns.has(c) || this.#unsampled.has(c) || this.#closing !== null) return;
    if (this.#ratio < 1 && Math.random() >= this.#ratio) {
      this.#unsampled.set(c, { routeAt: -1, target: null });
      return;
    }
    const start = c.incomingStartTime;
    const seg = this.#start(SPAN_CONNECTION, SpanKind.SERVER, start, connectionAttributes(c, null, 0), ROOT_CONTEXT);
    const setup = this.#start(
      SPAN_SETUP,
      SpanKind.INTERNAL,
      start,
      { [A.connectionId]: c.id },
      trace.setSpan(ROOT_CONTEXT, seg),
    );
    this.#conns.set(c, {
      conn: c,
      seg,
      segIndex: 0,
      segStart: start,
      setup,
      routeAt: -1,
      target: null,
      connected: false,
    });
  }

  #onRoute(e: RouteEvent): void {
    const st = this.#conns.get(e.conn);
    if (st === undefined) {
      const lazy = this.#unsampled.get(e.conn);
      if (lazy !== undefined) {
        lazy.routeAt = this.#clock.now();
        lazy.target = e.target === '' ? null : e.target;
      }
      return;
    }
    const now = this.#clock.now();
    st.routeAt = now;
    st.target = e.target === '' ? null : e.target;
    const attrs = routeAttributes(e);
    st.setup?.addEvent('route', attrs, hr(now));
    st.setup?.setAttributes(attrs);
    st.seg.setAttributes(connectionAttributes(e.conn, st.target, st.segIndex));
  }

  #onBackendConnected(e: BackendConnectedEvent): void {
    const st = this.#conns.get(e.conn);
    if (st === undefined) return;
    const now = this.#clock.now();
    const ms = Number.isFinite(e.connectMs) && e.connectMs > 0 ? e.connectMs : 0;
    const attrs = hostPort(e.target, { [A.connectMs]: ms });
    if (e.conn.routeName !== null) attrs[A.route] = e.conn.routeName;
    const span = this.#start(
      SPAN_CONNECT,
      SpanKind.CLIENT,
      Math.max(now - ms, st.segStart),
      attrs,
      trace.setSpan(ROOT_CONTEXT, st.seg),
    );
    this.#end(span, now);
    st.connected = true;
    this.#endSetup(st, now);
  }

  #endSetup(st: ConnState, now: number, error?: string): void {
    const setup = st.setup;
    if (setup === null) return;
    st.setup = null;
    if (error !== undefined) {
      setup.setAttribute(ATTR_ERROR_TYPE, error);
      setup.setStatus({ code: SpanStatusCode.ERROR, message: error });
    }
    this.#end(setup, now);
  }

  #onRequestStart(e: HttpRequestStartEvent): void {
    const now = this.#clock.now();
    this.#requests.onStart(e, now);
    const st = this.#conns.get(e.conn);
    // On HTTP routes bytes flow once the first request is read: setup is over.
    if (st !== undefined) this.#endSetup(st, now);
  }

  #onLifecycle(e: LifecycleEvent): void {
    const st = this.#conns.get(e.conn);
    if (st === undefined) return;
    st.seg.addEvent(e.kind, detailAttributes(e.detail), hr(this.#clock.now()));
  }

  #onClose(e: CloseEvent): void {
    const c = e.conn;
    const end = c.incomingStartTime + e.durationMs;
    const abnormal = isAbnormal(e.reason);
    this.#requests.onClose(c, e.reason, end);
    const st = this.#conns.get(c);
    if (st === undefined) {
      const lazy = this.#unsampled.get(c);
      if (lazy !== undefined) {
        this.#unsampled.delete(c);
        if (abnormal) this.#closed.set(c, traceAfterTheFact(this.#ops, e, lazy, end));
      }
      return;
    }
    this.#conns.delete(c);
    const { traceId, spanId } = st.seg.spanContext();
    this.#closed.set(c, { traceId, spanId });
    this.#endSetup(st, end, abnormal ? e.reason : undefined);
    if (!st.connected && st.routeAt >= 0 && e.phase === Phase.Connecting) {
      const from = Math.max(st.routeAt, st.segStart);
      endFailedConnect(this.#ops, st.seg, e, e.target ?? st.target, st.routeAt, from, end);
    }
    st.seg.setAttributes(connectionAttributes(c, e.target ?? st.target, st.segIndex));
    st.seg.setAttributes(closeAttributes(e, abnormal));
    if (abnormal) st.seg.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? e.reason });
    this.#end(st.seg, Math.max(end, st.segStart));
  }

  // ---- segments -------------------------------------------------------------------------------

  sweep(now: number): void {
    try {
      const due = now - this.#segmentMs;
      for (const st of this.#conns.values()) {
        // In segment-start order: the first one not due ends the walk (rolled ones are not due).
        if (st.segStart > due) break;
        this.#roll(st, now);
      }
    } catch {
      this.#errors++;
    }
  }

  /** End the current segment (not final) and continue in a new span linked to it. */
  #roll(st: ConnState, now: number): void {
    const prev = st.seg;
    prev.setAttribute(A.segmentFinal, false);
    this.#end(prev, now);
    st.segIndex++;
    st.segStart = now;
    const links: Link[] = [{ context: prev.spanContext(), attributes: { 'sightline.link': 'previous_segment' } }];
    st.seg = this.#start(
      SPAN_CONNECTION,
      SpanKind.SERVER,
      now,
      connectionAttributes(st.conn, st.target, st.segIndex),
      ROOT_CONTEXT,
      links,
    );
    this.#conns.delete(st.conn);
    this.#conns.set(st.conn, st);
  }

  // ---- issue 14 point 5: progress records ------------------------------------------------------

  progress(r: ProgressRecord): void {
    try {
      this.#conns.get(r.conn)?.seg.addEvent('connection-progress', progressAttributes(r), hr(this.#clock.now()));
    } catch {
      this.#errors++;
    }
  }

  // ---- shutdown -------------------------------------------------------------------------------

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    for (const [name, fn] of this.#subs) diagnostics.unsubscribe(name, fn);
    try {
      const now = this.#clock.now();
      this.#requests.endAll(now);
      for (const st of this.#conns.values()) {
        // Still open: its fate is unknown, so it is kept (as a segment that did not see its close).
        this.#endSetup(st, now);
        st.seg.setAttributes({ [A.segmentFinal]: false, [A.openAtShutdown]: true });
        this.#end(st.seg, Math.max(now, st.segStart));
      }
      this.#conns.clear();
      this.#unsampled.clear();
    } catch {
      this.#errors++;
    }
    try {
      const p = this.#provider as TracerProvider & { forceFlush?: () => Promise<void> };
      await p.forceFlush?.();
    } catch {
      this.#errors++;
    }
  }
}
