/**
 * HTTP/1.1 through Sightline: per-request routing, header policy, keep-alive pools and bodies.
 * Bad requests, backend failures, TLS and drain: http-proxy-failures.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { closed, freePort, sha256, HOST } from '../helpers/net.js';
import { cleanup, backend, proxy, route, request, raw } from '../helpers/http-proxy-rig.js';

afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

describe('HTTP/1.1 routing', () => {
  it('routes each request by path, header and Host, and sets X-Forwarded-* while passing traceparent on', async () => {
    const [api, blue, web, other] = await Promise.all([
      backend('api'),
      backend('blue'),
      backend('web'),
      backend('other'),
    ]);
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
    expect(
      (
        await request(port, {
          agent,
          path: '/api/users?x=1',
          headers: { host: 'www.example.test', traceparent: trace },
        })
      ).body,
    ).toBe('api GET /api/users?x=1');
    expect(
      (await request(port, { agent, path: '/', headers: { 'x-tenant': 'blue', host: 'www.example.test' } })).body,
    ).toBe('blue GET /');
    expect((await request(port, { agent, path: '/', headers: { host: 'WWW.Example.Test:8080' } })).body).toBe(
      'web GET /',
    );
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
    const out = await raw(
      port,
      'GET /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /api/ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 404 Not Found\r\n[\s\S]*no_route[\s\S]*HTTP\/1\.1 200 OK/);
    expect(p.requests.events.map((e) => `${e.status} ${e.reason}`)).toEqual(['404 no_route', '200 http_completed']);
    expect((await p.events.next()).reason).toBe('client_closed');
  });

  it("applies a path-routed route's IP allow list to each request (403, route_ip_blocked)", async () => {
    const [admin, site] = await Promise.all([backend('admin'), backend('site')]);
    const port = await freePort();
    const p = await proxy(port, [
      {
        ...route('admin', port, admin.port, { match: { path: '/admin/*' } }),
        security: { ipAllowList: ['10.0.0.0/8'] },
      },
      route('site', port, site.port),
    ]);
    const out = await raw(
      port,
      'GET /admin/users HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
    expect(out).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*route_ip_blocked[\s\S]*site GET \//);
    expect(admin.seen).toHaveLength(0);
    expect(p.requests.events.map((e) => `${e.status} ${e.reason}`)).toEqual([
      '403 route_ip_blocked',
      '200 http_completed',
    ]);
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
    const out = await raw(
      port,
      'GET / HTTP/1.1\r\nHost: h\r\nConnection: X-Drop, close\r\nX-Drop: 1\r\nKeep-Alive: 300\r\nTE: trailers\r\nProxy-Authorization: Basic x\r\nX-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: gopher\r\n\r\n',
    );
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
    const out = await raw(
      port,
      'GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n',
    );
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
      const req = http.request(
        { host: HOST, port, method: 'POST', path: '/up', headers: { 'content-length': big.length } },
        (res) => {
          const parts: Buffer[] = [];
          res.on('data', (d: Buffer) => parts.push(d));
          res.on('end', () => resolve({ hash: sha256(parts), te: res.headers['transfer-encoding'] }));
        },
      );
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
    const out = await raw(
      port,
      'POST /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n',
    );
    expect(out).toContain('HTTP/1.1 100 Continue');
    expect(out).toContain('got 11');
    expect(be.seen[0]!.headers['transfer-encoding']).toBe('chunked');
  });
});
