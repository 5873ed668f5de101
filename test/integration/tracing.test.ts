/**
 * Traces of real connections through a real SightlineProxy: the connection, setup and upstream
 * connect spans with their attributes and relations, abnormal closes kept when normal ones are
 * sampled out, segments of long connections (injected clock), W3C traceparent toward HTTP
 * backends. The export through the OpenTelemetry SDK from the OTEL_* environment: tracing-sdk.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ManualClock, systemClock, type Clock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import type { SightlineDeps } from '../../src/server.js';
import { createSamplingProcessor, startTracing, type Tracing } from '../../src/telemetry/tracing.js';
import { closed, connect, echoServer, freePort, readBytes, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
/** Only this file's own tracing subscribes; the proxy's other telemetry stays out of the way. */
const quiet = { telemetry: { metrics: { enabled: false } }, gracefulShutdownTimeout: 200 };
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Rig {
  p: RunningProxy;
  port: number;
  tracing: Tracing;
  exporter: InMemorySpanExporter;
  /** Flush the provider and return the exported spans. */
  spans(): Promise<ReadableSpan[]>;
}

async function rig(
  target: { host: string; port: number },
  opts: { ratio?: number; clock?: Clock; segmentLengthMs?: number; protocol?: 'http'; deps?: SightlineDeps } = {},
): Promise<Rig> {
  const port = await freePort();
  const action = { type: 'forward' as const, target, ...(opts.protocol ? { protocol: opts.protocol } : {}) };
  const p = await startProxy(
    { ...quiet, routes: [{ name: 'r', match: { ports: port }, action }] } as SightlineOptions,
    opts.deps,
  );
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({
    spanProcessors: [createSamplingProcessor(new SimpleSpanProcessor({ exporter }))],
  });
  const tracing = startTracing({
    proxyId: p.proxy.id,
    clock: opts.clock ?? systemClock,
    segmentLengthMs: opts.segmentLengthMs ?? 600_000,
    provider,
    normalSampleRatio: opts.ratio ?? 1,
  })!;
  cleanup.push(
    () => p.stop(),
    () => tracing.close(),
  );
  return {
    p,
    port,
    tracing,
    exporter,
    async spans() {
      await provider.forceFlush();
      return exporter.getFinishedSpans();
    },
  };
}

const byName = (spans: ReadableSpan[], name: string): ReadableSpan[] => spans.filter((s) => s.name === name);
const one = (spans: ReadableSpan[], name: string): ReadableSpan => {
  const found = byName(spans, name);
  expect(found, name).toHaveLength(1);
  return found[0]!;
};
const ms = (t: [number, number]): number => t[0] * 1000 + t[1] / 1e6;

describe('connection spans', () => {
  it('a TCP echo connection: connection (SERVER), setup and upstream connect (children), normal close', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const r = await rig({ host: HOST, port: be.port });
    const s = await connect(r.port);
    s.write('hello');
    await readBytes(s, 5);
    // While open: the connection's current span is known (logs, exemplars).
    await waitFor(() => r.p.proxy.getStats().getActiveConnections() === 1);
    const live = [...r.p.proxy.connectionManager.getConnections().values()][0]!;
    const ctx = r.tracing.spanContextOf(live);
    expect(ctx?.traceId).toMatch(/^[0-9a-f]{32}$/);
    s.end();
    await closed(s);
    const ev = await r.p.events.next();
    // After close the context stays readable (access log and exemplars are written at close).
    expect(r.tracing.spanContextOf(live)).toEqual(ctx);
    const spans = await r.spans();

    const conn = one(spans, 'sightline.connection');
    const setup = one(spans, 'sightline.setup');
    const up = one(spans, 'sightline.upstream.connect');
    expect(conn.kind).toBe(SpanKind.SERVER);
    expect(setup.kind).toBe(SpanKind.INTERNAL);
    expect(up.kind).toBe(SpanKind.CLIENT);
    expect(conn.spanContext().traceId).toBe(ctx!.traceId);
    expect(conn.spanContext().spanId).toBe(ctx!.spanId);
    expect(conn.parentSpanContext).toBeUndefined();
    for (const child of [setup, up]) {
      expect(child.spanContext().traceId).toBe(conn.spanContext().traceId);
      expect(child.parentSpanContext?.spanId).toBe(conn.spanContext().spanId);
    }
    expect(conn.attributes).toMatchObject({
      'client.address': '127.0.0.1',
      'client.port': s.localPort,
      'server.port': r.port,
      'network.transport': 'tcp',
      'sightline.tls': false,
      'sightline.route': 'r',
      'sightline.mode': live.mode,
      'sightline.target': `${HOST}:${be.port}`,
      'sightline.close.reason': ev.reason,
      'sightline.close.initiator': 'client',
      'sightline.close.first_side': 'client',
      'sightline.close.end_kind': 'fin',
      'sightline.close.phase': 'tunnel',
      'sightline.duration_ms': ev.durationMs,
      'sightline.idle_at_close_ms': ev.idleAtCloseMs,
      'sightline.bytes.from_client': 5,
      'sightline.bytes.to_client': 5,
      'sightline.keepalive.treatment': live.keepAliveTreatment,
      'sightline.abnormal': false,
      'sightline.segment.final': true,
      'sightline.segment.index': 0,
    });
    expect(ev.reason).toBe('client_closed');
    expect(conn.attributes['error.type']).toBeUndefined();
    expect(conn.status.code).toBe(SpanStatusCode.UNSET);
    expect(ms(conn.startTime)).toBe(live.incomingStartTime);
    expect(ms(conn.endTime)).toBe(live.incomingStartTime + ev.durationMs);
    // Setup: accept → route (an event) → backend connected; the connect span inside it.
    expect(setup.events.map((e) => e.name)).toEqual(['route']);
    expect(setup.attributes).toMatchObject({ 'sightline.route': 'r', 'sightline.target': `${HOST}:${be.port}` });
    expect(setup.status.code).toBe(SpanStatusCode.UNSET);
    expect(up.attributes).toMatchObject({ 'server.address': HOST, 'server.port': be.port, 'sightline.route': 'r' });
    expect(typeof up.attributes['sightline.connect_ms']).toBe('number');
    expect(ms(up.endTime)).toBeLessThanOrEqual(ms(conn.endTime));
    expect(ms(setup.endTime)).toBe(ms(up.endTime));
    expect(ms(setup.startTime)).toBe(ms(conn.startTime));
    expect(r.tracing.errors).toBe(0);
  });

  it('a refusing backend: abnormal (error.type, ERROR) and exported at ratio 0; normal closes are not', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const dead = await freePort();
    // Two proxies, both sampling normal closes at 0.
    const ok = await rig({ host: HOST, port: be.port }, { ratio: 0 });
    const bad = await rig({ host: HOST, port: dead }, { ratio: 0 });

    const s = await connect(ok.port);
    s.write('x');
    await readBytes(s, 1);
    s.end();
    await closed(s);
    expect((await ok.p.events.next()).reason).toBe('client_closed');
    expect(await ok.spans()).toHaveLength(0);

    const c = await connect(bad.port);
    await closed(c);
    const ev = await bad.p.events.next();
    expect(ev.reason).toBe('backend_connect_failed');
    const spans = await bad.spans();
    const conn = one(spans, 'sightline.connection');
    expect(conn.attributes).toMatchObject({
      'error.type': 'backend_connect_failed',
      'sightline.abnormal': true,
      'sightline.close.reason': 'backend_connect_failed',
      'sightline.close.phase': 'connecting',
    });
    expect(conn.status.code).toBe(SpanStatusCode.ERROR);
    // Unsampled: no span existed while it lived; the abnormal close is traced after the fact with
    // its real times (connection span and the failed connect), and no setup span.
    expect(conn.attributes['sightline.traced_at_close']).toBe(true);
    expect(spans.filter((x) => x.name === 'sightline.setup')).toHaveLength(0);
    expect(bad.tracing.spanContextOf(ev.conn)?.traceId).toBe(conn.spanContext().traceId);
    const up = one(spans, 'sightline.upstream.connect');
    expect(up.status.code).toBe(SpanStatusCode.ERROR);
    expect(up.attributes).toMatchObject({
      'error.type': 'backend_connect_failed',
      'server.address': HOST,
      'server.port': dead,
    });
    expect(up.parentSpanContext?.spanId).toBe(conn.spanContext().spanId);
  });
});

describe('segments', () => {
  it('a connection older than the segment length continues in linked spans (injected clock)', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const clock = new ManualClock(Date.now());
    const r = await rig(
      { host: HOST, port: be.port },
      { clock, segmentLengthMs: 1000, deps: { clock, autoTick: false, logger: null } },
    );
    const s = await connect(r.port);
    s.write('x');
    await readBytes(s, 1);
    const start = clock.now();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(500);
      r.tracing.sweep(clock.now());
      const live = [...r.p.proxy.connectionManager.getConnections().values()][0]!;
      const id = r.tracing.spanContextOf(live)!.spanId;
      if (ids.at(-1) !== id) ids.push(id);
    }
    // Rolled at +1000 and +2000: two non-final segments exported while the connection is open.
    let spans = byName(await r.spans(), 'sightline.connection');
    expect(spans.map((x) => x.attributes['sightline.segment.final'])).toEqual([false, false]);
    s.end();
    await closed(s);
    await r.p.events.next();
    spans = byName(await r.spans(), 'sightline.connection');
    expect(spans).toHaveLength(3);
    expect(spans.map((x) => x.attributes['sightline.segment.index'])).toEqual([0, 1, 2]);
    expect(spans.map((x) => x.attributes['sightline.segment.final'])).toEqual([false, false, true]);
    expect(ids).toEqual(spans.map((x) => x.spanContext().spanId));
    expect(spans.map((x) => ms(x.startTime) - start)).toEqual([0, 1000, 2000]);
    expect(ms(spans[0]!.endTime) - start).toBe(1000);
    expect(ms(spans[1]!.endTime) - start).toBe(2000);
    expect(ms(spans[2]!.endTime) - start).toBe(2500);
    // Linked in order, each segment with the connection's attributes.
    expect(spans[0]!.links).toHaveLength(0);
    expect(spans[1]!.links[0]!.context.spanId).toBe(spans[0]!.spanContext().spanId);
    expect(spans[2]!.links[0]!.context.spanId).toBe(spans[1]!.spanContext().spanId);
    for (const x of spans)
      expect(x.attributes).toMatchObject({
        'client.address': '127.0.0.1',
        'sightline.route': 'r',
        'sightline.connection.id': spans[0]!.attributes['sightline.connection.id'],
      });
    expect(spans[2]!.attributes['sightline.close.reason']).toBe('client_closed');
    expect(spans[0]!.attributes['sightline.close.reason']).toBeUndefined();
  });
});

interface Backend {
  port: number;
  headers: http.IncomingHttpHeaders[];
}

async function httpBackend(status = 200): Promise<Backend> {
  const headers: http.IncomingHttpHeaders[] = [];
  const server = http.createServer((req, res) => {
    headers.push(req.headers);
    req.resume();
    req.on('end', () => {
      res.statusCode = status;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(() => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))));
  return { port: (server.address() as AddressInfo).port, headers };
}

function get(port: number, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: HOST, port, path: '/items/7?secret=1', headers: { connection: 'close', ...headers } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP requests', () => {
  it('the backend receives the request span as traceparent parent (a child of the connection span)', async () => {
    const be = await httpBackend();
    const r = await rig({ host: HOST, port: be.port }, { protocol: 'http' });
    expect(await get(r.port)).toBe(200);
    await r.p.events.next();
    const spans = await r.spans();
    const req = one(spans, 'GET');
    const conn = one(spans, 'sightline.connection');
    const tp = be.headers[0]!.traceparent as string;
    expect(tp).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    const [, traceId, parentId] = tp.split('-');
    expect(traceId).toBe(req.spanContext().traceId);
    expect(parentId).toBe(req.spanContext().spanId);
    expect(req.kind).toBe(SpanKind.CLIENT);
    expect(req.parentSpanContext?.spanId).toBe(conn.spanContext().spanId);
    expect(req.spanContext().traceId).toBe(conn.spanContext().traceId);
    expect(req.attributes).toMatchObject({
      'http.request.method': 'GET',
      'url.path': '/items/7',
      'server.address': HOST,
      'sightline.route': 'r',
      'sightline.upstream': `${HOST}:${be.port}`,
      'http.response.status_code': 200,
      'sightline.request.reason': 'http_completed',
    });
    expect(req.status.code).toBe(SpanStatusCode.UNSET);
    expect(conn.attributes['sightline.http.requests']).toBe(1);
  });

  it("continues the client's trace: same trace id, the request span's parent is the client's span", async () => {
    const be = await httpBackend();
    const r = await rig({ host: HOST, port: be.port }, { protocol: 'http' });
    const clientTrace = '4bf92f3577b34da6a3ce929d0e0e4736';
    const clientSpan = '00f067aa0ba902b7';
    expect(await get(r.port, { traceparent: `00-${clientTrace}-${clientSpan}-01` })).toBe(200);
    await r.p.events.next();
    const spans = await r.spans();
    const req = one(spans, 'GET');
    const conn = one(spans, 'sightline.connection');
    expect(req.spanContext().traceId).toBe(clientTrace);
    expect(req.parentSpanContext?.spanId).toBe(clientSpan);
    // Linked to the connection span (a trace of its own).
    expect(req.links[0]?.context.spanId).toBe(conn.spanContext().spanId);
    const tp = be.headers[0]!.traceparent as string;
    expect(tp).toBe(`00-${clientTrace}-${req.spanContext().spanId}-01`);
  });

  it('5xx requests are exported at ratio 0; 2xx are not', async () => {
    const be = await httpBackend(503);
    const good = await httpBackend(200);
    const bad = await rig({ host: HOST, port: be.port }, { protocol: 'http', ratio: 0 });
    const ok = await rig({ host: HOST, port: good.port }, { protocol: 'http', ratio: 0 });
    expect(await get(bad.port)).toBe(503);
    expect(await get(ok.port)).toBe(200);
    await bad.p.events.next();
    await ok.p.events.next();
    const req = one(await bad.spans(), 'GET');
    expect(req.status.code).toBe(SpanStatusCode.ERROR);
    expect(req.attributes).toMatchObject({ 'http.response.status_code': 503, 'error.type': '503' });
    expect(await ok.spans()).toHaveLength(0);
  });
});

describe('wired by the composition root', () => {
  it('deps.tracerProvider: spans without calling startTracing; proxy.tick() rolls segments with the proxy clock', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({
      spanProcessors: [createSamplingProcessor(new SimpleSpanProcessor({ exporter }))],
    });
    const clock = new ManualClock(Date.now());
    const port = await freePort();
    const p = await startProxy(
      {
        ...quiet,
        telemetry: { metrics: { enabled: false }, tracing: { segmentLength: 1000 } },
        routes: [
          { name: 'w', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: be.port } } },
        ],
      } as SightlineOptions,
      { clock, autoTick: false, logger: null, tracerProvider: provider },
    );
    cleanup.push(() => p.stop());
    const s = await connect(port);
    s.write('x');
    await readBytes(s, 1);
    clock.advance(1500);
    p.proxy.tick();
    s.end();
    await closed(s);
    await p.events.next();
    await provider.forceFlush();
    const segs = byName(exporter.getFinishedSpans(), 'sightline.connection');
    expect(segs.map((x) => x.attributes['sightline.segment.final'])).toEqual([false, true]);
    expect(segs[1]!.attributes['sightline.route']).toBe('w');
  });
});
