/**
 * Upgraded WebSocket streams through Sightline: no heartbeat on passthrough, the upstream socket
 * that carried an upgrade is never recycled, and every WebSocket close reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import { certFor, connect, freePort, waitFor, HOST } from '../helpers/net.js';
import {
  cleanup,
  sleep,
  wsBackend,
  openClient,
  roundTrip,
  expectEcho,
  within,
  proxy,
  httpRoute,
} from '../helpers/ws-proxy-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
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
          action: {
            type: 'forward',
            target: { host: HOST, port: be.port },
            tls: { mode: 'passthrough' },
            websocket: { pingInterval: 50, pingTimeout: 50 },
          },
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
