/**
 * Tracing as the CLI starts it: the OpenTelemetry SDK (`NodeSDK`, tracing-sdk.ts) built from the
 * OTEL_* environment exports Sightline's spans over real OTLP/HTTP to a local receiver, with the
 * resource the SDK detects (OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES, host, process); nothing
 * is instrumented (node:http and node:net are the functions they were); the sampling rule holds in
 * the SDK's own pipeline; and without a provider the library finds none and traces nothing.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { context, propagation, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { systemClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { startTracing } from '../../src/telemetry/tracing.js';
import { startTracingSdk } from '../../src/telemetry/tracing-sdk.js';
import { closed, connect, echoServer, freePort, readBytes, HOST } from '../helpers/net.js';
import { attrOf, otlpReceiver } from '../helpers/otlp.js';
import { startProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
const quiet = { telemetry: { metrics: { enabled: false } }, gracefulShutdownTimeout: 200 };
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** Set variables for one test (restored after it). */
function withEnv(vars: Record<string, string | undefined>): void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  cleanup.push(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
}

/** The SDK registers globals (it is the application's); each test starts from none. */
function startSdk(): NonNullable<ReturnType<typeof startTracingSdk>> {
  const sdk = startTracingSdk('9.9.9-test');
  expect(sdk).not.toBeNull();
  cleanup.push(async () => {
    await sdk!.shutdown();
    trace.disable();
    context.disable();
    propagation.disable();
  });
  return sdk!;
}

/** What node:http and node:net export, to prove nothing wrapped them. */
const patchable = (): unknown[] => [
  http.request,
  http.get,
  http.Server.prototype.emit,
  http.ClientRequest.prototype.end,
  net.connect,
  net.createConnection,
  net.Socket.prototype.connect,
  net.Server.prototype.emit,
];

describe('the CLI path: NodeSDK from the environment', () => {
  it('exports the connection spans over OTLP/HTTP with the detected resource; nothing is instrumented', async () => {
    const rx = await otlpReceiver(HOST);
    cleanup.push(() => rx.close());
    withEnv({
      OTEL_TRACES_EXPORTER: undefined,
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      OTEL_SERVICE_NAME: 'sightline-test',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment.name=ci,k8s.pod.name=edge-7f9c,k8s.namespace.name=net',
      OTEL_NODE_RESOURCE_DETECTORS: undefined,
      OTEL_TRACES_SAMPLER: undefined,
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const before = patchable();
    const sdk = startSdk();
    expect(patchable()).toEqual(before);
    for (const f of patchable()) expect((f as { __wrapped?: unknown }).__wrapped).toBeUndefined();

    const be = await echoServer();
    cleanup.push(() => be.close());
    const port = await freePort();
    const p = await startProxy(
      {
        ...quiet,
        telemetry: { metrics: { enabled: false }, tracing: { enabled: true } },
        routes: [
          { name: 'otlp', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: be.port } } },
        ],
      } as SightlineOptions,
      {
        tracerProvider: sdk.provider,
      },
    );
    cleanup.push(() => p.stop());
    const tracing = p.proxy.telemetry?.tracing;
    expect(tracing).toBeTruthy();
    const s = await connect(port);
    s.write('ping');
    await readBytes(s, 4);
    s.end();
    await closed(s);
    await p.events.next();
    // An HTTP request in this process (instrumented http would make a span of it).
    await new Promise<void>((resolve, reject) =>
      http
        .get(rx.url.replace('/v1/traces', '/other'), (res) => (res.resume(), res.on('end', resolve)))
        .on('error', reject),
    );
    await p.stop();
    await sdk.shutdown();

    const got = rx.spans();
    const conn = got.find((x) => x.span.name === 'sightline.connection');
    expect(conn, JSON.stringify(rx.bodies)).toBeDefined();
    expect(attrOf(conn!.span.attributes, 'sightline.close.reason')).toBe('client_closed');
    expect(attrOf(conn!.span.attributes, 'sightline.route')).toBe('otlp');
    // Only Sightline's own spans: the receiver's requests and the GET above were not traced.
    expect(got.map((x) => x.span.name).sort()).toEqual([
      'sightline.connection',
      'sightline.setup',
      'sightline.upstream.connect',
    ]);
    expect(tracing!.stats).toMatchObject({ exported: 3, sampledOut: 0 });
    // The resource: the SDK's detectors and the standard variables.
    const r = conn!.resource;
    expect(r['service.name']).toBe('sightline-test');
    expect(r['service.version']).toBe('9.9.9-test');
    expect(r['deployment.environment.name']).toBe('ci');
    expect(r['k8s.pod.name']).toBe('edge-7f9c');
    expect(r['k8s.namespace.name']).toBe('net');
    expect(Number(r['process.pid'])).toBe(process.pid);
    expect(typeof r['host.name']).toBe('string');
    expect(typeof r['service.instance.id']).toBe('string');
    expect(r['telemetry.sdk.language']).toBe('nodejs');
  });

  it('the sampling rule in the SDK pipeline: at OTEL_TRACES_SAMPLER_ARG=0 a refused backend and a 503 are exported, a normal close and a 200 are not', async () => {
    const rx = await otlpReceiver(HOST);
    cleanup.push(() => rx.close());
    withEnv({
      OTEL_TRACES_EXPORTER: 'otlp',
      OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: rx.url,
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const sdk = startSdk();
    const be = await echoServer();
    cleanup.push(() => be.close());
    const web = http.createServer((req, res) => {
      res.statusCode = req.url === '/fail' ? 503 : 200;
      res.end('ok');
    });
    await new Promise<void>((r) => web.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => (web.closeAllConnections(), web.close(() => r()))));
    const webPort = (web.address() as net.AddressInfo).port;
    const [good, bad, dead, api] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const p = await startProxy(
      {
        ...quiet,
        telemetry: { metrics: { enabled: false }, tracing: { enabled: true } },
        routes: [
          { name: 'good', match: { ports: good }, action: { type: 'forward', target: { host: HOST, port: be.port } } },
          { name: 'refused', match: { ports: bad }, action: { type: 'forward', target: { host: HOST, port: dead } } },
          {
            name: 'api',
            match: { ports: api },
            action: { type: 'forward', protocol: 'http', target: { host: HOST, port: webPort } },
          },
        ],
      } as SightlineOptions,
      { tracerProvider: sdk.provider },
    );
    cleanup.push(() => p.stop());
    const s = await connect(good);
    s.write('x');
    await readBytes(s, 1);
    s.end();
    await closed(s);
    const r = await connect(bad);
    await closed(r);
    await p.events.next();
    await p.events.next();
    for (const path of ['/fine', '/fail']) {
      const status = await new Promise<number>((resolve, reject) =>
        http
          .get(
            { host: HOST, port: api, path, agent: false },
            (res) => (res.resume(), res.on('end', () => resolve(res.statusCode ?? 0))),
          )
          .on('error', reject),
      );
      expect(status).toBe(path === '/fail' ? 503 : 200);
    }
    await p.stop();
    await sdk.shutdown();
    const requests = rx.spans().filter((x) => x.span.name === 'GET');
    expect(requests.map((x) => attrOf(x.span.attributes, 'http.response.status_code'))).toEqual([503]);
    const conns = rx.spans().filter((x) => x.span.name === 'sightline.connection');
    expect(conns.map((x) => attrOf(x.span.attributes, 'sightline.route'))).toEqual(['refused']);
    expect(attrOf(conns[0]!.span.attributes, 'error.type')).toBe('backend_connect_failed');
  });

  it('OTEL_TRACES_EXPORTER=none or OTEL_SDK_DISABLED: no SDK provider; without one the library traces nothing', () => {
    withEnv({ OTEL_TRACES_EXPORTER: 'none', OTEL_SDK_DISABLED: undefined });
    expect(startTracingSdk('0')).toBeNull();
    withEnv({ OTEL_TRACES_EXPORTER: 'otlp', OTEL_SDK_DISABLED: 'true' });
    expect(startTracingSdk('0')).toBeNull();
    expect(startTracing({ proxyId: -1, clock: systemClock, segmentLengthMs: 1000 })).toBeNull();
  });

  it('the library registers no global, and uses the provider an application registered when given none', async () => {
    const be = await echoServer();
    cleanup.push(() => be.close());
    const port = await freePort();
    const opts = {
      ...quiet,
      telemetry: { metrics: { enabled: false }, tracing: { enabled: true } },
      routes: [
        { name: 'g', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: be.port } } },
      ],
    } as SightlineOptions;
    const global = trace.getTracerProvider() as unknown as { getDelegateTracer(name: string): unknown };
    // No provider anywhere: tracing is off and nothing got registered by the proxy.
    const bare = await startProxy(opts);
    expect(bare.proxy.telemetry?.tracing).toBeNull();
    await bare.stop();
    expect(global.getDelegateTracer('probe')).toBeUndefined();
    // An application's SDK registered globally: the proxy's spans go there.
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    expect(trace.setGlobalTracerProvider(provider)).toBe(true);
    cleanup.push(() => trace.disable());
    const p = await startProxy(opts);
    cleanup.push(() => p.stop());
    const s = await connect(port);
    s.write('g');
    await readBytes(s, 1);
    s.end();
    await closed(s);
    await p.events.next();
    expect(exporter.getFinishedSpans().map((x) => x.name)).toContain('sightline.connection');
  });
});
