/**
 * HTTP/1.1 through Sightline when something is wrong: limits, smuggling defences, backend
 * failures and the proxy's own error responses (each with its reason), TLS, and drain.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { certFor, closed, freePort, privateCa, waitFor, HOST } from '../helpers/net.js';
import { startProxy } from '../helpers/proxy.js';
import { cleanup, backend, proxy, route, type Res, request, raw } from '../helpers/http-proxy-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('bad requests', () => {
  const smuggling = [
    [
      'Content-Length and Transfer-Encoding',
      'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    ],
    ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'],
    [
      'Transfer-Encoding not ending in chunked',
      'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n',
    ],
  ] as const;
  for (const [what, bytes] of smuggling) {
    it(`rejects a smuggling attempt (${what}) with 400 and never forwards it`, async () => {
      const be = await backend('be');
      const port = await freePort();
      const p = await proxy(port, [route('be', port, be.port)]);
      const out = await raw(port, bytes);
      expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
      expect(out.toLowerCase()).toContain('connection: close');
      expect(be.seen).toHaveLength(0);
      const ev = await p.events.next();
      expect(ev.reason).toBe('http_request_smuggling');
      expect(ev.initiator).toBe('client');
      expect((await p.requests.next()).status).toBe(400);
    });
  }

  it('rejects oversized heads and too many fields with 431', async () => {
    const be = await backend('be');
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)], { http: { maxHeaderSize: 1024, maxHeaderCount: 10 } });
    const big = await raw(port, `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(2000)}\r\n\r\n`);
    expect(big).toMatch(/^HTTP\/1\.1 431 /);
    let many = 'GET / HTTP/1.1\r\nHost: h\r\n';
    for (let i = 0; i < 20; i++) many += `X-${i}: 1\r\n`;
    expect(await raw(port, `${many}\r\n`)).toMatch(/^HTTP\/1\.1 431 /);
    expect(be.seen).toHaveLength(0);
    await waitFor(() => p.events.events.length === 2);
    expect(p.events.reasons()).toEqual(['http_headers_too_large', 'http_headers_too_large']);
  });

  it('answers garbage with 400 http_bad_request', async () => {
    const be = await backend('be');
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)]);
    expect(await raw(port, 'GET / HTTP/1.1\r\nHost: h\r\nBad Header\r\n\r\n')).toMatch(/^HTTP\/1\.1 400 /);
    expect(await raw(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5]))).toMatch(/^HTTP\/1\.1 400 /);
    await waitFor(() => p.events.events.length === 2);
    expect(p.events.reasons()).toEqual(['http_bad_request', 'http_bad_request']);
    expect(p.events.events[0]!.error).toContain('malformed HTTP request');
  });

  it('answers a head that does not complete within requestHeadersTimeout with 408', async () => {
    const be = await backend('be');
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)], { http: { requestHeadersTimeout: 150 } });
    const s = net.connect(port, HOST);
    const parts: Buffer[] = [];
    s.on('data', (d: Buffer) => parts.push(d));
    s.write('GET / HTTP/1.1\r\nHo');
    await closed(s, 3000);
    expect(Buffer.concat(parts).toString()).toMatch(/^HTTP\/1\.1 408 /);
    expect((await p.events.next()).reason).toBe('http_headers_timeout');
  });
});

describe('backend failures', () => {
  it('answers 502 with backend_connect_failed when the backend is down, and keeps the client', async () => {
    const dead = await freePort();
    const port = await freePort();
    const p = await proxy(port, [route('down', port, dead)]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    const r1 = await request(port, { agent });
    expect(r1.status).toBe(502);
    expect(r1.body).toContain('backend_connect_failed');
    expect((await request(port, { agent })).status).toBe(502);
    const evs = p.requests.events;
    expect(evs.map((e) => `${e.status} ${e.reason} ${e.statusClass}`)).toEqual([
      '502 backend_connect_failed 5xx',
      '502 backend_connect_failed 5xx',
    ]);
    expect(p.events.events).toHaveLength(0); // the client connection is still open
  });

  it('answers 504 when the backend does not answer within responseTimeout', async () => {
    const be = await backend('slow', () => {
      /* never answers */
    });
    const port = await freePort();
    const p = await proxy(port, [route('slow', port, be.port)], { http: { responseTimeout: 150 } });
    const r = await request(port);
    expect(r.status).toBe(504);
    expect((await p.requests.next()).reason).toBe('http_response_timeout');
  });

  it('answers 503 when every upstream socket stays busy past queueTimeout', async () => {
    const be = await backend('slow', (_req, res) => setTimeout(() => res.end('late'), 600));
    const port = await freePort();
    const p = await proxy(port, [route('slow', port, be.port)], {
      http: { upstream: { maxSockets: 1, queueTimeout: 100 } },
    });
    const [a, b] = await Promise.all([request(port, { path: '/a' }), request(port, { path: '/b' })]);
    expect([a.status, b.status].sort()).toEqual([200, 503]);
    await p.requests.next((e) => e.reason === 'http_upstream_busy');
    expect(p.requests.events.map((e) => e.reason).sort()).toEqual(['http_completed', 'http_upstream_busy']);
  });

  it('answers 502 http_bad_response to a malformed response, and aborts when the backend dies mid-body', async () => {
    const srv = net.createServer((s) => {
      s.on('data', (d: Buffer) => {
        if (d.toString().startsWith('GET /bad')) s.end('HTTP/1.1 2x0 What\r\n\r\n');
        else {
          s.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial');
          setTimeout(() => s.destroy(), 50);
        }
      });
    });
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => srv.close(() => r())));
    const port = await freePort();
    const p = await proxy(port, [route('raw', port, (srv.address() as AddressInfo).port)]);
    expect((await request(port, { path: '/bad' })).status).toBe(502);
    expect((await p.requests.next()).reason).toBe('http_bad_response');
    const out = await raw(port, 'GET /cut HTTP/1.1\r\nHost: h\r\n\r\n');
    expect(out).toContain('partial');
    const ev = await p.events.next((e) => e.reason !== 'client_closed');
    expect(['backend_closed', 'backend_reset']).toContain(ev.reason);
    expect(ev.initiator).toBe('backend');
  });
});

describe('TLS termination with HTTP', () => {
  it('terminates two certificates by SNI, sends X-Forwarded-Proto https, and offers http/1.1 in ALPN', async () => {
    const [a, b] = await Promise.all([certFor('a.test'), certFor('b.test')]);
    const be = await backend('be');
    const port = await freePort();
    await proxy(port, [
      {
        name: 'a',
        match: { ports: port, domains: 'a.test' },
        action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'terminate', certificate: a } },
      },
      {
        name: 'b',
        match: { ports: port, domains: 'b.test' },
        action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'terminate', certificate: b } },
      },
    ]);
    for (const [name, pem] of [
      ['a.test', a],
      ['b.test', b],
    ] as const) {
      const res = await new Promise<{ cn: string; body: string; alpn: string | false | null }>((resolve, reject) => {
        const opts = {
          host: HOST,
          port,
          servername: name,
          ca: pem.cert,
          path: `/${name}`,
          headers: { host: name },
          ALPNProtocols: ['h2', 'http/1.1'],
        } as https.RequestOptions;
        const req = https.request(opts, (r) => {
          const sock = r.socket as import('node:tls').TLSSocket;
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () =>
            resolve({ cn: String(sock.getPeerCertificate().subject.CN), body, alpn: sock.alpnProtocol }),
          );
        });
        req.on('error', reject);
        req.end();
      });
      expect(res).toEqual({ cn: name, body: `be GET /${name}`, alpn: 'http/1.1' });
    }
    expect(be.seen.map((s) => s.headers['x-forwarded-proto'])).toEqual(['https', 'https']);
  });

  it('re-encrypts to an HTTPS backend signed by a private CA, and answers 502 backend_tls_error for an untrusted one', async () => {
    const { ca, leaf } = await privateCa('backend.test');
    const front = await certFor('front.test');
    const srv = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) =>
      res.end(`secure ${req.url} via ${(req.socket as import('node:tls').TLSSocket).servername}`),
    );
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    cleanup.push(
      () =>
        new Promise<void>((r) => {
          srv.closeAllConnections();
          srv.close(() => r());
        }),
    );
    const bport = (srv.address() as AddressInfo).port;
    const port = await freePort();
    const p = await proxy(port, [
      {
        name: 'trusted',
        match: { ports: port, domains: 'front.test', path: '/ok*' },
        action: {
          type: 'forward',
          target: { host: HOST, port: bport },
          tls: { mode: 'terminate-and-reencrypt', certificate: front, ca: ca.cert, servername: 'backend.test' },
        },
      },
      {
        name: 'untrusted',
        match: { ports: port, domains: 'front.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: bport },
          tls: { mode: 'terminate-and-reencrypt', certificate: front, servername: 'backend.test' },
        },
      },
    ]);
    const get = (path: string): Promise<Res> =>
      new Promise((resolve, reject) => {
        const req = https.request(
          { host: HOST, port, servername: 'front.test', ca: front.cert, path, headers: { host: 'front.test' } },
          (r) => {
            let body = '';
            r.on('data', (d) => (body += d));
            r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body }));
          },
        );
        req.on('error', reject);
        req.end();
      });
    expect(await get('/ok')).toMatchObject({ status: 200, body: 'secure /ok via backend.test' });
    const bad = await get('/other');
    expect(bad.status).toBe(502);
    const ev = await p.requests.next((e) => e.routeName === 'untrusted');
    expect(ev.reason).toBe('backend_tls_error');
  });
});

describe('drain', () => {
  it('closes idle keep-alive connections at stop() and finishes the request in flight', async () => {
    const be = await backend('slow', (_req, res) => setTimeout(() => res.end('done'), 200));
    const port = await freePort();
    const p = await startProxy({ gracefulShutdownTimeout: 2000, routes: [route('slow', port, be.port)] });
    const idle = net.connect(port, HOST);
    await new Promise((r) => idle.once('connect', r));
    const inflight = request(port, { path: '/x' });
    await new Promise((r) => setTimeout(r, 50));
    const stopping = p.stop();
    const r = await inflight;
    expect(r.body).toBe('done');
    expect(r.headers.connection).toBe('close');
    await closed(idle);
    await stopping;
    expect(p.events.reasons().sort()).toEqual(['shutdown', 'shutdown']);
  });
});
