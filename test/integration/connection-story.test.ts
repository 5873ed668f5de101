/**
 * The connection story (issue 14 point 5): the configuration generation on close records, access
 * lines, spans and reload events; milestones (hello, routed, upstream, first and last byte each
 * way) in order on real passthrough, HTTP and tunnel connections; progress records of long-lived
 * connections (log lines and span events with growing bytes), off when the interval is 0.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { closed, connect, echoServer, freePort, readBytes, tlsTaggedServer, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import type { SightlineOptions } from '../../src/config/schema.js';

type Line = Record<string, unknown>;
type Milestones = Partial<
  Record<'hello' | 'routed' | 'upstream' | 'c2bFirst' | 'c2bLast' | 'b2cFirst' | 'b2cLast', number>
>;

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function capture(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Line);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

function tracer(): { provider: TracerProvider; spans(): Promise<ReadableSpan[]> } {
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  return {
    provider,
    async spans() {
      await provider.forceFlush();
      return exporter.getFinishedSpans().filter((s) => s.name === 'sightline.connection');
    },
  };
}

async function proxy(
  options: Partial<SightlineOptions> & Pick<SightlineOptions, 'routes'>,
  deps: object,
): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 100, ...options }, deps);
  cleanup.push(() => p.stop());
  return p;
}

async function server<
  T extends {
    close(cb?: () => void): unknown;
    listen(port: number, host: string, cb: () => void): unknown;
    address(): unknown;
  },
>(s: T): Promise<number> {
  await new Promise<void>((r) => s.listen(0, HOST, r));
  cleanup.push(() => new Promise<void>((r) => s.close(() => r())));
  return (s.address() as net.AddressInfo).port;
}

/** The offsets are whole ms from accept, in the order a connection's life goes. */
function expectInOrder(m: Milestones, durationMs: number, names: Array<keyof Milestones>): void {
  let prev = 0;
  for (const n of names) {
    const v = m[n];
    expect(v, `${n} in ${JSON.stringify(m)}`).toBeTypeOf('number');
    expect(v!, `${n} after the one before it in ${JSON.stringify(m)}`).toBeGreaterThanOrEqual(prev);
    prev = v!;
  }
  expect(prev).toBeLessThanOrEqual(durationMs);
}

const accessOf = (lines: Line[], route: string): Line[] =>
  lines.filter((l) => l.event === 'access' && l.route === route);

describe('milestones in the access line and the span', () => {
  it('passthrough: accept ≤ hello ≤ routed ≤ upstream ≤ first bytes ≤ last bytes, each way', async () => {
    const { logger, lines } = capture();
    const t = tracer();
    const backend = await tlsTaggedServer('T');
    cleanup.push(() => backend.close());
    const port = await freePort();
    const p = await proxy(
      {
        routes: [
          {
            name: 'pt',
            match: { ports: port, domains: 'a.test' },
            action: { type: 'forward', target: { host: HOST, port: backend.port }, tls: { mode: 'passthrough' } },
          },
        ],
      },
      { logger, tracerProvider: t.provider },
    );
    const s = tls.connect({ host: HOST, port, servername: 'a.test', rejectUnauthorized: false });
    await readBytes(s as unknown as net.Socket, 'T:a.test'.length);
    await sleep(40);
    s.write('ping');
    await readBytes(s as unknown as net.Socket, 4);
    s.end();
    await closed(s as unknown as net.Socket);
    await waitFor(() => accessOf(lines, 'pt').length === 1, 5000, 'the access line');
    const a = accessOf(lines, 'pt')[0]!;
    const m = a.milestonesMs as Milestones;
    expect(a.configGeneration).toBe(1);
    expectInOrder(m, a.durationMs as number, ['hello', 'routed', 'upstream', 'c2bFirst', 'c2bLast']);
    expectInOrder(m, a.durationMs as number, ['upstream', 'b2cFirst', 'b2cLast']);
    // The ClientHello went out at connect; 'ping' 40 ms after the handshake: the last byte is later.
    expect(m.c2bLast! - m.c2bFirst!).toBeGreaterThanOrEqual(35);
    expect(m.b2cLast! - m.b2cFirst!).toBeGreaterThanOrEqual(35);
    const span = (await t.spans()).find((x) => x.attributes['sightline.route'] === 'pt')!;
    expect(span.attributes['sightline.config.generation']).toBe(1);
    expect(span.attributes['sightline.milestone.hello_ms']).toBe(m.hello);
    expect(span.attributes['sightline.milestone.upstream_ms']).toBe(m.upstream);
    expect(span.attributes['sightline.milestone.c2b_last_ms']).toBe(m.c2bLast);
    expect(span.attributes['sightline.milestone.b2c_first_ms']).toBe(m.b2cFirst);
    // The status page's close record lists them among its moments, in time order.
    const rec = p.proxy.telemetry!.closeRecords({ id: a.connectionId as number, limit: 1 })[0]!;
    expect(rec.configGeneration).toBe(1);
    const names = rec.milestones.map((x) => x.name);
    for (const n of [
      'accepted',
      'ClientHello parsed',
      'routed',
      'backend connected',
      'first byte client → backend',
      'last byte backend → client',
      'closed',
    ])
      expect(names).toContain(n);
    expect(names.indexOf('ClientHello parsed')).toBeLessThan(names.indexOf('first byte client → backend'));
    expect(rec.milestones.find((x) => x.name === 'last byte client → backend')!.at - rec.openedAt).toBe(m.c2bLast);
  });

  it('HTTP: no hello on a plain port; upstream at the first request; last bytes at the second request', async () => {
    const { logger, lines } = capture();
    const t = tracer();
    const backendPort = await server(http.createServer((_req, res) => res.end('ok')));
    const port = await freePort();
    await proxy(
      {
        routes: [
          {
            name: 'web',
            match: { ports: port },
            action: { type: 'forward', protocol: 'http', target: { host: HOST, port: backendPort } },
          },
        ],
      },
      { logger, tracerProvider: t.provider },
    );
    const s = await connect(port);
    const responses: string[] = [];
    let got = '';
    s.on('data', (d: Buffer) => (got += d.toString()));
    s.write('GET /one HTTP/1.1\r\nHost: x\r\n\r\n');
    await waitFor(() => got.includes('ok'), 5000, 'first response');
    responses.push(got);
    await sleep(40);
    s.write('GET /two HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    await closed(s);
    expect(got.match(/HTTP\/1\.1 200/g)).toHaveLength(2);
    await waitFor(() => accessOf(lines, 'web').length === 1, 5000, 'the access line');
    const a = accessOf(lines, 'web')[0]!;
    const m = a.milestonesMs as Milestones;
    expect(m.hello).toBeUndefined();
    expectInOrder(m, a.durationMs as number, ['routed', 'upstream', 'c2bFirst', 'b2cFirst', 'c2bLast', 'b2cLast']);
    expect(m.c2bLast! - m.c2bFirst!).toBeGreaterThanOrEqual(35);
    expect(m.b2cLast! - m.b2cFirst!).toBeGreaterThanOrEqual(35);
    expect(a).toMatchObject({ configGeneration: 1, requests: 2 });
    const span = (await t.spans()).find((x) => x.attributes['sightline.route'] === 'web')!;
    expect(span.attributes['sightline.milestone.hello_ms']).toBeUndefined();
    expect(span.attributes['sightline.milestone.b2c_last_ms']).toBe(m.b2cLast);
  });

  it('a connection refused before routing has no milestones past accept', async () => {
    const { logger, lines } = capture();
    const port = await freePort();
    await proxy(
      {
        routes: [
          {
            name: 'sni',
            match: { ports: port, domains: 'only.test' },
            action: { type: 'forward', target: { host: HOST, port: 9 } },
          },
        ],
        initialDataTimeout: 200,
      },
      { logger },
    );
    const s = await connect(port);
    s.write('not a client hello at all\r\n');
    await closed(s);
    await waitFor(() => lines.some((l) => l.event === 'access'), 5000, 'the access line');
    const a = lines.find((l) => l.event === 'access')!;
    expect(a.milestonesMs).toEqual({});
    expect(a.configGeneration).toBe(1);
  });
});

describe('configuration generation', () => {
  it('refusal lines carry it too', async () => {
    const { logger, lines } = capture();
    const port = await freePort();
    const p = await proxy(
      {
        defaults: { security: { ipBlockList: ['127.0.0.1'] } },
        routes: [{ name: 'x', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: 9 } } }],
      },
      { logger },
    );
    await p.proxy.updateRoutes([
      { name: 'x', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: 9 } } },
    ]);
    const s = net.connect(port, HOST);
    s.on('error', () => {});
    await closed(s);
    await waitFor(() => lines.some((l) => l.event === 'connection-refused'), 5000, 'the refusal line');
    expect(lines.find((l) => l.event === 'connection-refused')).toMatchObject({
      reason: 'ip_blocked',
      configGeneration: 2,
    });
  });

  it('a route update bumps it for new connections; a live one keeps its own; the reload line says old → new', async () => {
    const { logger, lines } = capture();
    const t = tracer();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const routes = [
      {
        name: 'echo',
        match: { ports: port },
        action: { type: 'forward' as const, target: { host: HOST, port: echo.port } },
      },
    ];
    const p = await proxy({ routes }, { logger, tracerProvider: t.provider });
    const old = await connect(port);
    old.write('a');
    await readBytes(old, 1);
    await p.proxy.updateRoutes(routes);
    expect(p.proxy.getStats().getConfigGeneration()).toBe(2);
    const reload = lines.find((l) => l.event === 'proxy-routes-updated')!;
    expect(reload).toMatchObject({ generation: 2, previousGeneration: 1, msg: 'configuration generation 1 → 2' });
    const fresh = await connect(port);
    fresh.write('b');
    await readBytes(fresh, 1);
    fresh.end();
    await closed(fresh);
    old.write('c');
    await readBytes(old, 1);
    old.end();
    await closed(old);
    await waitFor(() => accessOf(lines, 'echo').length === 2, 5000, 'two access lines');
    const byPort = (s: net.Socket): Line => accessOf(lines, 'echo').find((l) => l.clientPort === s.localPort)!;
    expect(byPort(old).configGeneration).toBe(1);
    expect(byPort(fresh).configGeneration).toBe(2);
    const spans = await t.spans();
    const gens = spans.map((s) => [s.attributes['client.port'], s.attributes['sightline.config.generation']]);
    expect(gens).toContainEqual([old.localPort, 1]);
    expect(gens).toContainEqual([fresh.localPort, 2]);
  });
});

describe('progress records of long-lived connections', () => {
  async function longLived(
    progressInterval: number,
  ): Promise<{ lines: Line[]; spans: ReadableSpan[]; sock: net.Socket }> {
    const { logger, lines } = capture();
    const t = tracer();
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    await proxy(
      {
        telemetry: { progressInterval },
        routes: [
          { name: 'ws', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
        ],
      },
      { logger, tracerProvider: t.provider },
    );
    const sock = await connect(port);
    // A short connection beside it: never old enough for a record.
    const brief = await connect(port);
    brief.end();
    await closed(brief);
    for (let i = 0; i < 12; i++) {
      sock.write('0123456789');
      await readBytes(sock, 10);
      await sleep(100);
    }
    sock.end();
    await closed(sock);
    await waitFor(() => accessOf(lines, 'ws').length === 2, 5000, 'the access lines');
    return { lines, spans: await t.spans(), sock };
  }

  it('every progressInterval: a log line and a span event with growing bytes, age, idle, phase, generation', async () => {
    const { lines, spans, sock } = await longLived(300);
    const progress = lines.filter((l) => l.event === 'connection-progress');
    expect(progress.length).toBeGreaterThanOrEqual(2);
    // Only the long-lived one; the brief connection closed long before 300 ms.
    expect(new Set(progress.map((l) => l.connectionId)).size).toBe(1);
    for (const l of progress) {
      expect(l).toMatchObject({
        msg: 'connection progress',
        level: 30,
        route: 'ws',
        phase: 'tunnel',
        configGeneration: 1,
        mode: 'plain+tcp',
      });
      expect(l.ageMs as number).toBeGreaterThanOrEqual(300);
      expect(l.idleMs).toBeTypeOf('number');
      expect(l.traceId).toBeTypeOf('string');
    }
    const bytesIn = progress.map((l) => l.bytesIn as number);
    const ages = progress.map((l) => l.ageMs as number);
    for (let i = 1; i < progress.length; i++) {
      expect(bytesIn[i]!).toBeGreaterThan(bytesIn[i - 1]!);
      expect(ages[i]! - ages[i - 1]!).toBeGreaterThanOrEqual(250);
    }
    expect(progress.map((l) => l.bytesOut)).toEqual(bytesIn); // an echo: as many back
    const span = spans.find((s) => s.attributes['client.port'] === sock.localPort)!;
    const events = span.events.filter((e) => e.name === 'connection-progress');
    expect(events.length).toBe(progress.length);
    expect(events.map((e) => e.attributes!['sightline.bytes.from_client'])).toEqual(bytesIn);
    expect(events[0]!.attributes).toMatchObject({
      'sightline.phase': 'tunnel',
      'sightline.config.generation': 1,
      'sightline.route': 'ws',
    });
  });

  it('progressInterval 0: no progress records at all', async () => {
    const { lines, spans } = await longLived(0);
    expect(lines.filter((l) => l.event === 'connection-progress')).toEqual([]);
    expect(spans.flatMap((s) => s.events).filter((e) => e.name === 'connection-progress')).toEqual([]);
  });
});
