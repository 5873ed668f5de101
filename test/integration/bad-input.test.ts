import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import {
  captureClientHello,
  closed,
  connect,
  echoServer,
  freePorts,
  readBytes,
  HOST,
  type TestServer,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

/**
 * Bad input is closed with its own reason, the proxy keeps running and a healthy connection
 * opened before the bad one keeps working through it.
 */
describe('bad input on an SNI port', () => {
  let echo: TestServer;
  let p: RunningProxy;
  let sni: number, small: number;

  beforeAll(async () => {
    echo = await echoServer();
    [sni, small] = await freePorts(2);
    const action = {
      type: 'forward' as const,
      target: { host: HOST, port: echo.port },
      tls: { mode: 'passthrough' as const },
    };
    p = await startProxy({
      initialDataTimeout: 300,
      routes: [
        { name: 'sni', match: { ports: sni, domains: ['ok.test'] }, action },
        { name: 'tight', match: { ports: small, domains: ['ok.test'] }, action },
      ],
      maxClientHelloSize: 16_384,
    });
  });
  afterAll(async () => {
    await p.stop();
    await echo.close();
  });

  async function healthy(): Promise<{ check(): Promise<void> }> {
    const s = await connect(sni);
    const hello = await captureClientHello('ok.test');
    s.write(hello);
    await readBytes(s, hello.length);
    return {
      async check() {
        s.write('still-alive');
        const got = await readBytes(s, 'still-alive'.length, 2000).catch(() => Buffer.alloc(0));
        expect(got.toString()).toContain('still-alive');
        s.destroy();
      },
    };
  }

  async function reasonFor(send: (s: import('node:net').Socket) => void, port = sni): Promise<string> {
    const s = await connect(port);
    const local = s.localPort;
    send(s);
    await closed(s);
    return (await p.events.next((e) => e.conn.remotePort === local)).reason;
  }

  it('random bytes instead of a ClientHello: not_tls', async () => {
    const h = await healthy();
    const bytes = randomBytes(512);
    bytes[0] = 0x47; // never 0x16, so the outcome is deterministic
    expect(await reasonFor((s) => s.write(bytes))).toBe('not_tls');
    await h.check();
  });

  it('a TLS record that is not a valid ClientHello: client_hello_invalid', async () => {
    const h = await healthy();
    // Handshake record, type 2 (ServerHello) instead of 1.
    const bad = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x08, 0x02, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00]);
    expect(await reasonFor((s) => s.write(bad))).toBe('client_hello_invalid');
    await h.check();
  });

  it('a ClientHello over the cap: client_hello_too_large', async () => {
    const h = await healthy();
    // A handshake that declares 64 KiB over several records: decided from the declared length.
    const rec = Buffer.alloc(5 + 4);
    rec.writeUInt8(0x16, 0);
    rec.writeUInt16BE(0x0301, 1);
    rec.writeUInt16BE(16_000, 3);
    rec.writeUInt8(0x01, 5);
    rec.writeUIntBE(65_000, 6, 3);
    expect(await reasonFor((s) => s.write(Buffer.concat([rec, randomBytes(2000)])))).toBe('client_hello_too_large');
    await h.check();
  });

  it('a client that connects and never sends: initial_data_timeout', async () => {
    const h = await healthy();
    const t0 = Date.now();
    expect(await reasonFor(() => {})).toBe('initial_data_timeout');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    await h.check();
  });

  it('a client that closes before the hello is complete: closed_before_data', async () => {
    const hello = await captureClientHello('ok.test');
    expect(await reasonFor((s) => s.end(hello.subarray(0, 20)))).toBe('closed_before_data');
  });

  it('counts every bad-input close in termination statistics', () => {
    const stats = p.proxy.getStats().getTerminationStats().byReason;
    for (const r of [
      'not_tls',
      'client_hello_invalid',
      'client_hello_too_large',
      'initial_data_timeout',
      'closed_before_data',
    ]) {
      expect(Object.values(stats[r] ?? {}).reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('pending data limit', () => {
  it('closes with pending_data_limit when peeked bytes exceed maxPendingDataSize', async () => {
    const echo = await echoServer();
    const [port] = await freePorts(1);
    const p = await startProxy({
      maxPendingDataSize: 100,
      routes: [
        {
          name: 'x',
          match: { ports: port!, domains: 'ok.test' },
          action: { type: 'forward', target: { host: HOST, port: echo.port } },
        },
      ],
    });
    const s = await connect(port!);
    s.write(await captureClientHello('ok.test'));
    await closed(s);
    expect((await p.events.next()).reason).toBe('pending_data_limit');
    await p.stop();
    await echo.close();
  });
});
