/**
 * Spans that are only built when a connection closes: the failed backend connect of a connection
 * that died while connecting, and the whole trace of an unsampled connection that closed
 * abnormally (abnormal closes are always traced, DESIGN §3). Both use the real times the tracer
 * kept, so a span built late looks like one built live.
 */
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import type { CloseEvent } from '../core/channels.js';
import { Phase } from '../core/close-reasons.js';
import {
  A,
  SPAN_CONNECT,
  SPAN_CONNECTION,
  closeAttributes,
  connectionAttributes,
  hostPort,
} from './tracing-attributes.js';
import type { RequestSpanDeps } from './tracing-http.js';

/** How the tracer starts and ends spans (ending counts what is exported). */
export type SpanOps = Pick<RequestSpanDeps, 'start' | 'end'>;

/** What is kept of an unsampled connection: enough to trace it after the fact. */
export interface LazyState {
  routeAt: number;
  target: string | null;
}

/**
 * The backend connect never finished: its CLIENT span starts at `startMs`, measures from the
 * route decision `routeAt` and ends with the close, failed.
 */
export function endFailedConnect(
  ops: SpanOps,
  parent: Span,
  e: CloseEvent,
  target: string | null,
  routeAt: number,
  startMs: number,
  end: number,
): void {
  const attrs = hostPort(target, { [A.connectMs]: Math.max(0, end - routeAt), [ATTR_ERROR_TYPE]: e.reason });
  if (e.conn.routeName !== null) attrs[A.route] = e.conn.routeName;
  const span = ops.start(SPAN_CONNECT, SpanKind.CLIENT, startMs, attrs, trace.setSpan(ROOT_CONTEXT, parent));
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? e.reason });
  ops.end(span, Math.max(end, routeAt));
}

/**
 * An unsampled connection closed abnormally: its connection span, and a failed connect span when
 * it died connecting, are built now. Returns the span context that logs and exemplars read.
 */
export function traceAfterTheFact(
  ops: SpanOps,
  e: CloseEvent,
  lazy: LazyState,
  end: number,
): { traceId: string; spanId: string } {
  const c = e.conn;
  const start = c.incomingStartTime;
  const target = e.target ?? lazy.target;
  const attrs = { ...connectionAttributes(c, target, 0), ...closeAttributes(e, true) };
  const span = ops.start(SPAN_CONNECTION, SpanKind.SERVER, start, attrs, ROOT_CONTEXT);
  span.setAttribute('sightline.traced_at_close', true);
  span.setStatus({ code: SpanStatusCode.ERROR, message: e.error ?? e.reason });
  if (lazy.routeAt >= 0 && e.phase === Phase.Connecting) {
    endFailedConnect(ops, span, e, target, lazy.routeAt, lazy.routeAt, end);
  }
  ops.end(span, Math.max(end, start));
  const { traceId, spanId } = span.spanContext();
  return { traceId, spanId };
}
