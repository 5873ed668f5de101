/**
 * WebSockets through Sightline with real `ws` clients and servers: echo over TLS termination,
 * the proxy's heartbeat, and HTTP timers that must not touch an upgraded stream. Passthrough,
 * the detached upstream socket and the close reasons: websocket-streams.test.ts.
 * Timers are configured in milliseconds; the 60–120 s cases run on a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ManualClock } from '../../src/core/clock.js';
import { certFor, freePort, waitFor, HOST } from '../helpers/net.js';
import {
  cleanup,
  sleep,
  type WsOpts,
  wsBackend,
  openClient,
  roundTrip,
  expectEcho,
  within,
  proxy,
  httpRoute,
  onlyRelay,
} from '../helpers/ws-proxy-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

// ---- tests ----------------------------------------------------------------------------------

describe('WebSocket over TLS termination', () => {
  it('echoes text and a 200 KB binary message; a client close 1000 is ws_closed by the client', async () => {
    const pem = await certFor('ws.test');
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({
      routes: [
        {
          name: 'wss',
          match: { ports: port, domains: 'ws.test' },
          action: {
            type: 'forward',
            target: { host: HOST, port: be.port },
            tls: { mode: 'terminate', certificate: pem },
          },
        },
      ],
    });
    const c = await openClient(`wss://${HOST}:${port}/chat`, {
      ca: pem.cert,
      servername: 'ws.test',
      headers: { host: 'ws.test' },
    });

    await expectEcho(c.ws, 'hello through TLS');
    const big = randomBytes(200 * 1024);
    const r = await roundTrip(c.ws, big);
    expect(r.isBinary).toBe(true);
    expect(r.data.length).toBe(big.length);
    expect(r.data.equals(big)).toBe(true);
    expect(be.conns).toHaveLength(1);
    expect(be.conns[0]!.messages.map((m) => m.length)).toEqual([17, 200 * 1024]);

    c.ws.close(1000, 'done');
    expect((await within(c.closed, 3000, 'client close')).code).toBe(1000);
    expect(await within(be.conns[0]!.closed, 3000, 'backend close')).toBe(1000);

    const ev = await p.events.next((e) => e.conn.routeName === 'wss');
    expect(ev.reason).toBe('ws_closed');
    expect(ev.initiator).toBe('client');
    expect(ev.conn.isTLS).toBe(true);
    expect(ev.websocket).toMatchObject({ closeCode: 1000, closeFrame: true, closedBy: 'client' });

    const req = await p.requests.next((e) => e.routeName === 'wss');
    expect(req).toMatchObject({
      method: 'GET',
      status: 101,
      statusClass: '1xx',
      upgraded: true,
      reason: 'http_completed',
      reusedUpstream: false,
    });
    expect(p.requests.events).toHaveLength(1);
  });
});

describe('heartbeat', () => {
  it('closes a client that never answers pings: 1001 to both peers, heartbeat_timeout', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ routes: [httpRoute('hb-dead', port, be.port, { pingInterval: 100, pingTimeout: 150 })] });
    const c = await openClient(`ws://${HOST}:${port}/`, { autoPong: false });
    const openedAt = Date.now();
    const closed = await within(c.closed, 2000, 'heartbeat close');
    const elapsed = Date.now() - openedAt;
    expect(closed.code).toBe(1001);
    expect(closed.reason).toBe('heartbeat timeout');
    // Never before pingInterval + pingTimeout (minus the 101's trip to the client).
    expect(elapsed).toBeGreaterThanOrEqual(200);
    expect(elapsed).toBeLessThan(1500);
    expect(c.pings.length).toBeGreaterThanOrEqual(1);

    const ev = await p.events.next((e) => e.conn.routeName === 'hb-dead');
    expect(ev.reason).toBe('heartbeat_timeout');
    expect(ev.initiator).toBe('proxy');
    expect(ev.websocket).toBeDefined();
    expect(ev.websocket!.pingsSent).toBeGreaterThanOrEqual(1);
    expect(ev.websocket!.pongsReceived).toBe(0);
    expect(ev.websocket).toMatchObject({ closeCode: 1001, closeFrame: true, closedBy: 'proxy' });
    expect(c.pings[0]!.toString()).toBe(`sightline:${ev.conn.id}:1`);
    // The backend was told too, with the same code.
    expect(await within(be.conns[0]!.closed, 3000, 'backend close')).toBe(1001);
    expect(be.conns[0]!.pongs).toBe(0);
  });

  it('keeps an answering client open, and the backend never sees the proxy’s pings or pongs', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ routes: [httpRoute('hb-alive', port, be.port, { pingInterval: 100, pingTimeout: 150 })] });
    const c = await openClient(`ws://${HOST}:${port}/`);
    await sleep(800);
    expect(c.isClosed()).toBe(false);
    expect(c.pings.length).toBeGreaterThanOrEqual(3);
    await expectEcho(c.ws, 'alive after pings');
    const b = be.conns[0]!;
    expect(b.pings).toBe(0);
    expect(b.pongs).toBe(0);
    expect(b.messages.map(String)).toEqual(['alive after pings']);
    const pingsSeen = c.pings.length;

    c.ws.close(1000);
    expect((await within(c.closed, 3000, 'client close')).code).toBe(1000);
    const ev = await p.events.next((e) => e.conn.routeName === 'hb-alive');
    expect(ev.reason).toBe('ws_closed');
    expect(ev.initiator).toBe('client');
    expect(ev.websocket!.pongsReceived).toBeGreaterThanOrEqual(3);
    expect(ev.websocket!.pingsSent).toBeGreaterThanOrEqual(pingsSeen);
    // At most one ping can be unanswered when the client leaves.
    expect(ev.websocket!.pingsSent - ev.websocket!.pongsReceived).toBeLessThanOrEqual(1);
    expect(c.pings.map(String).slice(0, 3)).toEqual([1, 2, 3].map((n) => `sightline:${ev.conn.id}:${n}`));
    // Still nothing heartbeat-related reached the backend.
    expect(b.pings).toBe(0);
    expect(b.pongs).toBe(0);
  });
});

describe('HTTP timers stop at the upgrade', () => {
  /** A proxy on a ManualClock (timers move only with `step`) in front of a ws backend. */
  async function manualRig(websocket: WsOpts) {
    const be = await wsBackend();
    const port = await freePort();
    const clock = new ManualClock(); // a multiple of the 50 ms wheel resolution
    const p = await proxy({ routes: [httpRoute('manual', port, be.port, websocket)] }, { clock, autoTick: false });
    const c = await openClient(`ws://${HOST}:${port}/`);
    await waitFor(() => be.conns.length === 1, 2000, 'backend connection');
    return { be, p, c, clock };
  }

  it('an idle upgraded socket outlives 120 s of default HTTP timeouts (heartbeat off, ManualClock)', async () => {
    const { be, p, c, clock } = await manualRig({ pingInterval: 0 });
    const start = clock.now();
    // Past requestHeadersTimeout (10 s), responseTimeout and Node's headersTimeout (60 s),
    // keepAliveTimeout (75 s) and the plain stuck threshold (60 s).
    while (clock.now() - start < 120_000) {
      await sleep(10);
      clock.advance(5_000);
      p.proxy.tick();
    }
    expect(clock.now() - start).toBe(120_000);
    expect(c.isClosed()).toBe(false);
    expect(p.proxy.getStats().getActiveConnections()).toBe(1);
    expect(p.events.events).toHaveLength(0);
    expect(c.pings).toHaveLength(0);
    await expectEcho(c.ws, 'after two idle minutes');
    expect(be.conns[0]!.closeCode).toBeNull();
    // Only the upgrade exchange was ever reported: no 408 / 504 / keep-alive close.
    expect(p.requests.events.map((e) => e.status)).toEqual([101]);
  });

  it('with the default heartbeat (30 s / 10 s) an answering client gets 4 pings in 120 s and stays open (ManualClock)', async () => {
    const { p, c, clock } = await manualRig({});
    const relay = onlyRelay(p);
    const start = clock.now();
    while (clock.now() - start < 120_000) {
      await sleep(5);
      clock.advance(5_000);
      p.proxy.tick();
      // Let the client's pong reach the proxy before time moves again.
      await waitFor(() => relay.pongsReceived === relay.pingsSent, 2000, 'pong');
    }
    expect(c.isClosed()).toBe(false);
    expect(relay.pingsSent).toBe(4);
    expect(relay.pongsReceived).toBe(4);
    expect(c.pings).toHaveLength(4);
    expect(p.events.events).toHaveLength(0);
    await expectEcho(c.ws, 'after four heartbeats');
  });

  it('real time: HTTP timeouts of 100 ms do not touch a WebSocket idle for 700 ms', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({
      http: { requestHeadersTimeout: 100, responseTimeout: 100, keepAliveTimeout: 100 },
      routes: [httpRoute('rt', port, be.port)],
    });
    const c = await openClient(`ws://${HOST}:${port}/`);
    await sleep(700);
    expect(c.isClosed()).toBe(false);
    expect(p.events.events).toHaveLength(0);
    await expectEcho(c.ws, 'after 700 ms idle');
    expect(p.requests.events.map((e) => e.status)).toEqual([101]);
    expect(p.proxy.getStats().getActiveConnections()).toBe(1);
  });
});
