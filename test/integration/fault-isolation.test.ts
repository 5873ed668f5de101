/**
 * Fault isolation (issue 11 point 1): an exception at any guarded site of one connection's
 * handling (accept, peek, pump, connect, timer, sweep, TLS, HTTP, pool, WebSocket) closes that
 * connection with `internal_error` (initiator proxy), is counted in
 * `sightline_internal_errors_total{site}` and logged with its stack (once per site per window),
 * while every other connection keeps echoing. Faults come from the test-only injector
 * (core/faults.ts), which throws once, for the victim connection only.
 */
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_FAULT_SITES, FaultSite, type FaultSite as Site } from '../../src/core/channels.js';
import { injectFaults } from '../../src/core/faults.js';
import type { Connection } from '../../src/net/connection.js';
const UNKNOWN = Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
import { WsOpcode, encodeFrame } from '../../src/protocol/ws-frames.js';
import {
  closed,
  connect,
  echoServer,
  freePorts,
  readBytes,
  testCert,
  waitFor,
  HOST,
  type TestServer,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

let p: RunningProxy;
let echo: TestServer;
let web: http.Server;
let tcpPort: number;
let httpPort: number;
let tlsPort: number;
let ppPort: number;
let handlerPort: number;
const logLines: Array<Record<string, unknown>> = [];
/** Connections that must never be hit (the bystanders). */
const keep = new Set<number>();
let bystander: net.Socket;
let bystanderHttp: net.Socket;

/** Throw once at `site`, for the first connection opened from now on (never a bystander). */
function armOnce(site: Site): { fired: () => boolean } {
  let fired = false;
  const older = new Set(p.proxy.connectionManager.getConnections().keys());
  injectFaults((s, conn) => {
    const c = conn as Connection | null;
    if (fired || s !== site || c === null || keep.has(c.id) || older.has(c.id)) return;
    fired = true;
    throw new Error(`injected fault at ${site}`);
  });
  return { fired: () => fired };
}

async function echoes(s: net.Socket, msg: string): Promise<void> {
  s.write(msg);
  expect((await readBytes(s, msg.length)).toString()).toBe(msg);
}

const GET = 'GET / HTTP/1.1\r\nHost: x\r\n\r\n';
async function httpOk(s: net.Socket): Promise<void> {
  s.write(GET);
  const got = (await readBytes(s, 40)).toString();
  expect(got).toMatch(/^HTTP\/1\.1 200/);
}

beforeAll(async () => {
  echo = await echoServer();
  web = http.createServer((_req, res) => res.end('ok'));
  web.on('upgrade', (_req, socket: net.Socket) => {
    socket.on('error', () => {});
    socket.on('end', () => socket.end()); // the server keeps upgraded sockets half-open otherwise
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n',
    );
    socket.write(encodeFrame(WsOpcode.Text, Buffer.from('hi'), false));
  });
  await new Promise<void>((r) => web.listen(0, HOST, r));
  const webPort = (web.address() as net.AddressInfo).port;
  [tcpPort, httpPort, tlsPort, ppPort, handlerPort] = (await freePorts(5)) as [number, number, number, number, number];
  const { key, cert } = await testCert();
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString().split('\n'))
        if (line !== '') logLines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  p = await startProxy(
    {
      acceptProxyProtocol: true,
      proxyIPs: ['127.0.0.1'],
      initialDataTimeout: 300,
      routes: [
        {
          name: 'tcp',
          match: { ports: tcpPort },
          action: { type: 'forward', target: { host: HOST, port: echo.port } },
        },
        {
          name: 'web',
          match: { ports: httpPort },
          action: { type: 'forward', protocol: 'http', target: { host: HOST, port: webPort } },
        },
        {
          name: 'tls',
          match: { ports: tlsPort },
          action: {
            type: 'forward',
            target: { host: HOST, port: echo.port },
            tls: { mode: 'terminate', certificate: { key, cert } },
          },
        },
        { name: 'pp', match: { ports: ppPort }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
        {
          name: 'handler',
          match: { ports: handlerPort },
          action: { type: 'socket-handler', socketHandler: (s: net.Socket) => s.pipe(s) },
        },
      ],
      // Only peers sending PROXY headers on ppPort are trusted; other ports take plain clients.
    },
    { logger: pino({ level: 'info' }, sink) },
  );
  // The PROXY-protocol trust applies per peer address, so every port would expect a header from
  // 127.0.0.1: the bystanders speak it too (v1 UNKNOWN keeps the peer as the client).
  bystander = await connect(tcpPort);
  bystander.write(UNKNOWN);
  await echoes(bystander, 'before');
  bystanderHttp = await connect(httpPort);
  bystanderHttp.write(UNKNOWN);
  await httpOk(bystanderHttp);
  for (const id of p.proxy.connectionManager.getConnections().keys()) keep.add(id);
  expect(keep.size).toBe(2);
});

afterAll(async () => {
  injectFaults(null);
  bystander?.destroy();
  bystanderHttp?.destroy();
  await p?.stop();
  await echo?.close();
  web.closeAllConnections();
  await new Promise<void>((r) => web.close(() => r()));
});

/** A plain client through the PROXY-protocol-trusting listener (header with no address). */
async function client(port: number): Promise<net.Socket> {
  const s = await connect(port);
  s.on('error', () => {});
  s.write(UNKNOWN);
  return s;
}

/** The victim's action for each site (it runs after the injector is armed, unless said). */
const victims: Record<Site, () => Promise<net.Socket | tls.TLSSocket>> = {
  [FaultSite.Accept]: () => client(tcpPort),
  [FaultSite.Peek]: () => client(ppPort),
  [FaultSite.Pump]: async () => {
    const s = await client(tcpPort);
    s.write('x');
    return s;
  },
  [FaultSite.Connect]: () => client(tcpPort),
  // Says nothing: the initial-data deadline fires on the wheel.
  [FaultSite.Timer]: async () => {
    const s = await connect(ppPort);
    s.on('error', () => {});
    return s;
  },
  [FaultSite.Sweep]: async () => {
    const s = await client(tcpPort);
    // The sweep only checks connections in the tunnel.
    await waitFor(
      () =>
        [...p.proxy.connectionManager.getConnections().values()].some((c) => !keep.has(c.id) && c.phase === 'tunnel'),
      5000,
      'victim in tunnel',
    );
    p.proxy.tick();
    return s;
  },
  [FaultSite.Tls]: async () => {
    const raw = await client(tlsPort);
    const s = tls.connect({ socket: raw, servername: 'x', rejectUnauthorized: false });
    s.on('error', () => {});
    return s;
  },
  [FaultSite.Http]: async () => {
    const s = await client(httpPort);
    s.write(GET);
    return s;
  },
  [FaultSite.Pool]: async () => {
    const s = await client(httpPort);
    s.write(GET);
    return s;
  },
  [FaultSite.Handler]: () => client(handlerPort),
  [FaultSite.WebSocket]: async () => {
    const s = await client(httpPort);
    s.write(
      'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
    s.write(encodeFrame(WsOpcode.Text, Buffer.from('hello'), true));
    return s;
  },
};

describe('an exception at any site closes that connection only', () => {
  for (const site of ALL_FAULT_SITES) {
    it(`${site}: the victim ends with internal_error; the bystanders keep echoing`, async () => {
      const before = p.events.events.length;
      const arm = armOnce(site);
      const victim = await victims[site]();
      const ev = await p.events.next(
        (e, i = p.events.events.indexOf(e)) => i >= before && e.reason === 'internal_error',
        5000,
      );
      injectFaults(null);
      expect(arm.fired()).toBe(true);
      expect(ev.initiator).toBe('proxy');
      expect(keep.has(ev.conn.id)).toBe(false);
      await closed(victim);
      // No other connection closed because of it, and the bystanders still carry bytes.
      expect(p.events.events.slice(before).filter((e) => keep.has(e.conn.id))).toEqual([]);
      await echoes(bystander, `after-${site}`);
      await httpOk(bystanderHttp);
      // The listener still takes new connections on the same route.
      const fresh = await client(tcpPort);
      await echoes(fresh, 'fresh');
      fresh.end();
      await closed(fresh);
      const text = (await p.proxy.telemetry!.scrape(false)).body;
      expect(text).toContain(`sightline_internal_errors_total{site="${site}"} 1`);
    });
  }

  it('every site was counted once; stacks logged once per site, a second fault at a site suppressed', async () => {
    const text = (await p.proxy.telemetry!.scrape(false)).body;
    for (const site of ALL_FAULT_SITES) expect(text).toContain(`sightline_internal_errors_total{site="${site}"} 1`);
    // A second fault at the accept site: counted, but no second stack within the window.
    armOnce(FaultSite.Accept);
    const v = await client(tcpPort);
    await waitFor(
      () => p.events.events.filter((e) => e.reason === 'internal_error').length === ALL_FAULT_SITES.length + 1,
      5000,
      'second accept fault',
    );
    injectFaults(null);
    await closed(v);
    expect((await p.proxy.telemetry!.scrape(false)).body).toContain('sightline_internal_errors_total{site="accept"} 2');
    await waitFor(
      () => logLines.filter((l) => l.event === 'internal-error').length >= ALL_FAULT_SITES.length,
      3000,
      'log lines',
    );
    const faults = logLines.filter((l) => l.event === 'internal-error');
    expect(faults.map((l) => l.site).sort()).toEqual([...ALL_FAULT_SITES].sort());
    for (const l of faults) expect((l.err as { stack: string }).stack).toContain('injected fault at');
    // Every victim's record completed: only the two bystanders are open.
    const open = (): string[] =>
      [...p.proxy.connectionManager.getConnections().values()]
        .filter((c) => !keep.has(c.id))
        .map((c) => `${c.id}:${c.routeName}:${c.phase}:${c.reason}`);
    await waitFor(() => open().length === 0, 3000, 'victim records closed').catch(() => expect(open()).toEqual([]));
  });
});
