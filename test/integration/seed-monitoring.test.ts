/** The seed guide's monitoring snippet runs unchanged against SightlineProxy. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import diagnostics from 'node:diagnostics_channel';
import { CHANNEL_NAMES, type ProxyEvent } from '../../src/core/channels.js';
import { closed, connect, echoServer, freePort, readBytes, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('seed monitoring loop', () => {
  it('runs unchanged: stats, connections by route, long-lived connection report', async () => {
    const echo = await echoServer();
    const port = await freePort();
    const { proxy, stop } = await startProxy({
      routes: [
        {
          name: 'websocket-passthrough',
          match: { ports: port },
          action: { type: 'forward', target: { host: HOST, port: echo.port } },
        },
      ],
    });
    const s = await connect(port);
    s.write('x');
    await readBytes(s, 1);
    const logs: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      logs.push(args.map((a) => (a instanceof Map ? JSON.stringify([...a]) : String(a))).join(' '));
    });
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.now() + 6 * 60_000); // the connection is now six minutes old

    // ---- the seed guide's code, verbatim ----
    const stats = proxy.getStats();
    console.log('Active connections:', stats.getActiveConnections());
    console.log('Connections by route:', stats.getConnectionsByRoute());
    // Monitor long-lived connections
    const loop = setInterval(() => {
      const connections = proxy.connectionManager.getConnections();
      for (const [id, conn] of connections) {
        const age = Date.now() - conn.incomingStartTime;
        if (age > 300000) {
          // 5+ minutes
          console.log(`Long-lived connection: ${id}, age: ${age}ms, route: ${conn.routeName}`);
        }
      }
    }, 60000);
    // ---- end of the seed's code ----

    vi.advanceTimersByTime(60_000);
    clearInterval(loop);
    vi.useRealTimers();
    expect(logs[0]).toBe('Active connections: 1');
    expect(logs[1]).toBe('Connections by route: [["websocket-passthrough",1]]');
    expect(logs[2]).toMatch(/^Long-lived connection: \d+, age: 4\d{5}ms, route: websocket-passthrough$/);
    const rec = [...proxy.connectionManager.getConnections().values()][0]!;
    // The record fields compat-semantics §4 names, plus the close-relevant ones.
    expect(rec).toMatchObject({
      routeName: 'websocket-passthrough',
      remoteIP: '127.0.0.1',
      isTLS: false,
      hasKeepAlive: true,
      phase: 'tunnel',
    });
    expect(rec.bytesReceived).toBe(1);
    expect(rec.bytesSent).toBe(1);
    expect(typeof rec.lastActivity).toBe('number');
    expect(typeof rec.idleFor).toBe('number');
    expect(rec.effectiveIdleTimeout).toBe(14_400_000 * 6);
    s.end();
    await closed(s);
    await stop();
    await echo.close();
  });
});

describe('drain', () => {
  it('stop() publishes draining and stopped, lets a long-lived connection run until the timeout, then closes it with shutdown', async () => {
    const echo = await echoServer();
    const port = await freePort();
    const events: ProxyEvent[] = [];
    const fn = (m: unknown): void => void events.push(m as ProxyEvent);
    diagnostics.subscribe(CHANNEL_NAMES.proxy, fn);
    const p = await startProxy({
      gracefulShutdownTimeout: 400,
      routes: [
        { name: 'long', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      ],
    });
    const s = await connect(port);
    const t0 = Date.now();
    const stopping = p.proxy.stop();
    // Still carried while draining.
    s.write('during-drain');
    expect((await readBytes(s, 12)).toString()).toBe('during-drain');
    await stopping;
    await closed(s);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(350);
    const ev = await p.events.next();
    expect(ev.reason).toBe('shutdown');
    expect(ev.phase).toBe('tunnel');
    const mine = events.filter((e) => e.detail?.proxyId === p.proxy.id).map((e) => e.kind);
    expect(mine).toEqual(['started', 'draining', 'stopped']);
    diagnostics.unsubscribe(CHANNEL_NAMES.proxy, fn);
    p.events.dispose();
    await echo.close();
  });
});
