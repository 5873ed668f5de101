/** pino logs: one access line per connection (with trace ids), refusal floods summarised. */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { closed, echoRoundTrip, echoServer, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import type { SightlineOptions } from '../../src/config/schema.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

/** A pino logger whose lines are parsed back as JSON. */
function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info', base: { service: 'sightline' } }, sink), lines };
}

async function proxy(
  options: Partial<SightlineOptions> & Pick<SightlineOptions, 'routes'>,
  deps: object,
): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 100, ...options }, deps);
  cleanup.push(() => p.stop());
  return p;
}

describe('access log', () => {
  it('writes one JSON line per connection at close, with trace and span ids when tracing is on', async () => {
    const { logger, lines } = capture();
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
      { logger, tracerProvider: provider },
    );
    await echoRoundTrip(port, 'twelve bytes');
    await p.events.next();
    await waitFor(() => lines.some((l) => l.event === 'access'));
    const access = lines.filter((l) => l.event === 'access');
    expect(access).toHaveLength(1);
    const a = access[0]!;
    const span = exporter.getFinishedSpans().find((x) => x.name === 'sightline.connection')!;
    expect(a).toMatchObject({
      route: 'echo',
      client: '127.0.0.1',
      port,
      target: `${HOST}:${echo.port}`,
      mode: 'plain+tcp',
      bytesIn: 12,
      bytesOut: 12,
      reason: 'client_closed',
      initiator: 'client',
      phase: 'tunnel',
      traceId: span.spanContext().traceId,
      spanId: span.spanContext().spanId,
    });
    expect(typeof a.durationMs).toBe('number');
    expect(typeof a.idleAtCloseMs).toBe('number');
    expect(a.msg).toBe('connection closed');
  });

  it('logs the first refusals one by one and the rest of a flood as one summary', async () => {
    const { logger, lines } = capture();
    const port = await freePort();
    const p = await proxy(
      {
        defaults: { security: { ipBlockList: ['127.0.0.1'] } },
        routes: [{ name: 'x', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: 9 } } }],
      },
      { logger },
    );
    for (let i = 0; i < 50; i++) {
      const s = net.connect(port, HOST);
      s.on('error', () => {});
      await closed(s);
    }
    await waitFor(() => p.events.events.length === 50);
    await p.stop();
    const refused = lines.filter((l) => l.event === 'connection-refused');
    expect(refused).toHaveLength(5);
    expect(refused[0]).toMatchObject({ reason: 'ip_blocked', client: '127.0.0.1' });
    const summary = lines.filter((l) => l.event === 'rejections-summary');
    expect(summary).toHaveLength(1);
    expect(summary[0]).toMatchObject({ suppressed: 45, byReason: { ip_blocked: 45 } });
    expect(lines.filter((l) => l.event === 'access')).toHaveLength(0);
  });
});
