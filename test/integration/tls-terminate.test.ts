/** TLS termination: certificates chosen by SNI, re-encryption with verification, handshake failures. */
import { afterEach, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import type { AddressInfo } from 'node:net';
import type { SightlineOptions } from '../../src/config/schema.js';
import {
  captureClientHello,
  certFor,
  closed,
  connect,
  echoServer,
  freePort,
  privateCa,
  readBytes,
  HOST,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function proxy(routes: SightlineOptions['routes']): Promise<RunningProxy> {
  const p = await startProxy({ gracefulShutdownTimeout: 100, routes });
  cleanup.push(() => p.stop());
  return p;
}

function tlsClient(port: number, servername: string, ca: string): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: HOST, port, servername, ca }, () => resolve(s));
    s.once('error', reject);
  });
}

describe('TLS termination', () => {
  it('serves the certificate of the route the SNI selects and carries decrypted bytes to a plain backend', async () => {
    const [a, b] = await Promise.all([certFor('a.test'), certFor('b.test')]);
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy([
      {
        name: 'a',
        match: { ports: port, domains: 'a.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: echo.port },
          tls: { mode: 'terminate', certificate: a },
          protocol: 'tcp',
        },
      },
      {
        name: 'b',
        match: { ports: port, domains: 'b.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: echo.port },
          tls: { mode: 'terminate', certificate: b },
          protocol: 'tcp',
        },
      },
    ]);
    for (const [name, pem] of [
      ['a.test', a],
      ['b.test', b],
    ] as const) {
      const s = await tlsClient(port, name, pem.cert);
      expect(s.getPeerCertificate().subject.CN).toBe(name);
      s.write(`hello ${name}`);
      expect((await readBytes(s, 6 + name.length)).toString()).toBe(`hello ${name}`);
      s.end();
      await closed(s);
    }
    const evs = await Promise.all(['a', 'b'].map((r) => p.events.next((e) => e.conn.routeName === r)));
    expect(evs.map((e) => e.reason)).toEqual(['client_closed', 'client_closed']);
    expect(evs.every((e) => e.conn.isTLS)).toBe(true);
  });

  it('re-encrypts to a backend signed by a private CA, and refuses an untrusted backend', async () => {
    const { ca, leaf } = await privateCa('backend.test');
    const front = await certFor('front.test');
    const backend = tls.createServer({ key: leaf.key, cert: leaf.cert }, (s) => {
      s.on('error', () => {});
      s.write(`backend saw SNI ${(s as tls.TLSSocket & { servername?: string }).servername}|`);
      s.pipe(s);
    });
    await new Promise<void>((r) => backend.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => backend.close(() => r())));
    const bport = (backend.address() as AddressInfo).port;
    const [trusted, untrusted] = [await freePort(), await freePort()];
    const p = await proxy([
      {
        name: 'trusted',
        match: { ports: trusted, domains: 'front.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: bport },
          tls: { mode: 'terminate-and-reencrypt', certificate: front, ca: ca.cert, servername: 'backend.test' },
          protocol: 'tcp',
        },
      },
      {
        name: 'untrusted',
        match: { ports: untrusted, domains: 'front.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: bport },
          tls: { mode: 'terminate-and-reencrypt', certificate: front, servername: 'backend.test' },
          protocol: 'tcp',
        },
      },
    ]);
    const s = await tlsClient(trusted, 'front.test', front.cert);
    const greeting = 'backend saw SNI backend.test|';
    expect((await readBytes(s, greeting.length)).toString()).toBe(greeting);
    s.write('round trip');
    expect((await readBytes(s, 10)).toString()).toBe('round trip');
    s.end();
    await closed(s);

    const u = await tlsClient(untrusted, 'front.test', front.cert);
    await closed(u);
    const ev = await p.events.next((e) => e.conn.routeName === 'untrusted');
    expect(ev.reason).toBe('backend_tls_error');
    expect(ev.initiator).toBe('backend');
    expect(ev.error).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
  });
});

describe('TLS handshake failures, each with its own reason', () => {
  async function rig(extra: Record<string, unknown> = {}) {
    const front = await certFor('front.test');
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy([
      {
        name: 'term',
        match: { ports: port, domains: 'front.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: echo.port },
          tls: { mode: 'terminate', certificate: front, handshakeTimeout: 300, ...extra },
        },
      },
    ]);
    return { p, port, hello: await captureClientHello('front.test') };
  }

  it('garbage after the ClientHello: tls_protocol_error', async () => {
    const { p, port, hello } = await rig();
    const s = await connect(port);
    s.write(hello);
    await readBytes(s, 1); // the server's first flight: the handshake is under way
    // A handshake record whose declared length overruns what follows, then junk.
    s.write(
      Buffer.from([0x16, 0x03, 0x03, 0x00, 0x05, 0x0b, 0xff, 0xff, 0xff, 0x00, 0x17, 0x03, 0x03, 0x00, 0x01, 0x00]),
    );
    await closed(s);
    const ev = await p.events.next();
    expect(ev.reason).toBe('tls_protocol_error');
    expect(ev.phase).toBe('tls_handshake');
  });

  it('a client that leaves mid-handshake: tls_client_abort', async () => {
    const { p, port, hello } = await rig();
    const s = await connect(port);
    s.write(hello);
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    expect((await p.events.next()).reason).toBe('tls_client_abort');
  });

  it('a client that never finishes the handshake: tls_handshake_timeout', async () => {
    const { p, port, hello } = await rig();
    const s = await connect(port);
    s.write(hello);
    await closed(s);
    expect((await p.events.next()).reason).toBe('tls_handshake_timeout');
  });

  it("a route without a usable certificate ('auto', not supported): tls_no_certificate", async () => {
    const echo = await echoServer();
    cleanup.push(() => echo.close());
    const port = await freePort();
    const p = await proxy([
      {
        name: 'auto',
        match: { ports: port, domains: 'x.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: echo.port },
          tls: { mode: 'terminate', certificate: 'auto' },
        },
      },
    ]);
    const s = await connect(port);
    s.write(await captureClientHello('x.test'));
    await closed(s);
    const ev = await p.events.next();
    expect(ev.reason).toBe('tls_no_certificate');
    expect(ev.error).toContain('ACME');
  });

  it('refuses clients below the minimum TLS version (TLS 1.2 by default)', async () => {
    const { p, port } = await rig();
    // SECLEVEL=0: OpenSSL 3 (Node >= 22) refuses to build a TLS 1.1 hello at the default level.
    const s = tls.connect({
      host: HOST,
      port,
      servername: 'front.test',
      maxVersion: 'TLSv1.1',
      minVersion: 'TLSv1',
      ciphers: 'DEFAULT@SECLEVEL=0',
      rejectUnauthorized: false,
    });
    s.on('error', () => {});
    await closed(s);
    expect((await p.events.next()).reason).toMatch(/tls_protocol_error|tls_client_abort/);
  });

  it('a client that gives up before its hello (an alert record first) is client_hello_invalid, named, not not_tls', async () => {
    const { p, port } = await rig();
    const s = await connect(port);
    s.write(Buffer.from([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46]));
    await closed(s);
    const ev = await p.events.next();
    expect(ev.reason).toBe('client_hello_invalid');
    expect(ev.error).toContain('protocol_version');
  });
});
