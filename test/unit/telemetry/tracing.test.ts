/**
 * Tracing as a channel subscriber, fed synthetic events with an injected clock: span times,
 * segments, HTTP request spans, guarded handlers, shutdown; and the OTEL_* environment parsing.
 * Sampling: tracing-sampling.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { channels, type HttpRequestEvent, type HttpRequestStartEvent } from '../../../src/core/channels.js';
import type { Phase } from '../../../src/core/close-reasons.js';
import { hostPort, hr } from '../../../src/telemetry/tracing-attributes.js';
import { normalRatioFromEnv } from '../../../src/telemetry/tracing-env.js';
import { PROXY, cleanup, type Conn, rig, named, ms } from '../../helpers/tracing-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('connection spans from events', () => {
  it('times come from the injected clock; setup has the route event; connect span covers connectMs', async () => {
    const r = rig();
    const c = r.conn({ isTLS: true, serverName: 'app.example.test' });
    const t0 = r.clock.now();
    r.open(c);
    r.clock.advance(100);
    r.close(c, 'backend_closed', {
      initiator: 'backend',
      firstSide: 'backend',
      websocket: { closeCode: 1001, closeFrame: true, closedBy: 'backend', pingsSent: 2, pongsReceived: 2 },
      http: { requests: 1 },
    });
    const spans = await r.spans();
    const [conn] = named(spans, 'sightline.connection');
    const [setup] = named(spans, 'sightline.setup');
    const [up] = named(spans, 'sightline.upstream.connect');
    expect(ms(conn!.startTime)).toBe(t0);
    expect(ms(conn!.endTime)).toBe(t0 + 103);
    expect(ms(setup!.endTime)).toBe(t0 + 3);
    expect(ms(up!.startTime)).toBe(t0);
    expect(ms(up!.endTime)).toBe(t0 + 3);
    expect(up!.attributes).toMatchObject({
      'server.address': '10.0.0.1',
      'server.port': 443,
      'sightline.connect_ms': 3,
    });
    expect(setup!.events[0]!.attributes).toMatchObject({
      'sightline.tls.alpn_offered': ['h2', 'http/1.1'],
      'sightline.tls.versions_offered': ['TLSv1.3'],
      'tls.client.server_name': 'app.example.test',
    });
    expect(conn!.attributes).toMatchObject({
      'server.address': 'app.example.test',
      'tls.client.server_name': 'app.example.test',
      'server.port': 8443,
      'sightline.tls': true,
      'sightline.route': 'api',
      'sightline.mode': 'passthrough',
      'sightline.close.reason': 'backend_closed',
      'sightline.close.initiator': 'backend',
      'sightline.websocket.close_code': 1001,
      'sightline.websocket.close_frame': true,
      'sightline.websocket.closed_by': 'backend',
      'sightline.http.requests': 1,
      'sightline.abnormal': false,
    });
    expect(conn!.status.code).toBe(SpanStatusCode.UNSET);
  });

  it("ignores other proxies' events; a throwing handler is counted, never thrown", async () => {
    const r = rig();
    channels.accept.publish({ conn: r.conn({ proxyId: PROXY + 1 }) });
    const bad = r.conn();
    Object.defineProperty(bad, 'remoteIP', {
      get() {
        throw new Error('boom');
      },
    });
    expect(() => channels.accept.publish({ conn: bad })).not.toThrow();
    expect(r.tracing.errors).toBe(1);
    expect(r.tracing.spanContextOf(bad)).toBeNull();
    await r.tracing.close();
    expect(await r.spans()).toHaveLength(0);
  });

  it('a connection closed before routing: setup ends with the close, both ERROR when abnormal', async () => {
    const r = rig();
    const c = r.conn();
    channels.accept.publish({ conn: c });
    r.clock.advance(5000);
    r.close(c, 'initial_data_timeout', {
      initiator: 'proxy',
      firstSide: null,
      endKind: 'local',
      phase: 'peek' as Phase,
    });
    const spans = await r.spans();
    expect(spans.map((s) => s.name).sort()).toEqual(['sightline.connection', 'sightline.setup']);
    for (const s of spans) {
      expect(s.status.code).toBe(SpanStatusCode.ERROR);
      expect(s.attributes['error.type']).toBe('initial_data_timeout');
    }
    expect(
      spans.find((s) => s.name === 'sightline.connection')!.attributes['sightline.close.first_side'],
    ).toBeUndefined();
  });

  it('lifecycle moments become events on the current segment', async () => {
    const r = rig();
    const c = r.conn();
    r.open(c);
    r.clock.advance(10);
    channels.lifecycle.publish({ conn: c, kind: 'idle-warning', detail: { idleMs: 10, nested: { no: 1 } } });
    r.close(c, 'client_closed');
    const [conn] = named(await r.spans(), 'sightline.connection');
    expect(conn!.events.map((e) => [e.name, e.attributes])).toEqual([['idle-warning', { idleMs: 10 }]]);
  });
});

describe('segments', () => {
  it('sweep rolls only connections whose segment is due, once per sweep, in segment order', async () => {
    const r = rig({ segmentLengthMs: 1000 });
    const a = r.conn();
    r.open(a);
    r.clock.advance(600);
    const b = r.conn();
    r.open(b);
    r.clock.advance(500); // a: 1103 old, b: 503
    r.tracing.sweep(r.clock.now());
    expect(named(await r.spans(), 'sightline.connection')).toHaveLength(1);
    r.clock.advance(10_000); // a long gap: one roll each, no empty segments
    r.tracing.sweep(r.clock.now());
    r.tracing.sweep(r.clock.now());
    const segs = named(await r.spans(), 'sightline.connection');
    // a rolled at the first sweep (b was not due); at the second both, b first (older segment).
    expect(segs.map((s) => [s.attributes['sightline.connection.id'], s.attributes['sightline.segment.index']])).toEqual(
      [
        [a.id, 0],
        [b.id, 0],
        [a.id, 1],
      ],
    );
  });

  it('segmentLengthMs 0: no segments', async () => {
    const r = rig({ segmentLengthMs: 0 });
    const c = r.conn();
    r.open(c);
    r.clock.advance(1e9);
    r.tracing.sweep(r.clock.now());
    r.close(c, 'client_closed');
    expect(named(await r.spans(), 'sightline.connection')).toHaveLength(1);
  });
});

describe('HTTP request spans from events', () => {
  function start(c: Conn, over: Partial<HttpRequestStartEvent> = {}): HttpRequestStartEvent {
    const e: HttpRequestStartEvent = {
      conn: c,
      routeName: 'api',
      method: 'GET',
      target: '/a?b=1',
      host: 'app.test',
      upstream: '10.0.0.1:80',
      traceparent: null,
      tracestate: null,
      ...over,
    };
    channels.httpRequestStart.publish(e);
    return e;
  }
  function done(c: Conn, over: Partial<HttpRequestEvent> = {}): void {
    channels.httpRequest.publish({
      conn: c,
      routeName: 'api',
      method: 'GET',
      status: 200,
      statusClass: '2xx',
      reason: 'http_completed',
      target: '10.0.0.1:80',
      durationMs: 5,
      reusedUpstream: false,
      upgraded: false,
      error: null,
      ...over,
    });
  }

  it('an invalid client traceparent is ignored: the request continues the connection trace', async () => {
    const r = rig();
    const c = r.conn();
    r.open(c);
    const e = start(c, { traceparent: '00-zz-nope-01' });
    expect(e.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(e.traceparent!.split('-')[1]).toBe(r.tracing.spanContextOf(c)!.traceId);
    r.clock.advance(7);
    done(c);
    const [req] = named(await r.spans(), 'GET');
    expect(req!.parentSpanContext?.spanId).toBe(r.tracing.spanContextOf(c)!.spanId);
    expect(ms(req!.endTime) - ms(req!.startTime)).toBe(7);
  });

  it('unknown methods are named HTTP with _OTHER; a request of an unseen connection still gets a traceparent', async () => {
    const r = rig();
    const c = r.conn();
    const e = start(c, { method: 'PURGE', target: 'http://app.test/x/y?z' });
    expect(e.traceparent).not.toBeNull();
    done(c, { method: 'PURGE' });
    const [req] = await r.spans();
    expect(req!.name).toBe('HTTP');
    expect(req!.parentSpanContext).toBeUndefined();
    expect(req!.attributes).toMatchObject({
      'http.request.method': '_OTHER',
      'http.request.method_original': 'PURGE',
      'url.path': '/x/y',
    });
  });

  it('a request the proxy answered before announcing it (404 no_route) gets a span after the fact, kept at ratio 0', async () => {
    const r = rig({ ratio: 0 });
    const c = r.conn();
    r.open(c);
    r.clock.advance(2);
    done(c, { status: 404, statusClass: '4xx', reason: 'no_route', durationMs: 2, routeName: null });
    const [req] = await r.spans();
    expect(req!.kind).toBe(SpanKind.SERVER);
    expect(req!.attributes).toMatchObject({
      'http.response.status_code': 404,
      'sightline.request.reason': 'no_route',
      'error.type': 'no_route',
    });
    expect(req!.status.code).toBe(SpanStatusCode.UNSET);
    expect(ms(req!.endTime) - ms(req!.startTime)).toBe(2);
  });

  it('a request still in flight at close ends with the close reason', async () => {
    const r = rig();
    const c = r.conn();
    r.open(c);
    start(c);
    r.close(c, 'backend_reset', { initiator: 'backend' });
    const [req] = named(await r.spans(), 'GET');
    expect(req!.status.code).toBe(SpanStatusCode.ERROR);
    expect(req!.attributes['error.type']).toBe('backend_reset');
  });
});

describe('close', () => {
  it('ends open connections as segments that did not see their close; idempotent; later events ignored', async () => {
    const r = rig({ ratio: 1 });
    const c = r.conn();
    r.open(c);
    r.clock.advance(50);
    const p = r.tracing.close();
    expect(r.tracing.close()).toBe(p);
    await p;
    channels.accept.publish({ conn: r.conn() });
    const spans = await r.spans();
    expect(spans).toHaveLength(3);
    const [conn] = named(spans, 'sightline.connection');
    expect(conn!.attributes).toMatchObject({
      'sightline.segment.final': false,
      'sightline.segment.open_at_shutdown': true,
    });
    expect(ms(conn!.endTime) - ms(conn!.startTime)).toBe(53);
  });
});

describe('environment', () => {
  it('normal sample ratio from OTEL_TRACES_SAMPLER / _ARG', () => {
    expect(normalRatioFromEnv({})).toBe(1);
    expect(normalRatioFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toBe(0.1);
    expect(normalRatioFromEnv({ OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '7' })).toBe(
      1,
    );
    expect(normalRatioFromEnv({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: 'x' })).toBe(1);
    expect(normalRatioFromEnv({ OTEL_TRACES_SAMPLER: 'always_off' })).toBe(0);
    expect(normalRatioFromEnv({ OTEL_TRACES_SAMPLER: 'always_on', OTEL_TRACES_SAMPLER_ARG: '0.1' })).toBe(1);
  });

  it('hr and hostPort', () => {
    expect(hr(1_800_000_000_123)).toEqual([1_800_000_000, 123_000_000]);
    expect(hr(1999.5)).toEqual([1, 999_500_000]);
    expect(hostPort('::1:8080', {})).toEqual({ 'server.address': '::1', 'server.port': 8080 });
    expect(hostPort('[::1]:8080', {})).toEqual({ 'server.address': '::1', 'server.port': 8080 });
    expect(hostPort('[::1]', {})).toEqual({ 'server.address': '::1' });
    expect(hostPort('a|b:fn', {})).toEqual({ 'server.address': 'a|b:fn' });
  });
});
