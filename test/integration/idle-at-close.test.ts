/**
 * Idle-at-close is measured up to the last application byte before any close handshake: when
 * Sightline ends a WebSocket itself (heartbeat timeout, drain), the peers' replies to its close
 * frames are not activity. Real `ws` clients and servers on loopback, short timers.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { SightlineOptions } from '../../src/config/schema.js';
import { freePort, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A WebSocket backend that answers close frames (as `ws` does) and says nothing else. */
async function silentBackend(): Promise<number> {
  const server = http.createServer();
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => ws.on('error', () => {}));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        server.close(() => r());
      }),
  );
  return (server.address() as AddressInfo).port;
}

async function proxy(
  backendPort: number,
  ws: { pingInterval: number; pingTimeout: number },
): Promise<{ p: RunningProxy; port: number }> {
  const port = await freePort();
  const p = await startProxy({
    gracefulShutdownTimeout: 300,
    inactivityCheckInterval: 50,
    lifecycle: { activitySampleInterval: 50 },
    routes: [
      {
        name: 'ws',
        match: { ports: port },
        action: { type: 'forward', target: { host: HOST, port: backendPort }, protocol: 'http', websocket: ws },
      },
    ],
  } as SightlineOptions);
  cleanup.push(() => p.stop());
  return { p, port };
}

/** A client that never answers pings but, like every `ws` client, answers a close frame. */
async function silentClient(port: number): Promise<WebSocket> {
  const ws = new WebSocket(`ws://${HOST}:${port}/`, { autoPong: false });
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanup.push(() => ws.terminate());
  return ws;
}

describe('idle at close on closes Sightline starts', () => {
  it('heartbeat timeout on a silent client: idle at close ≈ the silence, not 0', async () => {
    const be = await silentBackend();
    const { p, port } = await proxy(be, { pingInterval: 600, pingTimeout: 400 });
    await silentClient(port);
    const ev = await p.events.next((e) => e.conn.routeName === 'ws', 5_000);
    expect(ev.reason).toBe('heartbeat_timeout');
    expect(ev.websocket).toMatchObject({ closeFrame: true, closedBy: 'proxy' });
    // Silent since the 101 (one 50 ms sample late at most): ≈ pingInterval + pingTimeout.
    expect(ev.durationMs).toBeGreaterThanOrEqual(950);
    expect(ev.idleAtCloseMs).toBeGreaterThanOrEqual(ev.durationMs - 250);
    expect(ev.idleAtCloseMs).toBeLessThanOrEqual(ev.durationMs);
  });

  it('a client that spoke, then fell silent: idle at close counts from its last message', async () => {
    const be = await silentBackend();
    const { p, port } = await proxy(be, { pingInterval: 1_200, pingTimeout: 400 });
    const ws = await silentClient(port);
    await sleep(500);
    ws.send('last words');
    const ev = await p.events.next((e) => e.conn.routeName === 'ws', 5_000);
    expect(ev.reason).toBe('heartbeat_timeout');
    // The message went at ≈ 500 ms, the close at ≈ 1 600 ms.
    expect(ev.idleAtCloseMs).toBeGreaterThanOrEqual(ev.durationMs - 500 - 250);
    expect(ev.idleAtCloseMs).toBeLessThanOrEqual(ev.durationMs - 400);
  });

  it('drain: a WebSocket silent for 700 ms before stop() is closed idle ≈ 700 ms', async () => {
    const be = await silentBackend();
    const { p, port } = await proxy(be, { pingInterval: 0, pingTimeout: 0 });
    await silentClient(port);
    await sleep(700);
    const stopped = p.stop();
    const ev = await p.events.next((e) => e.conn.routeName === 'ws', 5_000);
    await stopped;
    expect(ev.reason).toBe('shutdown');
    expect(ev.idleAtCloseMs).toBeGreaterThanOrEqual(500);
  });
});
