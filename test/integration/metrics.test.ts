/**
 * Metrics after scripted scenarios: every close lands in the right counters and buckets. Label
 * values under floods of random names, exemplars and promtool: metrics-exposition.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { ManualClock } from '../../src/core/clock.js';
import { closed, connect, echoRoundTrip, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { cleanup, proxy, metricsOf, value } from '../helpers/metrics-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('metrics after scenarios', () => {
  it('counts accepted, closed (route, reason, initiator), bytes and connect durations for a normal echo', async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy({
      routes: [
        { name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      ],
    });
    await echoRoundTrip(port, 'hello metrics');
    await p.events.next();
    const m = await metricsOf(p);
    expect(value(m, 'sightline_connections_accepted_total', { port })).toBe(1);
    expect(
      value(m, 'sightline_connections_closed_total', { route: 'echo', reason: 'client_closed', initiator: 'client' }),
    ).toBe(1);
    expect(value(m, 'sightline_bytes_total', { route: 'echo', direction: 'in' })).toBe(13);
    expect(value(m, 'sightline_bytes_total', { route: 'echo', direction: 'out' })).toBe(13);
    expect(
      value(
        m,
        'sightline_backend_connect_duration_seconds',
        { route: 'echo' },
        'sightline_backend_connect_duration_seconds_count',
      ),
    ).toBe(1);
    expect(
      value(
        m,
        'sightline_connection_duration_seconds',
        { route: 'echo', initiator: 'client' },
        'sightline_connection_duration_seconds_count',
      ),
    ).toBe(1);
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
        {
          name: 'sni',
          match: { ports: p3, domains: 'a.test' },
          action: { type: 'forward', target: { host: HOST, port: dead }, tls: { mode: 'passthrough' } },
        },
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
    expect(
      value(m, 'sightline_backend_connect_failures_total', { route: 'down', reason: 'backend_connect_failed' }),
    ).toBe(1);
    expect(value(m, 'sightline_connections_rejected_total', { route: 'none', reason: 'ip_connection_limit' })).toBe(1);
    expect(value(m, 'sightline_limit_rejections_total', { limit: 'ip_connection_limit' })).toBe(1);
    expect(value(m, 'sightline_client_hello_failures_total', { port: p3, reason: 'client_hello_invalid' })).toBe(1);
    // Refusals are not connections that lived: they stay out of the duration histogram (the one
    // unrouted connection there is the bad ClientHello).
    expect(
      value(
        m,
        'sightline_connection_duration_seconds',
        { route: 'none' },
        'sightline_connection_duration_seconds_count',
      ),
    ).toBe(1);
  });

  it('puts a 30 s connection between the 28 s and 32 s edges, and labels an inactivity kill with its treatment', async () => {
    const clock = new ManualClock(1_700_000_000_000);
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy(
      {
        keepAliveTreatment: 'standard',
        inactivityTimeout: 30_000,
        routes: [
          {
            name: 'idle',
            match: { ports: port },
            action: { type: 'forward', target: { host: HOST, port: echo.port } },
          },
        ],
      },
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
    const bucket = (le: number): number =>
      value(
        m,
        'sightline_connection_duration_seconds',
        { route: 'idle', initiator: 'proxy', le },
        'sightline_connection_duration_seconds_bucket',
      );
    expect(bucket(28)).toBe(0);
    expect(bucket(32)).toBe(1);
    const idle = (le: number): number =>
      value(
        m,
        'sightline_connection_idle_at_close_seconds',
        { route: 'idle', initiator: 'proxy', le },
        'sightline_connection_idle_at_close_seconds_bucket',
      );
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
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          be.closeAllConnections();
          be.close(() => r());
        }),
    );
    const port = await freePort();
    const p = await proxy({
      routes: [
        {
          name: 'web',
          match: { ports: port },
          action: {
            type: 'forward',
            protocol: 'http',
            target: { host: HOST, port: (be.address() as net.AddressInfo).port },
          },
        },
      ],
    });
    for (const path of ['/', '/', '/missing']) {
      await new Promise<void>((resolve, reject) =>
        http.get({ host: HOST, port, path }, (r) => r.resume().on('end', resolve)).on('error', reject),
      );
    }
    await waitFor(() => p.requests.events.length === 3);
    const m = await metricsOf(p);
    expect(
      value(m, 'sightline_http_requests_total', { route: 'web', status_class: '2xx', reason: 'http_completed' }),
    ).toBe(2);
    expect(
      value(m, 'sightline_http_requests_total', { route: 'web', status_class: '4xx', reason: 'http_completed' }),
    ).toBe(1);
    expect(
      value(
        m,
        'sightline_http_request_duration_seconds',
        { route: 'web', status_class: '2xx' },
        'sightline_http_request_duration_seconds_count',
      ),
    ).toBe(2);
  });
});
