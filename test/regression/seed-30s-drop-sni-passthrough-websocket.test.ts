/**
 * Regression: the seed guide's incident. WebSockets over SNI passthrough were dropped every
 * ~30 s: a heartbeat that cannot flow through encrypted bytes plus a 30 s half-zombie grace.
 * Here every "30 s" is scaled down to 300 ms; the connections must outlive 3× that.
 */
import { afterEach, describe, expect, it } from 'vitest';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import type { SightlineOptions } from '../../src/config/schema.js';
import { freePort, testCert, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';

const OLD_GRACE = 300; // stands for the reference's 30 s
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function wssBackend(pingEveryMs: number | null): Promise<{ port: number; pingsSent: () => number }> {
  const { key, cert } = await testCert();
  const server = https.createServer({ key, cert });
  const wss = new WebSocketServer({ server });
  let pings = 0;
  wss.on('connection', (ws) => {
    ws.on('message', (m) => ws.send(m));
    if (pingEveryMs !== null) {
      const t = setInterval(() => {
        pings++;
        ws.ping();
      }, pingEveryMs);
      ws.on('close', () => clearInterval(t));
    }
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, pingsSent: () => pings };
}

async function proxyTo(backendPort: number, extra: Partial<SightlineOptions>) {
  const port = await freePort();
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    inactivityCheckInterval: 50,
    lifecycle: {
      halfZombieGrace: OLD_GRACE,
      halfZombieGraceTls: OLD_GRACE,
      stuckThreshold: OLD_GRACE,
      stuckThresholdTls: OLD_GRACE,
      activitySampleInterval: 25,
    },
    ...extra,
    routes: [
      {
        name: 'websocket-passthrough',
        match: { ports: port, domains: ['localhost'] },
        action: {
          type: 'forward',
          target: { host: HOST, port: backendPort },
          tls: { mode: 'passthrough' },
          // A heartbeat configured on a passthrough route: the proxy must not (cannot) apply it.
          websocket: { pingInterval: 100, pingTimeout: 50 },
        },
      },
    ],
  } as SightlineOptions);
  cleanup.push(() => p.stop());
  return { p, port };
}

async function openClient(
  port: number,
): Promise<{ ws: WebSocket; closedAt: () => number | null; pingsSeen: () => number }> {
  const { cert } = await testCert();
  // SNI 'localhost' routes the connection; the certificate also covers 127.0.0.1.
  const ws = new WebSocket(`wss://${HOST}:${port}/`, {
    ca: cert,
    servername: 'localhost',
  } as unknown as import('ws').ClientOptions);
  let closedAt: number | null = null;
  let pings = 0;
  ws.on('close', () => (closedAt = Date.now()));
  ws.on('ping', () => pings++);
  ws.on('error', () => {});
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  cleanup.push(() => ws.terminate());
  return { ws, closedAt: () => closedAt, pingsSeen: () => pings };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function echoes(ws: WebSocket, text: string): Promise<boolean> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(false), 2000);
    ws.once('message', (m) => {
      clearTimeout(t);
      resolve(m.toString() === text);
    });
    ws.send(text);
  });
}

describe('regression: seed 30 s drop of WebSockets over SNI passthrough', () => {
  it('a passthrough WebSocket whose backend sends pings stays open across 3× the old grace', async () => {
    const be = await wssBackend(100);
    const { p, port } = await proxyTo(be.port, { keepAliveTreatment: 'standard', inactivityTimeout: 60_000 });
    const c = await openClient(port);
    await sleep(3 * OLD_GRACE + 200);
    expect(c.closedAt()).toBeNull();
    expect(c.pingsSeen()).toBeGreaterThanOrEqual(5); // the backend's pings flow through untouched
    expect(await echoes(c.ws, 'still-open')).toBe(true);
    expect(p.proxy.getStats().getActiveConnections()).toBe(1);
    expect(p.events.events).toHaveLength(0);
  });

  it('an idle passthrough WebSocket under extended stays open across 3× the old grace', async () => {
    const be = await wssBackend(null);
    const { p, port } = await proxyTo(be.port, {
      keepAliveTreatment: 'extended',
      inactivityTimeout: OLD_GRACE,
      keepAliveInactivityMultiplier: 10,
    });
    const c = await openClient(port);
    await sleep(3 * OLD_GRACE + 200);
    expect(c.closedAt()).toBeNull();
    expect(c.pingsSeen()).toBe(0); // no heartbeat was injected into the encrypted stream
    expect(await echoes(c.ws, 'idle-but-alive')).toBe(true);
    expect(p.events.events).toHaveLength(0);
  });

  it('control: the same idle connection under standard with the old timeout is killed (the test can fail)', async () => {
    const be = await wssBackend(null);
    const { p, port } = await proxyTo(be.port, { keepAliveTreatment: 'standard', inactivityTimeout: OLD_GRACE });
    const c = await openClient(port);
    await sleep(3 * OLD_GRACE + 200);
    expect(c.closedAt()).not.toBeNull();
    expect((await p.events.next()).reason).toBe('inactivity');
  });
});
