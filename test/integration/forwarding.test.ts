import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import {
  closed,
  connect,
  customServer,
  echoServer,
  freePort,
  readBytes,
  sha256,
  taggedServer,
  waitFor,
  HOST,
  type TestServer,
} from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { bufferedBytes } from '../../src/net/socket-events.js';

const plainRoute = (
  name: string,
  listen: number,
  target: number | string[] | ((ctx: unknown) => string),
  port: number | 'preserve' = 0,
) => ({
  name,
  match: { ports: listen },
  action: {
    type: 'forward' as const,
    target: { host: typeof target === 'number' ? HOST : target, port: typeof target === 'number' ? target : port },
  },
});

describe('plain TCP forwarding', () => {
  let echo: TestServer;
  let p: RunningProxy;
  let port: number;

  beforeAll(async () => {
    echo = await echoServer();
    port = await freePort();
    p = await startProxy({ routes: [plainRoute('echo', port, echo.port)] });
  });
  afterAll(async () => {
    await p.stop();
    await echo.close();
  });

  it('routes at accept without waiting for client bytes', async () => {
    const tagged = await taggedServer('hello-first');
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('server-speaks-first', lp, tagged.port)] });
    const s = await connect(lp);
    expect((await readBytes(s, 11)).toString()).toBe('hello-first');
    s.destroy();
    await q.stop();
    await tagged.close();
  });

  it('moves 100 MB each way byte-exact (sha256 both directions)', async () => {
    const total = 100 * 1024 * 1024;
    const chunk = randomBytes(1024 * 1024);
    const s = await connect(port);
    const out: Buffer[] = [];
    let got = 0;
    const done = new Promise<void>((resolve) => {
      s.on('data', (d: Buffer) => {
        out.push(d);
        got += d.length;
      });
      s.on('end', () => resolve());
    });
    const sent: Buffer[] = [];
    for (let i = 0; i < total / chunk.length; i++) {
      // Vary the chunk so a reordering would change the digest.
      const c = Buffer.from(chunk);
      c.writeUInt32BE(i, 0);
      sent.push(c);
      if (!s.write(c)) await new Promise((r) => s.once('drain', r));
    }
    s.end();
    await done;
    expect(got).toBe(total);
    expect(sha256(out)).toBe(sha256(sent));
    const ev = await p.events.next((e) => e.conn.remotePort === s.localPort);
    expect(ev.reason).toBe('client_closed');
    expect(ev.bytesFromClient).toBe(total);
    expect(ev.bytesToClient).toBe(total);
  }, 60_000);

  it('passes a client FIN on and keeps the backend → client direction flowing', async () => {
    let serverSaw = '';
    const srv = await customServer((s) => {
      s.on('data', (d: Buffer) => (serverSaw += d.toString()));
      s.on('end', () => {
        // Client half-closed: keep sending for a while, then end.
        let n = 0;
        const t = setInterval(() => {
          s.write(`late-${n}|`);
          if (++n === 5) {
            clearInterval(t);
            s.end();
          }
        }, 20);
      });
    });
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('hc', lp, srv.port)] });
    const s = await connect(lp);
    s.write('request');
    s.end();
    const reply = await readBytes(s, 1e9);
    expect(serverSaw).toBe('request');
    expect(reply.toString()).toBe('late-0|late-1|late-2|late-3|late-4|');
    const ev = await q.events.next((e) => e.conn.remotePort === s.localPort);
    expect(ev.reason).toBe('client_closed');
    expect(ev.firstSide).toBe('client');
    expect(ev.endKind).toBe('fin');
    await q.stop();
    await srv.close();
  });

  it('passes a backend FIN on and keeps the client → backend direction flowing', async () => {
    let serverSaw = '';
    let serverEnded!: () => void;
    const serverGotEnd = new Promise<void>((r) => (serverEnded = r));
    const srv = await customServer((s) => {
      s.write('bye');
      s.end(); // backend half-closes first
      s.on('data', (d: Buffer) => (serverSaw += d.toString()));
      s.on('end', () => serverEnded());
    });
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('hc2', lp, srv.port)] });
    const s = await connect(lp);
    const reply = await readBytes(s, 1e9); // ends at the backend's FIN
    expect(reply.toString()).toBe('bye');
    for (let i = 0; i < 5; i++) {
      s.write(`more-${i}|`);
      await new Promise((r) => setTimeout(r, 10));
    }
    s.end();
    await serverGotEnd;
    expect(serverSaw).toBe('more-0|more-1|more-2|more-3|more-4|');
    const ev = await q.events.next((e) => e.conn.remotePort === s.localPort);
    expect(ev.reason).toBe('backend_closed');
    expect(ev.initiator).toBe('backend');
    expect(ev.firstSide).toBe('backend');
    await q.stop();
    await srv.close();
  });

  it('bounds what it buffers for a slow reader (backpressure)', async () => {
    // The backend never reads: everything the client sends must stay in kernel buffers and the
    // client must be paused, not pile up in the proxy.
    const srv = await customServer((s) => s.pause());
    const lp = await freePort();
    const q = await startProxy({ gracefulShutdownTimeout: 100, routes: [plainRoute('slow', lp, srv.port)] });
    const s = await connect(lp);
    const chunk = Buffer.alloc(256 * 1024, 7);
    let written = 0;
    let maxBuffered = 0;
    const conn = () => [...q.proxy.connectionManager.getConnections().values()][0];
    await waitFor(() => conn()?.phase === 'tunnel');
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline) {
      if (s.writableLength < 4 * 1024 * 1024) {
        s.write(chunk);
        written += chunk.length;
      }
      await new Promise((r) => setTimeout(r, 2));
      const c = conn();
      if (c) maxBuffered = Math.max(maxBuffered, bufferedBytes(c));
    }
    expect(written).toBeGreaterThan(8 * 1024 * 1024); // the client really tried
    expect(maxBuffered).toBeGreaterThan(0);
    expect(maxBuffered).toBeLessThanOrEqual(256 * 1024); // fixed bound per connection
    s.destroy();
    await q.stop();
    await srv.close();
  });

  it('balances a target host array round-robin and supports function targets and port preserve', async () => {
    // Two backends on the same port number at two loopback addresses: the tag tells which answered.
    const bport = await freePort();
    const servers = await Promise.all(
      ['127.0.0.1', '127.0.0.2'].map(
        (addr) =>
          new Promise<net.Server>((resolve) => {
            const srv = net.createServer((s) => s.end(addr));
            srv.listen(bport, addr, () => resolve(srv));
          }),
      ),
    );
    const lp = await freePort();
    const q = await startProxy({
      routes: [
        {
          name: 'rr',
          match: { ports: lp },
          action: {
            type: 'forward',
            target: {
              host: ['127.0.0.1', '127.0.0.2'],
              port: (ctx: { routeName: string }) => (ctx.routeName === 'rr' ? bport : 1),
            },
          },
        },
      ],
    });
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) {
      const s = await connect(lp);
      seen.push((await readBytes(s, 9)).toString());
      await closed(s);
    }
    expect(seen).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2']);
    await q.stop();

    // port: 'preserve' forwards to the listening port number on the target host.
    const pp = await freePort();
    const srv2 = net.createServer((s) => s.end('preserved'));
    await new Promise<void>((r) => srv2.listen(pp, '127.0.0.2', r));
    const q2 = await startProxy({
      routes: [
        {
          name: 'pres',
          match: { ports: pp },
          action: { type: 'forward', target: { host: '127.0.0.2', port: 'preserve' } },
        },
      ],
    });
    const s = await connect(pp);
    expect((await readBytes(s, 9)).toString()).toBe('preserved');
    await closed(s);
    expect((await q2.events.next()).target).toBe(`127.0.0.2:${pp}`);
    await q2.stop();
    await new Promise((r) => srv2.close(r));
    for (const srv of servers) await new Promise((r) => srv.close(r));
  });

  it('backend refused: backend_connect_failed, client closed, nothing left behind', async () => {
    const dead = await freePort();
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('dead', lp, dead)] });
    const s = await connect(lp);
    await closed(s);
    const ev = await q.events.next();
    expect(ev.reason).toBe('backend_connect_failed');
    expect(ev.initiator).toBe('backend');
    expect(ev.phase).toBe('connecting');
    expect(ev.error).toBe('ECONNREFUSED');
    expect(q.proxy.getStats().getActiveConnections()).toBe(0);
    await q.stop();
  });

  it('backend that never accepts: backend_connect_timeout after connectionTimeout', async () => {
    // A listener whose accept queue is full drops further SYNs: connect() hangs.
    const py = spawn('python3', [
      '-c',
      "import socket,time\ns=socket.socket()\ns.bind(('127.0.0.1',0))\ns.listen(0)\nprint(s.getsockname()[1],flush=True)\ntime.sleep(30)",
    ]);
    const blackhole = await new Promise<number>((r) =>
      py.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))),
    );
    const fillers: net.Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const f = net.connect(blackhole, HOST);
      f.on('error', () => {});
      fillers.push(f);
    }
    await new Promise((r) => setTimeout(r, 100));
    const lp = await freePort();
    const q = await startProxy({ connectionTimeout: 300, routes: [plainRoute('hang', lp, blackhole)] });
    const t0 = Date.now();
    const s = await connect(lp);
    await closed(s);
    const ev = await q.events.next();
    expect(ev.reason).toBe('backend_connect_timeout');
    expect(ev.initiator).toBe('proxy');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(q.proxy.getStats().getActiveConnections()).toBe(0);
    await q.stop();
    for (const f of fillers) f.destroy();
    py.kill();
  });

  it('propagates a backend RST as an RST and names it backend_reset', async () => {
    const srv = await customServer((s) => setTimeout(() => s.resetAndDestroy(), 20));
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('rst', lp, srv.port)] });
    const s = await connect(lp);
    const r = await closed(s);
    expect(r.error?.code).toBe('ECONNRESET');
    const ev = await q.events.next();
    expect(ev.reason).toBe('backend_reset');
    expect(ev.endKind).toBe('rst');
    await q.stop();
    await srv.close();
  });

  it('names a client RST client_reset and tears the backend down', async () => {
    let backendClosed!: () => void;
    const gone = new Promise<void>((r) => (backendClosed = r));
    const srv = await customServer((s) => {
      s.on('error', () => {});
      s.on('close', () => backendClosed());
    });
    const lp = await freePort();
    const q = await startProxy({ routes: [plainRoute('crst', lp, srv.port)] });
    const s = await connect(lp);
    await waitFor(() => srv.sockets.size === 1);
    s.resetAndDestroy();
    await gone;
    const ev = await q.events.next();
    expect(ev.reason).toBe('client_reset');
    expect(ev.initiator).toBe('client');
    await q.stop();
    await srv.close();
  });
});
