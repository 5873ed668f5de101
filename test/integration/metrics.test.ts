/**
 * Metrics after scripted scenarios: every close lands in the right counters and buckets, label
 * values stay bounded under floods of random names, and a live /metrics passes promtool.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { MetricObjectWithValues, MetricValue } from 'prom-client';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { ManualClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { closed, connect, echoRoundTrip, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { needCommand, skipped, titled } from '../helpers/needs.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function proxy(options: Partial<SightlineOptions> & Pick<SightlineOptions, 'routes'>, deps = {}): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 100, maxConnectionsPerIP: 0, connectionRateLimitPerMinute: 0, ...options }, deps);
  cleanup.push(() => p.stop());
  return p;
}

type Json = MetricObjectWithValues<MetricValue<string>>;

async function metricsOf(p: RunningProxy): Promise<Map<string, Json>> {
  const list = (await p.proxy.telemetry!.metrics!.registry.getMetricsAsJSON()) as Json[];
  return new Map(list.map((m) => [m.name, m]));
}

/** The value of one series (labels must match exactly those given; others ignored). */
function value(m: Map<string, Json>, name: string, labels: Record<string, string | number>, metricName?: string): number {
  const metric = m.get(name);
  if (metric === undefined) throw new Error(`no metric ${name}`);
  const found = metric.values.filter(
    (v) => (metricName === undefined || (v as { metricName?: string }).metricName === metricName) && Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === String(want)),
  );
  return found.reduce((a, v) => a + v.value, 0);
}

function seriesCount(text: string): number {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
}

describe('metrics after scenarios', () => {
  it('counts accepted, closed (route, reason, initiator), bytes and connect durations for a normal echo', async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy({ routes: [{ name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } }] });
    await echoRoundTrip(port, 'hello metrics');
    await p.events.next();
    const m = await metricsOf(p);
    expect(value(m, 'sightline_connections_accepted_total', { port })).toBe(1);
    expect(value(m, 'sightline_connections_closed_total', { route: 'echo', reason: 'client_closed', initiator: 'client' })).toBe(1);
    expect(value(m, 'sightline_bytes_total', { route: 'echo', direction: 'in' })).toBe(13);
    expect(value(m, 'sightline_bytes_total', { route: 'echo', direction: 'out' })).toBe(13);
    expect(value(m, 'sightline_backend_connect_duration_seconds', { route: 'echo' }, 'sightline_backend_connect_duration_seconds_count')).toBe(1);
    expect(value(m, 'sightline_connection_duration_seconds', { route: 'echo', initiator: 'client' }, 'sightline_connection_duration_seconds_count')).toBe(1);
    expect(value(m, 'sightline_connections_active', { route: 'echo' })).toBe(0);
  });

  it('counts a refused backend, a limit rejection and a bad ClientHello under their own metrics', async () => {
    const dead = await freePort();
    const [p1, p2, p3] = await Promise.all([freePort(), freePort(), freePort()]);
    const p = await proxy({
      maxConnectionsPerIP: 1,
      routes: [
        { name: 'down', match: { ports: p1 }, action: { type: 'forward', target: { host: HOST, port: dead } } },
        { name: 'held', match: { ports: p2 }, action: { type: 'forward', target: { host: HOST, port: dead } } },
        { name: 'sni', match: { ports: p3, domains: 'a.test' }, action: { type: 'forward', target: { host: HOST, port: dead }, tls: { mode: 'passthrough' } } },
      ],
    });
    await closed(await connect(p1));
    await p.events.next((e) => e.reason === 'backend_connect_failed');
    // One connection held open (it is the IP's one allowed), then a refused second one.
    const holder = net.connect(p3, HOST);
    await new Promise((r) => holder.once('connect', r));
    cleanup.push(() => void holder.destroy());
    await waitFor(() => p.proxy.getStats().getActiveConnections() === 1);
    const refused = net.connect(p2, HOST);
    refused.on('error', () => {});
    await p.events.next((e) => e.reason === 'ip_connection_limit');
    holder.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x02, 0x00, 0x00, 0x00]));
    await p.events.next((e) => e.reason === 'client_hello_invalid');
    const m = await metricsOf(p);
    expect(value(m, 'sightline_backend_connect_failures_total', { route: 'down', reason: 'backend_connect_failed' })).toBe(1);
    expect(value(m, 'sightline_connections_rejected_total', { route: 'none', reason: 'ip_connection_limit' })).toBe(1);
    expect(value(m, 'sightline_limit_rejections_total', { limit: 'ip_connection_limit' })).toBe(1);
    expect(value(m, 'sightline_client_hello_failures_total', { port: p3, reason: 'client_hello_invalid' })).toBe(1);
    // Refusals are not connections that lived: they stay out of the duration histogram (the one
    // unrouted connection there is the bad ClientHello).
    expect(value(m, 'sightline_connection_duration_seconds', { route: 'none' }, 'sightline_connection_duration_seconds_count')).toBe(1);
  });

  it('puts a 30 s connection between the 28 s and 32 s edges, and labels an inactivity kill with its treatment', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy(
      { keepAliveTreatment: 'standard', inactivityTimeout: 30_000, routes: [{ name: 'idle', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } }] },
      { clock, autoTick: false },
    );
    const s = await connect(port);
    s.on('error', () => {});
    await waitFor(() => [...p.proxy.connectionManager.getConnections().values()].some((c) => c.phase === 'tunnel'));
    clock.advance(30_000);
    p.proxy.tick();
    const ev = await p.events.next();
    expect(ev.reason).toBe('inactivity');
    const m = await metricsOf(p);
    const bucket = (le: number): number => value(m, 'sightline_connection_duration_seconds', { route: 'idle', initiator: 'proxy', le }, 'sightline_connection_duration_seconds_bucket');
    expect(bucket(28)).toBe(0);
    expect(bucket(32)).toBe(1);
    const idle = (le: number): number => value(m, 'sightline_connection_idle_at_close_seconds', { route: 'idle', initiator: 'proxy', le }, 'sightline_connection_idle_at_close_seconds_bucket');
    expect(idle(28)).toBe(0);
    expect(idle(32)).toBe(1);
    expect(value(m, 'sightline_inactivity_kills_total', { route: 'idle', treatment: 'standard' })).toBe(1);
  });

  it('counts HTTP requests by status class and reason', async () => {
    const be = http.createServer((req, res) => {
      res.statusCode = req.url === '/missing' ? 404 : 200;
      res.end('x');
    });
    await new Promise<void>((r) => be.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => { be.closeAllConnections(); be.close(() => r()); }));
    const port = await freePort();
    const p = await proxy({ routes: [{ name: 'web', match: { ports: port }, action: { type: 'forward', protocol: 'http', target: { host: HOST, port: (be.address() as net.AddressInfo).port } } }] });
    for (const path of ['/', '/', '/missing']) {
      await new Promise<void>((resolve, reject) => http.get({ host: HOST, port, path }, (r) => r.resume().on('end', resolve)).on('error', reject));
    }
    await waitFor(() => p.requests.events.length === 3);
    const m = await metricsOf(p);
    expect(value(m, 'sightline_http_requests_total', { route: 'web', status_class: '2xx', reason: 'http_completed' })).toBe(2);
    expect(value(m, 'sightline_http_requests_total', { route: 'web', status_class: '4xx', reason: 'http_completed' })).toBe(1);
    expect(value(m, 'sightline_http_request_duration_seconds', { route: 'web', status_class: '2xx' }, 'sightline_http_request_duration_seconds_count')).toBe(2);
  });
});

describe('cardinality', () => {
  it('thousands of random SNI names, Host headers and client addresses add no series', async () => {
    const dead = await freePort();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const [sniPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const be = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => be.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => { be.closeAllConnections(); be.close(() => r()); }));
    const p = await proxy({
      defaults: { target: { host: HOST, port: dead } },
      routes: [
        { name: 'known', match: { ports: sniPort, domains: 'known.test' }, action: { type: 'forward', target: { host: HOST, port: echo.port }, tls: { mode: 'passthrough' } } },
        { name: 'web', match: { ports: httpPort }, action: { type: 'forward', protocol: 'http', target: { host: HOST, port: (be.address() as net.AddressInfo).port } } },
      ],
    });
    const flood = async (n: number, offset: number): Promise<void> => {
      const jobs: Array<Promise<void>> = [];
      for (let i = 0; i < n; i++) {
        const id = offset + i;
        // SNI: a random name per connection, from a different loopback address each time.
        jobs.push(
          new Promise<void>((resolve) => {
            const socket = net.connect({ host: HOST, port: sniPort, localAddress: `127.0.${(id >> 8) & 255}.${(id & 255) || 1}` });
            const s = tls.connect({ socket, servername: `r${id}-${Math.random().toString(36).slice(2)}.test`, rejectUnauthorized: false });
            socket.on('error', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
        );
        jobs.push(
          new Promise<void>((resolve) => {
            const req = http.get({ host: HOST, port: httpPort, path: `/p/${id}`, headers: { host: `h${id}.random.test` }, agent: false }, (r) => r.resume().on('end', resolve));
            req.on('error', () => resolve());
          }),
        );
        if (jobs.length >= 100) await Promise.all(jobs.splice(0));
      }
      await Promise.all(jobs);
    };
    await flood(200, 0);
    await waitFor(() => p.proxy.getStats().getActiveConnections() === 0, 10_000);
    const before = seriesCount((await p.proxy.telemetry!.scrape(false)).body.split('\nprocess_')[0]!);
    await flood(2000, 200);
    await waitFor(() => p.proxy.getStats().getActiveConnections() === 0, 20_000);
    const text = (await p.proxy.telemetry!.scrape(false)).body;
    const after = seriesCount(text.split('\nprocess_')[0]!);
    expect(after).toBe(before);
    expect(text).not.toMatch(/random\.test|\.test"|127\.0\.\d+\.\d+/);
    expect(p.events.events.length).toBeGreaterThanOrEqual(4400);
  }, 60_000);
});

const PROMTOOL = needCommand('promtool', 'prometheus');

describe('exposition', () => {
  it('OpenMetrics scrapes carry the connection trace id as an exemplar on the duration histograms', async () => {
    const exporter = new InMemorySpanExporter();
    const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy({ routes: [{ name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } }] }, { tracerProvider: provider });
    await echoRoundTrip(port, 'x');
    await p.events.next();
    const span = exporter.getFinishedSpans().find((x) => x.name === 'sightline.connection');
    expect(span).toBeDefined();
    const traceId = span!.spanContext().traceId;
    const om = await p.proxy.telemetry!.scrape(true);
    expect(om.contentType).toContain('application/openmetrics-text');
    expect(om.body).toMatch(new RegExp(`sightline_connection_duration_seconds_bucket\\{[^}]*route="echo"[^}]*\\} 1 # \\{trace_id="${traceId}"\\}`));
    expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om.body.match(/# EOF/g)).toHaveLength(1);
    // The plain text format has no exemplars, and counters keep their _total after an OpenMetrics scrape.
    const text = (await p.proxy.telemetry!.scrape(false)).body;
    expect(text).not.toContain('trace_id');
    expect(text).toContain('sightline_connections_closed_total{route="echo",reason="client_closed",initiator="client"} 1');
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it.skipIf(skipped(PROMTOOL))(titled('a live /metrics from the admin listener passes `promtool check metrics`', PROMTOOL), async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy({ admin: { enabled: true, port: 0 }, routes: [{ name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } }] });
    await echoRoundTrip(port, 'x');
    await p.events.next();
    const body = await new Promise<string>((resolve, reject) => {
      http.get(new URL('metrics', p.proxy.adminUrl!), (r) => {
        let b = '';
        r.on('data', (d) => (b += d));
        r.on('end', () => resolve(b));
      }).on('error', reject);
    });
    expect(body).toContain('sightline_connections_closed_total{route="echo",reason="client_closed",initiator="client"} 1');
    const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
    expect(`${check.stdout}${check.stderr}`).toBe('');
    expect(check.status).toBe(0);
  });
});
