// Metrics exposition through a real proxy: bounded cardinality under random client input, OpenMetrics
// exemplars carrying the trace id, and promtool's check of the scrape.
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { echoRoundTrip, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { needCommand, skipped, titled } from '../helpers/needs.js';
import { cleanup, proxy, seriesCount } from '../helpers/metrics-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('cardinality', () => {
  it('thousands of random SNI names, Host headers and client addresses add no series', async () => {
    const dead = await freePort();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const [sniPort, httpPort] = await Promise.all([freePort(), freePort()]);
    const be = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => be.listen(0, HOST, r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          be.closeAllConnections();
          be.close(() => r());
        }),
    );
    const p = await proxy({
      defaults: { target: { host: HOST, port: dead } },
      routes: [
        {
          name: 'known',
          match: { ports: sniPort, domains: 'known.test' },
          action: { type: 'forward', target: { host: HOST, port: echo.port }, tls: { mode: 'passthrough' } },
        },
        {
          name: 'web',
          match: { ports: httpPort },
          action: {
            type: 'forward',
            protocol: 'http',
            target: { host: HOST, port: (be.address() as net.AddressInfo).port },
          },
        },
      ],
    });
    const flood = async (n: number, offset: number): Promise<void> => {
      const jobs: Array<Promise<void>> = [];
      for (let i = 0; i < n; i++) {
        const id = offset + i;
        // SNI: a random name per connection, from a different loopback address each time.
        jobs.push(
          new Promise<void>((resolve) => {
            const socket = net.connect({
              host: HOST,
              port: sniPort,
              localAddress: `127.0.${(id >> 8) & 255}.${id & 255 || 1}`,
            });
            const s = tls.connect({
              socket,
              servername: `r${id}-${Math.random().toString(36).slice(2)}.test`,
              rejectUnauthorized: false,
            });
            socket.on('error', () => resolve());
            s.on('error', () => resolve());
            s.on('close', () => resolve());
          }),
        );
        jobs.push(
          new Promise<void>((resolve) => {
            const req = http.get(
              { host: HOST, port: httpPort, path: `/p/${id}`, headers: { host: `h${id}.random.test` }, agent: false },
              (r) => r.resume().on('end', resolve),
            );
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
    const p = await proxy(
      {
        routes: [
          {
            name: 'echo',
            match: { ports: port },
            action: { type: 'forward', target: { host: HOST, port: echo.port } },
          },
        ],
      },
      { tracerProvider: provider },
    );
    await echoRoundTrip(port, 'x');
    await p.events.next();
    const span = exporter.getFinishedSpans().find((x) => x.name === 'sightline.connection');
    expect(span).toBeDefined();
    const traceId = span!.spanContext().traceId;
    const om = await p.proxy.telemetry!.scrape(true);
    expect(om.contentType).toContain('application/openmetrics-text');
    expect(om.body).toMatch(
      new RegExp(
        `sightline_connection_duration_seconds_bucket\\{[^}]*route="echo"[^}]*\\} 1 # \\{trace_id="${traceId}"\\}`,
      ),
    );
    expect(om.body.trimEnd().endsWith('# EOF')).toBe(true);
    expect(om.body.match(/# EOF/g)).toHaveLength(1);
    // The plain text format has no exemplars, and counters keep their _total after an OpenMetrics scrape.
    const text = (await p.proxy.telemetry!.scrape(false)).body;
    expect(text).not.toContain('trace_id');
    expect(text).toContain(
      'sightline_connections_closed_total{route="echo",reason="client_closed",initiator="client"} 1',
    );
    expect(text).toContain('# TYPE process_cpu_seconds_total counter');
  });

  it.skipIf(skipped(PROMTOOL))(
    titled('a live /metrics from the admin listener passes `promtool check metrics`', PROMTOOL),
    async () => {
      const echo = await echoServer();
      cleanup.push(() => echo.close());
      const port = await freePort();
      const p = await proxy({
        admin: { enabled: true, port: 0 },
        routes: [
          {
            name: 'echo',
            match: { ports: port },
            action: { type: 'forward', target: { host: HOST, port: echo.port } },
          },
        ],
      });
      await echoRoundTrip(port, 'x');
      await p.events.next();
      const body = await new Promise<string>((resolve, reject) => {
        http
          .get(new URL('metrics', p.proxy.adminUrl!), (r) => {
            let b = '';
            r.on('data', (d) => (b += d));
            r.on('end', () => resolve(b));
          })
          .on('error', reject);
      });
      expect(body).toContain(
        'sightline_connections_closed_total{route="echo",reason="client_closed",initiator="client"} 1',
      );
      const check = spawnSync('promtool', ['check', 'metrics'], { input: body, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
    },
  );
});
