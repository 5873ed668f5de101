/**
 * Issue 14 reasons on HTTP routes, with real backends and raw clients:
 * - ws_upgrade_rejected: the backend answers a WebSocket upgrade with 403; the response is
 *   relayed (as nginx does), the exchange and the connection that ends after it say so;
 * - http_body_timeout: a request body with no byte for `http.requestBodyTimeout` gets 408 and
 *   the connection closes; a slow body that keeps coming is not cut.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { WebSocket } from 'ws';
import { closed, connect, customServer, freePort, readBytes, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import type { SightlineOptions } from '../../src/config/schema.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

async function httpProxy(
  target: number,
  extra: Partial<SightlineOptions> = {},
): Promise<{ p: RunningProxy; port: number }> {
  const port = await freePort();
  const p = await startProxy({
    gracefulShutdownTimeout: 100,
    ...extra,
    routes: [
      {
        name: 'web',
        match: { ports: port },
        action: { type: 'forward', protocol: 'http', target: { host: HOST, port: target } },
      },
    ],
  });
  cleanup.push(() => p.stop());
  return { p, port };
}

/** A backend that answers every request head with `response` (keep-alive unless it says close). */
async function rawBackend(response: (head: string) => string): Promise<number> {
  const srv = await customServer((s) => {
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      let end: number;
      while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
        const head = buf.slice(0, end);
        buf = buf.slice(end + 4);
        const r = response(head);
        s.write(r);
        if (/connection: close/i.test(r)) s.end();
      }
    });
    s.on('error', () => {});
  });
  cleanup.push(() => srv.close());
  return srv.port;
}

/** Read until the text so far ends with `end` (5 s at most). */
function readUntil(s: net.Socket, end: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const t = setTimeout(() => reject(new Error(`timeout: got ${JSON.stringify(got)}`)), 5000);
    const onData = (d: Buffer): void => {
      got += d.toString('latin1');
      if (!got.endsWith(end)) return;
      clearTimeout(t);
      s.removeListener('data', onData);
      resolve(got);
    };
    s.on('data', onData);
  });
}

const UPGRADE =
  'GET /chat HTTP/1.1\r\nHost: app\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
const DENY = (close: boolean): string =>
  `HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\n${close ? 'Connection: close\r\n' : ''}\r\ndenied`;

describe('ws_upgrade_rejected', () => {
  it('a real ws client: the 403 reaches it; the exchange and the connection record ws_upgrade_rejected (initiator backend)', async () => {
    const be = await rawBackend(() => DENY(true));
    const { p, port } = await httpProxy(be);
    const ws = new WebSocket(`ws://${HOST}:${port}/chat`);
    const status = await new Promise<number>((resolve, reject) => {
      ws.on('unexpected-response', (req, res) => {
        resolve(res.statusCode ?? 0);
        // What a browser does after a refused upgrade: read the answer, close the connection
        // (Node's keep-alive agent would otherwise pool the socket).
        const socket = req.socket;
        res.resume();
        res.on('end', () => socket?.destroy());
      });
      ws.on('open', () => reject(new Error('upgraded')));
      ws.on('error', () => {});
    });
    expect(status).toBe(403);
    const req = await p.requests.next();
    expect(req).toMatchObject({ status: 403, statusClass: '4xx', reason: 'ws_upgrade_rejected', upgraded: false });
    const ev = await p.events.next();
    expect(ev).toMatchObject({ reason: 'ws_upgrade_rejected', initiator: 'backend' });
  });

  it('keep-alive after the rejection: the client leaving names the rejection; a later request that succeeds does not', async () => {
    const be = await rawBackend((head) =>
      /upgrade: websocket/i.test(head) ? DENY(false) : 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    );
    const { p, port } = await httpProxy(be);
    // 1: rejected, then the client closes (what a WebSocket client does).
    const a = await connect(port);
    a.write(UPGRADE);
    expect(await readUntil(a, 'denied')).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*denied$/);
    a.end();
    await closed(a);
    // 2: rejected, then an ordinary request on the same connection, then the client closes.
    const b = await connect(port);
    b.write(UPGRADE);
    await readUntil(b, 'denied');
    b.write('GET / HTTP/1.1\r\nHost: app\r\n\r\n');
    expect(await readUntil(b, '\r\n\r\nok')).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*ok$/);
    b.end();
    await closed(b);
    await waitFor(() => p.events.events.length === 2);
    expect(p.events.events.map((e) => [e.reason, e.initiator])).toEqual([
      ['ws_upgrade_rejected', 'backend'],
      ['client_closed', 'client'],
    ]);
    expect(p.requests.events.map((e) => e.reason)).toEqual([
      'ws_upgrade_rejected',
      'ws_upgrade_rejected',
      'http_completed',
    ]);
  });
});

describe('http_body_timeout', () => {
  async function echoBody(): Promise<number> {
    const srv = http.createServer((req, res) => {
      const parts: Buffer[] = [];
      req.on('data', (d: Buffer) => parts.push(d));
      req.on('end', () => res.end(`got ${Buffer.concat(parts).length}`));
    });
    await new Promise<void>((r) => srv.listen(0, HOST, () => r()));
    cleanup.push(() => new Promise<void>((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    return (srv.address() as net.AddressInfo).port;
  }

  it('a body that stops arriving: 408, the exchange and the connection say http_body_timeout (initiator client)', async () => {
    const { p, port } = await httpProxy(await echoBody(), { http: { requestBodyTimeout: 300 } });
    const s = await connect(port);
    const started = Date.now();
    s.write('POST /up HTTP/1.1\r\nHost: app\r\nContent-Length: 100\r\n\r\n0123456789');
    const res = (await readBytes(s, 12, 5_000)).toString('latin1');
    expect(res).toMatch(/^HTTP\/1\.1 408 /);
    expect(Date.now() - started).toBeGreaterThanOrEqual(280);
    await closed(s);
    expect(await p.requests.next()).toMatchObject({ status: 408, reason: 'http_body_timeout' });
    expect(await p.events.next()).toMatchObject({ reason: 'http_body_timeout', initiator: 'client' });
  });

  it('a slow body whose gaps stay under the timeout completes (the timeout is between reads, not for the whole body)', async () => {
    const { p, port } = await httpProxy(await echoBody(), { http: { requestBodyTimeout: 300 } });
    const s = await connect(port);
    s.write('POST /up HTTP/1.1\r\nHost: app\r\nContent-Length: 8\r\n\r\n');
    // 8 bytes, 150 ms apart: 1.2 s in all, four times the timeout.
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 150));
      s.write('x');
    }
    expect(await readUntil(s, 'got 8')).toMatch(/^HTTP\/1\.1 200 OK[\s\S]*got 8$/);
    expect(await p.requests.next()).toMatchObject({ status: 200, reason: 'http_completed' });
    s.destroy();
  });

  it("a backend slow to take the body (the proxy stopped reading the client) is not the client's timeout", async () => {
    const SIZE = 8 * 1024 * 1024;
    // Reads nothing for 1 s (over three timeouts), then the whole body.
    const srv = await customServer((sock) => {
      sock.pause();
      sock.on('error', () => {});
      setTimeout(() => {
        let got = 0;
        sock.on('data', (d: Buffer) => {
          got += d.length;
          if (got >= SIZE) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndone');
        });
        sock.resume();
      }, 1_000);
    });
    cleanup.push(() => srv.close());
    const { p, port } = await httpProxy(srv.port, { http: { requestBodyTimeout: 300 } });
    const s = await connect(port);
    s.write(`POST /big HTTP/1.1\r\nHost: app\r\nContent-Length: ${SIZE}\r\n\r\n`);
    s.write(Buffer.alloc(SIZE, 0x62));
    expect(await readUntil(s, 'done')).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(await p.requests.next()).toMatchObject({ status: 200, reason: 'http_completed' });
    s.destroy();
  }, 15_000);
});
