/**
 * WebSockets through Sightline with real `ws` clients and servers: echo over TLS termination,
 * the proxy's heartbeat (and its absence on passthrough), HTTP timers that must not touch an
 * upgraded stream, the detached upstream socket, and every WebSocket close reason.
 * Timers are configured in milliseconds; the 60–120 s cases run on a ManualClock.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocket, WebSocketServer, type ClientOptions, type RawData } from 'ws';
import { ManualClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import type { SightlineDeps } from '../../src/server.js';
import type { WsRelay } from '../../src/proxy/websocket.js';
import { certFor, connect, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

type Pems = { key: string; cert: string };
type RouteList = SightlineOptions['routes'];
type WsOpts = { enabled?: boolean; pingInterval?: number; pingTimeout?: number; maxPayloadSize?: number };

function toBuffer(m: RawData): Buffer {
  return Buffer.isBuffer(m) ? m : Array.isArray(m) ? Buffer.concat(m) : Buffer.from(m);
}

// ---- backend --------------------------------------------------------------------------------

/** One WebSocket as the backend sees it. */
interface BackendConn {
  readonly ws: WebSocket;
  /** The backend's TCP (or TLS) socket of this WebSocket. */
  readonly socket: net.Socket;
  readonly messages: Buffer[];
  pings: number;
  pongs: number;
  /** The close code the backend's ws saw (1006: no close frame); null while open. */
  closeCode: number | null;
  readonly closed: Promise<number>;
}

interface WsBackend {
  readonly port: number;
  readonly conns: BackendConn[];
  /** The socket of every plain (non-upgrade) request served. */
  readonly requestSockets: net.Socket[];
  /** Every TCP connection the backend accepted, open or not. */
  readonly tcp: net.Socket[];
}

/** An HTTP(S) server answering plain requests with `hello <url>` and echoing WebSocket messages. */
async function wsBackend(pems?: Pems): Promise<WsBackend> {
  const server: http.Server = pems === undefined ? http.createServer() : https.createServer(pems);
  const tcp: net.Socket[] = [];
  const requestSockets: net.Socket[] = [];
  const conns: BackendConn[] = [];
  server.on('connection', (s: net.Socket) => tcp.push(s));
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    requestSockets.push(req.socket);
    res.end(`hello ${req.url ?? ''}`);
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws, req) => {
    let done!: (code: number) => void;
    const c: BackendConn = { ws, socket: req.socket, messages: [], pings: 0, pongs: 0, closeCode: null, closed: new Promise<number>((r) => (done = r)) };
    ws.on('message', (m, isBinary) => {
      c.messages.push(toBuffer(m));
      ws.send(m, { binary: isBinary });
    });
    ws.on('ping', () => c.pings++);
    ws.on('pong', () => c.pongs++);
    ws.on('error', () => {});
    ws.on('close', (code) => {
      c.closeCode = code;
      done(code);
    });
    conns.push(c);
  });
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(
    () =>
      new Promise<void>((r) => {
        for (const c of wss.clients) c.terminate();
        for (const s of tcp) s.destroy();
        wss.close();
        server.close(() => r());
      }),
  );
  return { port: (server.address() as AddressInfo).port, conns, requestSockets, tcp };
}

// ---- client ---------------------------------------------------------------------------------

interface Client {
  readonly ws: WebSocket;
  /** Payloads of the pings this client received. */
  readonly pings: Buffer[];
  readonly closed: Promise<{ code: number; reason: string }>;
  isClosed(): boolean;
}

/** `servername` (SNI) is passed through to tls.connect by ws, though its types omit it. */
async function openClient(url: string, opts: ClientOptions & { servername?: string } = {}): Promise<Client> {
  const ws = new WebSocket(url, opts as ClientOptions);
  const pings: Buffer[] = [];
  let isClosed = false;
  ws.on('ping', (d) => pings.push(d));
  const closed = new Promise<{ code: number; reason: string }>((r) =>
    ws.on('close', (code, reason) => {
      isClosed = true;
      r({ code, reason: reason.toString() });
    }),
  );
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`unexpected response ${res.statusCode}`)));
  });
  ws.on('error', () => {});
  cleanup.push(() => ws.terminate());
  return { ws, pings, closed, isClosed: () => isClosed };
}

/** Send one message and resolve with the next message received. */
function roundTrip(ws: WebSocket, data: string | Buffer, timeoutMs = 3000): Promise<{ data: Buffer; isBinary: boolean }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no echo')), timeoutMs);
    ws.once('message', (m, isBinary) => {
      clearTimeout(t);
      resolve({ data: toBuffer(m), isBinary });
    });
    ws.send(data);
  });
}

async function expectEcho(ws: WebSocket, text: string): Promise<void> {
  const r = await roundTrip(ws, text);
  expect(r.isBinary).toBe(false);
  expect(r.data.toString()).toBe(text);
}

/** Resolve within `ms`, or reject naming `what`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([p, new Promise<T>((_r, reject) => setTimeout(() => reject(new Error(`timeout: ${what}`)), ms))]);
}

// ---- proxy ----------------------------------------------------------------------------------

async function proxy(options: Omit<SightlineOptions, 'routes'> & { routes: RouteList }, deps?: SightlineDeps): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 500, ...options } as SightlineOptions, deps);
  cleanup.push(() => p.stop());
  return p;
}

/** A plain HTTP route (WebSocket upgrades allowed) from `port` to the backend. */
function httpRoute(name: string, port: number, backendPort: number, websocket?: WsOpts): RouteList[number] {
  return {
    name,
    match: { ports: port },
    action: { type: 'forward', target: { host: HOST, port: backendPort }, protocol: 'http', ...(websocket === undefined ? {} : { websocket }) },
  };
}

/** The live relay of the one WebSocket on a proxy (internal state, read-only). */
function onlyRelay(p: RunningProxy): WsRelay {
  const conns = [...p.proxy.connectionManager.getConnections().values()];
  expect(conns).toHaveLength(1);
  return conns[0]!.modeState as WsRelay;
}

// ---- tests ----------------------------------------------------------------------------------

describe('WebSocket over TLS termination', () => {
  it('echoes text and a 200 KB binary message; a client close 1000 is ws_closed by the client', async () => {
    const pem = await certFor('ws.test');
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({
      routes: [{ name: 'wss', match: { ports: port, domains: 'ws.test' }, action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'terminate', certificate: pem } } }],
    });
    const c = await openClient(`wss://${HOST}:${port}/chat`, { ca: pem.cert, servername: 'ws.test', headers: { host: 'ws.test' } });

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
    expect(req).toMatchObject({ method: 'GET', status: 101, statusClass: '1xx', upgraded: true, reason: 'http_completed', reusedUpstream: false });
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

describe('passthrough', () => {
  it('a passthrough WebSocket is never pinged, whatever its websocket options say', async () => {
    const pem = await certFor('pt.test');
    const be = await wsBackend(pem);
    const port = await freePort();
    const p = await proxy({
      routes: [
        {
          name: 'pt',
          match: { ports: port, domains: 'pt.test' },
          action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'passthrough' }, websocket: { pingInterval: 50, pingTimeout: 50 } },
        },
      ],
    });
    const c = await openClient(`wss://${HOST}:${port}/`, { ca: pem.cert, servername: 'pt.test' });
    await sleep(700);
    expect(c.isClosed()).toBe(false);
    expect(c.pings).toHaveLength(0);
    const b = be.conns[0]!;
    expect(b.pongs).toBe(0);
    expect(b.pings).toBe(0);
    expect(p.events.events).toHaveLength(0);
    await expectEcho(c.ws, 'opaque and alive');

    c.ws.close(1000);
    expect((await within(c.closed, 3000, 'client close')).code).toBe(1000);
    const ev = await p.events.next((e) => e.conn.routeName === 'pt');
    expect(ev.reason).not.toBe('heartbeat_timeout');
    expect(['client_closed', 'backend_closed']).toContain(ev.reason);
    expect(ev.conn.isTLS).toBe(true);
    expect(ev.websocket).toBeUndefined();
    expect('websocket' in ev).toBe(false);
  });
});

describe('upstream pool', () => {
  it('a pooled upstream socket that carries an upgraded stream is never recycled by age', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({
      inactivityCheckInterval: 50,
      lifecycle: { activitySampleInterval: 50 },
      http: { upstream: { idleTimeout: 150, maxLifetime: 200 } },
      routes: [httpRoute('pool', port, be.port)],
    });
    const agent = new http.Agent({ keepAlive: true });
    cleanup.push(() => agent.destroy());
    const body = await new Promise<string>((resolve, reject) => {
      http
        .get({ host: HOST, port, path: '/warm', agent }, (res) => {
          let s = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => (s += d));
          res.on('end', () => resolve(s));
        })
        .on('error', reject);
    });
    expect(body).toBe('hello /warm');
    expect(p.proxy.getUpstreamPoolStats()).toMatchObject({ idle: 1, created: 1 });

    // Right away, on the same route: the idle upstream socket is reused for the upgrade.
    const c = await openClient(`ws://${HOST}:${port}/socket`);
    const up = await p.requests.next((e) => e.routeName === 'pool' && e.upgraded);
    expect(up.status).toBe(101);
    expect(up.reusedUpstream).toBe(true);
    await waitFor(() => be.conns.length === 1, 2000, 'backend WebSocket');
    const b = be.conns[0]!;
    // The backend saw both exchanges on one TCP connection.
    expect(be.requestSockets).toHaveLength(1);
    expect(b.socket).toBe(be.requestSockets[0]);
    expect(be.tcp).toHaveLength(1);
    expect(p.proxy.getUpstreamPoolStats()).toMatchObject({ detached: 1, open: 0, idle: 0, reused: 1 });

    await sleep(700); // 3.5× maxLifetime, many sweeps
    expect(c.isClosed()).toBe(false);
    await expectEcho(c.ws, 'older than maxLifetime');
    expect(p.proxy.getUpstreamPoolStats().detached).toBeGreaterThanOrEqual(1);
    expect(b.socket.destroyed).toBe(false);
    expect(b.closeCode).toBeNull();
    expect(p.events.events.filter((e) => e.websocket !== undefined)).toHaveLength(0);
  });
});

describe('close reasons', () => {
  it('the backend drops TCP without a close frame: 1006 and ws_abnormal_close', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ routes: [httpRoute('abnormal', port, be.port)] });
    const c = await openClient(`ws://${HOST}:${port}/`);
    await expectEcho(c.ws, 'before the drop');
    be.conns[0]!.socket.destroy();
    expect((await within(c.closed, 3000, 'client close')).code).toBe(1006);
    const ev = await p.events.next((e) => e.conn.routeName === 'abnormal');
    expect(ev.reason).toBe('ws_abnormal_close');
    expect(ev.initiator).toBe('backend');
    expect(ev.websocket).toMatchObject({ closeCode: 1006, closeFrame: false, closedBy: null });
  });

  it('a message over maxPayloadSize: close 1009 to both peers, ws_message_too_large, never delivered', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ routes: [httpRoute('big', port, be.port, { maxPayloadSize: 1024 })] });
    const c = await openClient(`ws://${HOST}:${port}/`);
    // Under the limit: delivered.
    const small = randomBytes(1000);
    expect((await roundTrip(c.ws, small)).data.equals(small)).toBe(true);
    c.ws.send(randomBytes(4096));
    const closed = await within(c.closed, 3000, 'client close');
    expect(closed.code).toBe(1009);
    const ev = await p.events.next((e) => e.conn.routeName === 'big');
    expect(ev.reason).toBe('ws_message_too_large');
    expect(ev.initiator).toBe('client');
    expect(ev.websocket).toMatchObject({ closeCode: 1009, closeFrame: true, closedBy: 'proxy' });
    const b = be.conns[0]!;
    expect(b.messages.map((m) => m.length)).toEqual([1000]);
    // "close 1009 to both": the backend must get the close frame too, not only a FIN (1006).
    expect(await within(b.closed, 3000, 'backend close')).toBe(1009);
  });

  it('an unmasked frame from the client: close 1002 and ws_protocol_error', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ routes: [httpRoute('proto', port, be.port)] });
    const s = await connect(port);
    cleanup.push(() => void s.destroy());
    let got = Buffer.alloc(0);
    s.on('data', (d: Buffer) => (got = Buffer.concat([got, d])));
    s.write(
      [
        'GET /raw HTTP/1.1',
        `Host: ${HOST}:${port}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version: 13',
        '',
        '',
      ].join('\r\n'),
    );
    await waitFor(() => got.includes('\r\n\r\n'), 3000, 'the 101 head');
    const headEnd = got.indexOf('\r\n\r\n') + 4;
    const head = got.subarray(0, headEnd).toString('latin1');
    expect(head).toMatch(/^HTTP\/1\.1 101 /);
    expect(head).toMatch(/\r\nsec-websocket-accept: s3pPLMBiTxaQ9kYGzzhZRbK\+xOo=\r\n/i);
    await waitFor(() => be.conns.length === 1, 2000, 'backend WebSocket');
    got = got.subarray(headEnd);

    // FIN + text, MASK bit clear: forbidden from a client (RFC 6455 §5.1).
    s.write(Buffer.concat([Buffer.from([0x81, 0x05]), Buffer.from('hello')]));
    await waitFor(() => got.length >= 4, 3000, 'a close frame');
    expect(got[0]).toBe(0x88); // FIN + close
    expect(got[1]! & 0x80).toBe(0); // unmasked (server to client)
    const len = got[1]! & 0x7f;
    expect(len).toBeGreaterThanOrEqual(2);
    expect(got.readUInt16BE(2)).toBe(1002);

    const ev = await p.events.next((e) => e.conn.routeName === 'proto');
    expect(ev.reason).toBe('ws_protocol_error');
    expect(ev.initiator).toBe('client');
    expect(ev.websocket).toMatchObject({ closeCode: 1002, closeFrame: true, closedBy: 'proxy' });
    expect(ev.error).toContain('unmasked');
    expect(be.conns[0]!.messages).toHaveLength(0);
    // The backend did nothing wrong and gets the close frame too (not a bare FIN, 1006).
    expect(await within(be.conns[0]!.closed, 3000, 'backend close')).toBe(1002);
  });

  it('stop(): close 1001 to both peers, shutdown', async () => {
    const be = await wsBackend();
    const port = await freePort();
    const p = await proxy({ gracefulShutdownTimeout: 1000, routes: [httpRoute('stop', port, be.port)] });
    const c = await openClient(`ws://${HOST}:${port}/`);
    await expectEcho(c.ws, 'before stop');
    const stopping = p.stop();
    const closed = await within(c.closed, 3000, 'client close');
    expect(closed.code).toBe(1001);
    await stopping;
    const ev = await p.events.next((e) => e.conn.routeName === 'stop');
    expect(ev.reason).toBe('shutdown');
    expect(ev.initiator).toBe('proxy');
    expect(ev.websocket).toMatchObject({ closeCode: 1001, closeFrame: true, closedBy: 'proxy' });
    expect(await within(be.conns[0]!.closed, 3000, 'backend close')).toBe(1001);
  });
});
