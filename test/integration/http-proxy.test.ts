/**
 * HTTP/1.1 through Sightline: per-request routing, keep-alive pools, header policy, limits,
 * smuggling defences and the proxy's own error responses, each with its reason.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import https from 'node:https';
import net, { type AddressInfo } from 'node:net';
import type { SightlineOptions } from '../../src/config/schema.js';
import { certFor, closed, freePort, privateCa, sha256, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  socket: number;
  bodyHash: string;
}

/** An HTTP backend that records every request (and which TCP connection carried it). */
async function backend(tag: string, handler?: (req: http.IncomingMessage, res: http.ServerResponse, body: Buffer) => void): Promise<{ port: number; seen: Seen[]; connections: () => number; server: http.Server }> {
  const seen: Seen[] = [];
  let sockets = 0;
  const ids = new WeakMap<net.Socket, number>();
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (d: Buffer) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, socket: ids.get(req.socket) ?? -1, bodyHash: sha256(body) });
      if (handler) handler(req, res, body);
      else res.end(`${tag} ${req.method} ${req.url}`);
    });
  });
  server.on('connection', (s) => ids.set(s, ++sockets));
  await new Promise<void>((r) => server.listen(0, HOST, r));
  cleanup.push(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  return { port: (server.address() as AddressInfo).port, seen, connections: () => sockets, server };
}

async function proxy(port: number, routes: SightlineOptions['routes'], extra: Partial<SightlineOptions> = {}): Promise<RunningProxy> {
  void port;
  const p = await startProxy({ gracefulShutdownTimeout: 200, ...extra, routes });
  cleanup.push(() => p.stop());
  return p;
}

function route(name: string, port: number, target: number, more: { match?: object; action?: object } = {}): SightlineOptions['routes'][number] {
  return {
    name,
    match: { ports: port, ...more.match },
    action: { type: 'forward', protocol: 'http', target: { host: HOST, port: target }, ...more.action },
  } as SightlineOptions['routes'][number];
}

interface Res {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(port: number, opts: http.RequestOptions & { body?: string | Buffer } = {}): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: HOST, port, path: '/', ...opts }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (d: Buffer) => parts.push(d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(parts).toString() }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Send raw bytes on a fresh connection; resolve with everything the proxy answered until it closed. */
function raw(port: number, bytes: string | Buffer, timeoutMs = 3000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    const parts: Buffer[] = [];
    const t = setTimeout(() => {
      s.destroy();
      resolve(Buffer.concat(parts).toString('latin1'));
    }, timeoutMs);
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', reject);
    s.on('close', () => {
      clearTimeout(t);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
    s.write(bytes);
  });
}

describe('HTTP/1.1 routing', () => {
  it('routes each request by path, header and Host, and sets X-Forwarded-* while passing traceparent on', async () => {
    const [api, blue, web, other] = await Promise.all([backend('api'), backend('blue'), backend('web'), backend('other')]);
    const port = await freePort();
    const p = await proxy(port, [
      route('api', port, api.port, { match: { path: '/api/*' } }),
      route('blue', port, blue.port, { match: { headers: { 'X-Tenant': 'blue' } } }),
      route('web', port, web.port, { match: { domains: 'www.example.test' } }),
      route('other', port, other.port),
    ]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    cleanup.push(() => agent.destroy());
    const trace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect((await request(port, { agent, path: '/api/users?x=1', headers: { host: 'www.example.test', traceparent: trace } })).body).toBe('api GET /api/users?x=1');
    expect((await request(port, { agent, path: '/', headers: { 'x-tenant': 'blue', host: 'www.example.test' } })).body).toBe('blue GET /');
    expect((await request(port, { agent, path: '/', headers: { host: 'WWW.Example.Test:8080' } })).body).toBe('web GET /');
    expect((await request(port, { agent, path: '/', headers: { host: 'elsewhere.test' } })).body).toBe('other GET /');
    const h = api.seen[0]!.headers;
    expect(h['x-forwarded-for']).toBe('127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    expect(h['x-forwarded-host']).toBe('www.example.test');
    expect(h.traceparent).toBe(trace);
    const evs = p.requests.events;
    expect(evs.map((e) => e.routeName)).toEqual(['api', 'blue', 'web', 'other']);
    expect(evs.every((e) => e.reason === 'http_completed' && e.statusClass === '2xx')).toBe(true);
  });

  it('answers 404 with no_route when no route matches, and keeps the connection', async () => {
    const api = await backend('api');
    const port = await freePort();
    const p = await proxy(port, [route('api', port, api.port, { match: { path: '/api/*' } })]);
    const out = await raw(port, 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /api/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[\s\S]*no_route[\s\S]*HTTP\/1\.1 200 OK/);
    expect(p.requests.events.map((e) => `${e.status} ${e.reason}`)).toEqual(['404 no_route', '200 http_completed']);
    expect((await p.events.next()).reason).toBe('client_closed');
  });

  it("applies a path-routed route's IP allow list to each request (403, route_ip_blocked)", async () => {
    const [admin, site] = await Promise.all([backend('admin'), backend('site')]);
    const port = await freePort();
    const p = await proxy(port, [
      { ...route('admin', port, admin.port, { match: { path: '/admin/*' } }), security: { ipAllowList: ['10.0.0.0/8'] } },
      route('site', port, site.port),
    ]);
    const out = await raw(port, 'GET /admin/users HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect(out).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*route_ip_blocked[\s\S]*site GET \//);
    expect(admin.seen).toHaveLength(0);
    expect(p.requests.events.map((e) => `${e.status} ${e.reason}`)).toEqual(['403 route_ip_blocked', '200 http_completed']);
  });

  it('strips hop-by-hop headers both ways and appends to an incoming X-Forwarded-For', async () => {
    const be = await backend('be', (_req, res) => {
      res.setHeader('Keep-Alive', 'timeout=5');
      res.setHeader('X-Hop', 'secret');
      res.setHeader('Connection', 'X-Hop');
      res.end('ok');
    });
    const port = await freePort();
    await proxy(port, [route('be', port, be.port)]);
    const out = await raw(port, 'GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Drop, close\r\nX-Drop: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: gopher\r\n\r\n');
    const h = be.seen[0]!.headers;
    expect(h['x-drop']).toBeUndefined();
    expect(h['keep-alive']).toBeUndefined();
    expect(h.te).toBeUndefined();
    expect(h['proxy-authorization']).toBeUndefined();
    expect(h['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(h['x-forwarded-proto']).toBe('http');
    const head = out.slice(0, out.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).toContain('HTTP/1.1 200'.toLowerCase());
    expect(head).not.toContain('keep-alive: timeout');
    expect(head).not.toContain('x-hop');
    expect(head).toContain('connection: close');
  });
});

describe('keep-alive', () => {
  it('reuses one upstream connection across requests and client connections', async () => {
    const be = await backend('be');
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)]);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    for (let i = 0; i < 5; i++) expect((await request(port, { agent, path: `/${i}` })).body).toBe(`be GET /${i}`);
    agent.destroy();
    // A new client connection gets the pooled upstream socket too.
    expect((await request(port, { path: '/fresh', headers: { connection: 'close' } })).body).toBe('be GET /fresh');
    expect(be.connections()).toBe(1);
    expect(new Set(be.seen.map((s) => s.socket))).toEqual(new Set([1]));
    expect(p.requests.events.map((e) => e.reusedUpstream)).toEqual([false, true, true, true, true, true]);
    const stats = p.proxy.getUpstreamPoolStats();
    expect(stats.created).toBe(1);
    expect(stats.reused).toBe(5);
  });

  it('answers pipelined requests in order, one at a time', async () => {
    const be = await backend('be');
    const port = await freePort();
    await proxy(port, [route('be', port, be.port)]);
    const out = await raw(port, 'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    expect([...out.matchAll(/be GET \/(\d)/g)].map((m) => m[1])).toEqual(['1', '2', '3']);
  });

  it('closes an idle client connection after keepAliveTimeout', async () => {
    const be = await backend('be');
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)], { http: { keepAliveTimeout: 150 } });
    const s = net.connect(port, HOST);
    s.write('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const t0 = Date.now();
    await closed(s, 3000);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    const ev = await p.events.next();
    expect(ev.reason).toBe('http_keep_alive_timeout');
    expect(ev.http?.requests).toBe(1);
  });

  it('retries an idempotent request once when the pooled socket was closed by the backend', async () => {
    const be = await backend('be');
    be.server.keepAliveTimeout = 60; // the backend drops idle sockets fast
    const port = await freePort();
    const p = await proxy(port, [route('be', port, be.port)], { http: { upstream: { idleTimeout: 10_000 } } });
    expect((await request(port, { path: '/a' })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    expect((await request(port, { path: '/b' })).body).toBe('be GET /b');
    expect(p.requests.events.map((e) => e.reason)).toEqual(['http_completed', 'http_completed']);
  });
});

describe('bodies', () => {
  it('streams a large content-length request and a chunked response byte for byte', async () => {
    const big = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31 + 7) & 0xff;
    const be = await backend('be', (_req, res, body) => {
      res.setHeader('content-type', 'application/octet-stream');
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000)); // no content-length: chunked
    });
    const port = await freePort();
    await proxy(port, [route('be', port, be.port)]);
    const got = await new Promise<{ hash: string; te: string | undefined }>((resolve, reject) => {
      const req = http.request({ host: HOST, port, method: 'POST', path: '/up', headers: { 'content-length': big.length } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (d: Buffer) => parts.push(d));
        res.on('end', () => resolve({ hash: sha256(parts), te: res.headers['transfer-encoding'] }));
      });
      req.on('error', reject);
      req.end(big);
    });
    expect(be.seen[0]!.bodyHash).toBe(sha256(big));
    expect(got.te).toBe('chunked');
    expect(got.hash).toBe(sha256(big));
  });

  it('forwards a chunked request body and 100-continue', async () => {
    const be = await backend('be', (_req, res, body) => res.end(`got ${body.length}`));
    const port = await freePort();
    await proxy(port, [route('be', port, be.port)]);
    const out = await raw(port, 'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n');
    expect(out).toContain('HTTP/1.1 100 Continue');
    expect(out).toContain('got 11');
    expect(be.seen[0]!.headers['transfer-encoding']).toBe('chunked');
  });
});

describe('bad requests', () => {
  const smuggling = [
    ['Content-Length and Transfer-Encoding', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
    ['conflicting Content-Length', 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\nContent-Length: 5\r\n\r\nabcde'],
    ['Transfer-Encoding not ending in chunked', 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, identity\r\n\r\n'],
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
    expect(evs.map((e) => `${e.status} ${e.reason} ${e.statusClass}`)).toEqual(['502 backend_connect_failed 5xx', '502 backend_connect_failed 5xx']);
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
    const p = await proxy(port, [route('slow', port, be.port)], { http: { upstream: { maxSockets: 1, queueTimeout: 100 } } });
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
      { name: 'a', match: { ports: port, domains: 'a.test' }, action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'terminate', certificate: a } } },
      { name: 'b', match: { ports: port, domains: 'b.test' }, action: { type: 'forward', target: { host: HOST, port: be.port }, tls: { mode: 'terminate', certificate: b } } },
    ]);
    for (const [name, pem] of [['a.test', a], ['b.test', b]] as const) {
      const res = await new Promise<{ cn: string; body: string; alpn: string | false | null }>((resolve, reject) => {
        const opts = { host: HOST, port, servername: name, ca: pem.cert, path: `/${name}`, headers: { host: name }, ALPNProtocols: ['h2', 'http/1.1'] } as https.RequestOptions;
        const req = https.request(opts, (r) => {
          const sock = r.socket as import('node:tls').TLSSocket;
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ cn: String(sock.getPeerCertificate().subject.CN), body, alpn: sock.alpnProtocol }));
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
    const srv = https.createServer({ key: leaf.key, cert: leaf.cert }, (req, res) => res.end(`secure ${req.url} via ${(req.socket as import('node:tls').TLSSocket).servername}`));
    await new Promise<void>((r) => srv.listen(0, HOST, r));
    cleanup.push(() => new Promise<void>((r) => { srv.closeAllConnections(); srv.close(() => r()); }));
    const bport = (srv.address() as AddressInfo).port;
    const port = await freePort();
    const p = await proxy(port, [
      { name: 'trusted', match: { ports: port, domains: 'front.test', path: '/ok*' }, action: { type: 'forward', target: { host: HOST, port: bport }, tls: { mode: 'terminate-and-reencrypt', certificate: front, ca: ca.cert, servername: 'backend.test' } } },
      { name: 'untrusted', match: { ports: port, domains: 'front.test' }, action: { type: 'forward', target: { host: HOST, port: bport }, tls: { mode: 'terminate-and-reencrypt', certificate: front, servername: 'backend.test' } } },
    ]);
    const get = (path: string): Promise<Res> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: HOST, port, servername: 'front.test', ca: front.cert, path, headers: { host: 'front.test' } }, (r) => {
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode!, headers: r.headers, body }));
        });
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
