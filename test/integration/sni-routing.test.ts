import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import {
  captureClientHello,
  closed,
  connect,
  freePorts,
  readBytes,
  taggedServer,
  tlsTaggedServer,
  type TestServer,
  HOST,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

describe('SNI routing (TLS passthrough)', () => {
  let a: TestServer, b: TestServer, wild: TestServer, hi: TestServer, plain: TestServer, tlsA: TestServer;
  let p: RunningProxy;
  let sniPort: number, mixedPort: number, tlsPort: number;

  beforeAll(async () => {
    [a, b, wild, hi, plain] = (await Promise.all(['A', 'B', 'W', 'H', 'P'].map((t) => taggedServer(t)))) as [
      TestServer,
      TestServer,
      TestServer,
      TestServer,
      TestServer,
    ];
    tlsA = await tlsTaggedServer('TLS-A');
    [sniPort, mixedPort, tlsPort] = await freePorts(3);
    const fwd = (port: number) => ({
      type: 'forward' as const,
      target: { host: HOST, port },
      tls: { mode: 'passthrough' as const },
    });
    p = await startProxy({
      initialDataTimeout: 2000,
      routes: [
        { name: 'a', match: { ports: sniPort, domains: 'a.test' }, action: fwd(a.port) },
        { name: 'b', match: { ports: sniPort, domains: ['B.TEST.'] }, action: fwd(b.port) },
        { name: 'wild', match: { ports: sniPort, domains: '*.example.test' }, action: fwd(wild.port) },
        // Same domain as 'wild' at a higher priority: must win although it comes later.
        { name: 'prio', priority: 10, match: { ports: sniPort, domains: 'vip.example.test' }, action: fwd(hi.port) },
        { name: 'mixed-sni', match: { ports: mixedPort, domains: 'a.test' }, action: fwd(a.port) },
        {
          name: 'mixed-catchall',
          match: { ports: mixedPort },
          action: { type: 'forward', target: { host: HOST, port: plain.port } },
        },
        { name: 'tls-a', match: { ports: tlsPort, domains: 'localhost' }, action: fwd(tlsA.port) },
      ],
    });
  });
  afterAll(async () => {
    await p.stop();
    await Promise.all([a, b, wild, hi, plain, tlsA].map((s) => s.close()));
  });

  async function routeOf(port: number, servername: string | undefined): Promise<string> {
    const hello = await captureClientHello(servername);
    const s = await connect(port);
    s.write(hello);
    const tag = await readBytes(s, 1);
    s.destroy();
    return tag.subarray(0, 1).toString();
  }

  it('routes exact names case-insensitively and ignores a trailing dot', async () => {
    expect(await routeOf(sniPort, 'a.test')).toBe('A');
    expect(await routeOf(sniPort, 'b.test')).toBe('B');
    expect(await routeOf(sniPort, 'A.Test')).toBe('A');
  });

  it('routes wildcards, and a higher priority wins over order', async () => {
    expect(await routeOf(sniPort, 'x.example.test')).toBe('W');
    expect(await routeOf(sniPort, 'deep.x.example.test')).toBe('W');
    expect(await routeOf(sniPort, 'vip.example.test')).toBe('H');
  });

  it('closes unknown SNI with no_route, and a hello without SNI too', async () => {
    for (const name of ['nope.test', undefined]) {
      const hello = await captureClientHello(name);
      const s = await connect(sniPort);
      const local = s.localPort;
      s.write(hello);
      await closed(s);
      const ev = await p.events.next((e) => e.conn.remotePort === local);
      expect(ev.reason).toBe('no_route');
      expect(ev.initiator).toBe('proxy');
      expect(ev.phase).toBe('peek');
      expect(ev.conn.serverName).toBe(name ?? null);
    }
  });

  it('falls through to a catch-all route for no SNI or unknown SNI on a mixed port', async () => {
    expect(await routeOf(mixedPort, 'a.test')).toBe('A');
    expect(await routeOf(mixedPort, 'other.test')).toBe('P');
    expect(await routeOf(mixedPort, undefined)).toBe('P');
  });

  it('reassembles a ClientHello sent one byte per TCP segment and replays it byte-exact', async () => {
    const hello = await captureClientHello('b.test', ['h2', 'http/1.1']);
    const s = await connect(sniPort, { noDelay: true });
    const received = readBytes(s, 1 + hello.length);
    for (let i = 0; i < hello.length; i++) {
      s.write(hello.subarray(i, i + 1));
      if (i % 16 === 0) await new Promise((r) => setImmediate(r));
    }
    const echoed = await received; // tagged servers echo: tag + the replayed hello
    expect(echoed.subarray(0, 1).toString()).toBe('B');
    expect(echoed.subarray(1).equals(hello)).toBe(true);
    s.destroy();
  });

  it('carries a real TLS session end to end without touching it', async () => {
    const { cert } = await (await import('../helpers/net.js')).testCert();
    const s = tls.connect({ host: HOST, port: tlsPort, servername: 'localhost', ca: cert });
    const first = await readBytes(s, 'TLS-A:localhost'.length);
    expect(first.toString()).toBe('TLS-A:localhost');
    expect(s.getPeerCertificate().subject.CN).toBe('localhost');
    s.write('ping');
    expect((await readBytes(s, 4)).toString()).toBe('ping');
    s.end();
    const ev = await p.events.next((e) => e.conn.routeName === 'tls-a');
    expect(ev.reason).toBe('client_closed');
    expect(ev.conn.isTLS).toBe(true);
  });
});
