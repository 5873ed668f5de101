/**
 * Cross-hop correlation (issue 14): proxy A sends its connection's unique id in a PROXY v2
 * PP2_TYPE_UNIQUE_ID TLV; proxy B behind it records it as previousHopId next to its own unique
 * id, in the access log, the span, the close event and the admin API. Real sockets end to end.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { closed, connect, echoServer, freePorts, readBytes, waitFor, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

const TOKEN = 'corr-token';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

async function chain(send: 'v1' | 'v2') {
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const [pa, pb] = await freePorts(2);
  const bLog = capture();
  const exporter = new InMemorySpanExporter();
  const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
  const b = await startProxy(
    {
      gracefulShutdownTimeout: 100,
      acceptProxyProtocol: true,
      proxyIPs: ['127.0.0.1'],
      admin: { host: HOST, port: 0, token: TOKEN },
      routes: [
        { name: 'inner', match: { ports: pb }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      ],
    },
    { logger: bLog.logger, tracerProvider: provider },
  );
  cleanup.push(() => b.stop());
  const a = await startProxy({
    gracefulShutdownTimeout: 100,
    routes: [
      {
        name: 'outer',
        match: { ports: pa },
        action: { type: 'forward', target: { host: HOST, port: pb }, sendProxyProtocol: send },
      },
    ],
  });
  cleanup.push(() => a.stop());
  return { a, b, pa, bLines: bLog.lines, exporter };
}

describe('cross-hop correlation', () => {
  it('v2: the next hop logs, traces and shows our unique id as its previousHopId', async () => {
    const { a, b, pa, bLines, exporter } = await chain('v2');
    const s = await connect(pa);
    s.write('hello');
    expect((await readBytes(s, 5)).toString()).toBe('hello');
    const outer = [...a.proxy.connectionManager.getConnections().values()][0]!;
    const inner = [...b.proxy.connectionManager.getConnections().values()][0]!;
    expect(outer.uniqueId).toMatch(/^[0-9a-f]{36}$/);
    expect(inner.uniqueId).toMatch(/^[0-9a-f]{36}$/);
    expect(inner.uniqueId).not.toBe(outer.uniqueId);
    expect(outer.previousHopId).toBeNull();
    expect(inner.previousHopId).toBe(outer.uniqueId);

    // The admin API of the inner hop, while open.
    const res = await fetch(new URL('/api/connections', b.proxy.adminUrl!), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    const list = (await res.json()) as { items: Array<Record<string, unknown>> };
    expect(list.items[0]).toMatchObject({ id: inner.id, uniqueId: inner.uniqueId, previousHopId: outer.uniqueId });

    const gone = closed(s);
    s.end();
    await gone;
    const ev = await b.events.next();
    expect(ev.conn.uniqueId).toBe(inner.uniqueId);
    expect(ev.conn.previousHopId).toBe(outer.uniqueId);
    await waitFor(() => bLines.some((l) => l.event === 'access'));
    expect(bLines.find((l) => l.event === 'access')).toMatchObject({
      uniqueId: inner.uniqueId,
      previousHopId: outer.uniqueId,
    });
    await waitFor(() => exporter.getFinishedSpans().some((x) => x.name === 'sightline.connection'));
    const span = exporter.getFinishedSpans().find((x) => x.name === 'sightline.connection')!;
    expect(span.attributes).toMatchObject({
      'sightline.connection.unique_id': inner.uniqueId,
      'sightline.connection.previous_hop_id': outer.uniqueId,
    });
    // ... and after the close, in its close record.
    const one = await fetch(new URL(`/api/connection?id=${inner.id}`, b.proxy.adminUrl!), {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await one.json()) as { close: Record<string, unknown> }).close).toMatchObject({
      uniqueId: inner.uniqueId,
      previousHopId: outer.uniqueId,
    });
  });

  it('v1 carries no TLVs: the next hop has its own unique id and no previousHopId', async () => {
    const { a, b, pa, bLines } = await chain('v1');
    const s = await connect(pa);
    s.write('hi');
    expect((await readBytes(s, 2)).toString()).toBe('hi');
    expect([...a.proxy.connectionManager.getConnections().values()]).toHaveLength(1);
    const gone = closed(s);
    s.end();
    await gone;
    await b.events.next();
    await waitFor(() => bLines.some((l) => l.event === 'access'));
    expect(bLines.find((l) => l.event === 'access')).toMatchObject({
      uniqueId: expect.stringMatching(/^[0-9a-f]{36}$/),
      previousHopId: null,
    });
  });
});
