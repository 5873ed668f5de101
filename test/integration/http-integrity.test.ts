/**
 * Issue 10, each attack from the issue against the real proxy and real keep-alive backends:
 * framing fields named by Connection, pooled sockets after any doubt, path spellings around a
 * protected route, absolute-form authority, Host across certificates, segmentation, early bodies.
 */
import { afterEach, describe, expect, it } from 'vitest';
import tls from 'node:tls';
import type { SightlineOptions } from '../../src/config/schema.js';
import { certFor, freePort, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import { exchange, recordingBackend, scriptedBackend, type Backend } from './http-corpus/harness.js';

const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

type Route = SightlineOptions['routes'][number];

function route(
  name: string,
  port: number,
  target: number,
  more: { match?: object; action?: object; security?: object } = {},
): Route {
  return {
    name,
    match: { ports: port, ...more.match },
    action: { type: 'forward', protocol: 'http', target: { host: HOST, port: target }, ...more.action },
    ...(more.security === undefined ? {} : { security: more.security }),
  } as Route;
}

async function proxy(routes: Route[], extra: Partial<SightlineOptions> = {}): Promise<RunningProxy> {
  const p = await startProxy({
    gracefulShutdownTimeout: 200,
    ...extra,
    http: { upstream: { maxSockets: 1 }, ...extra.http },
    routes,
  });
  cleanup.push(() => p.stop());
  return p;
}

async function backend(): Promise<Backend> {
  const b = await recordingBackend();
  cleanup.push(() => b.close());
  return b;
}

const bytes = (s: string): Buffer => Buffer.from(s, 'latin1');

/** The next client on the (single) pooled socket gets its own answer. */
async function victimGetsOwnResponse(port: number, be: Backend, n: number): Promise<void> {
  const out = await exchange(port, bytes(`GET /victim-${n} HTTP/1.1\r\nHost: v\r\n\r\n`));
  expect(out).toMatch(new RegExp(`^HTTP/1\\.1 200 OK\\r\\n[\\s\\S]*\\r\\n\\r\\nseen \\d+ GET /victim-${n} 0$`));
  expect(be.seen.at(-1)?.url).toBe(`/victim-${n}`);
}

describe('fields named by Connection', () => {
  const cases = [
    [
      'Content-Length',
      'POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 40\r\nConnection: Content-Length\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n',
    ],
    [
      'Transfer-Encoding',
      'POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive, transfer-encoding\r\n\r\n0\r\n\r\n',
    ],
    ['Host', 'GET /x HTTP/1.1\r\nHost: h\r\nConnection: host\r\n\r\n'],
    ['a header a route matches on', 'GET /x HTTP/1.1\r\nHost: h\r\nX-Tenant: blue\r\nConnection: X-Tenant\r\n\r\n'],
  ] as const;
  for (const [what, req] of cases) {
    it(`refuses a request whose Connection names ${what}: 400 http_nominated_field, nothing forwarded`, async () => {
      const be = await backend();
      const port = await freePort();
      const p = await proxy([
        route('blue', port, be.port, { match: { headers: { 'X-Tenant': 'blue' } } }),
        route('be', port, be.port),
      ]);
      await victimGetsOwnResponse(port, be, 0);
      const out = await exchange(port, bytes(req));
      expect(out).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n[\s\S]*http_nominated_field/);
      expect(be.seen.map((s) => s.url)).toEqual(['/victim-0']);
      await victimGetsOwnResponse(port, be, 1);
      expect(p.requests.events.map((e) => `${e.status} ${e.reason}`)).toEqual([
        '200 http_completed',
        '400 http_nominated_field',
        '200 http_completed',
      ]);
      expect(be.connections()).toBe(1);
    });
  }

  it('the same through TLS termination', async () => {
    const cert = await certFor('t.test');
    const be = await backend();
    const port = await freePort();
    const p = await proxy([
      {
        name: 't',
        match: { ports: port, domains: 't.test' },
        action: {
          type: 'forward',
          target: { host: HOST, port: be.port },
          tls: { mode: 'terminate', certificate: cert },
        },
      } as Route,
    ]);
    const out = await new Promise<string>((resolve) => {
      const s = tls.connect({ host: HOST, port, servername: 't.test', ca: cert.cert }, () =>
        s.end(
          'POST /x HTTP/1.1\r\nHost: t.test\r\nContent-Length: 35\r\nConnection: Content-Length\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: t.test\r\n\r\n',
        ),
      );
      let got = '';
      s.on('data', (d: Buffer) => (got += d.toString('latin1')));
      s.on('error', () => undefined);
      s.on('close', () => resolve(got));
    });
    expect(out).toMatch(/^HTTP\/1\.1 400 /);
    expect(be.seen).toHaveLength(0);
    expect((await p.requests.next()).reason).toBe('http_nominated_field');
  });

  it('a response whose Connection names Content-Length: 502, its socket destroyed and counted, the next client unharmed', async () => {
    const be = await scriptedBackend((line) =>
      line.includes('/evil')
        ? bytes(
            'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: content-length\r\n\r\nhelloHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison',
          )
        : bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`),
    );
    cleanup.push(() => be.close());
    const port = await freePort();
    const p = await proxy([route('raw', port, be.port)]);
    const out = await exchange(port, bytes('GET /evil HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(out).toMatch(/^HTTP\/1\.1 502 Bad Gateway\r\n[\s\S]*http_response_nominated_field/);
    expect(out).not.toContain('poison');
    const next = await exchange(port, bytes('GET /next HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(next).toMatch(/\r\n\r\nGET \/next HTTP\/1\.1$/);
    expect(p.proxy.getUpstreamPoolStats().discarded.bad_response).toBe(1);
    expect(be.connections()).toBe(2);
    expect(p.requests.events.map((e) => e.reason)).toEqual(['http_response_nominated_field', 'http_completed']);
  });
});

describe('identical duplicate Content-Length', () => {
  it('is forwarded as one field; differing values stay a 400', async () => {
    const be = await backend();
    const port = await freePort();
    await proxy([route('be', port, be.port)]);
    const out = await exchange(
      port,
      bytes('POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc'),
    );
    expect(out).toMatch(/seen 1 POST \/d 3$/);
    const cl = be.seen[0]!.rawHeaders.filter((_v, i, a) => i % 2 === 0 && a[i]!.toLowerCase() === 'content-length');
    expect(cl).toHaveLength(1);
    expect(await exchange(port, bytes('POST /d HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 4\r\n\r\nabcd'))).toMatch(
      /^HTTP\/1\.1 400 [\s\S]*http_request_smuggling/,
    );
  });
});

describe('pooled sockets after a doubt', () => {
  it('bytes after a complete response, a close-framed response and bytes on an idle socket: each socket destroyed and counted', async () => {
    const be = await scriptedBackend((line) => {
      if (line.includes('/extra'))
        return bytes(
          'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison',
        );
      if (line.includes('/late'))
        return [
          bytes('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'),
          bytes('HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\npoison'),
        ];
      if (line.includes('/close'))
        return [bytes('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil close'), Buffer.alloc(0)];
      return bytes(`HTTP/1.1 200 OK\r\nContent-Length: ${line.length}\r\n\r\n${line}`);
    });
    cleanup.push(() => be.close());
    const port = await freePort();
    const p = await proxy([route('raw', port, be.port)]);
    expect(await exchange(port, bytes('GET /extra HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nok$/);
    expect(await exchange(port, bytes('GET /v1 HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nGET \/v1 HTTP\/1\.1$/);
    expect(await exchange(port, bytes('GET /late HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nok$/);
    await waitFor(() => p.proxy.getUpstreamPoolStats().discarded.unsolicited === 2);
    expect(await exchange(port, bytes('GET /v2 HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nGET \/v2 HTTP\/1\.1$/);
    // A body framed by the backend's close ends the client connection with it; the socket is gone.
    expect(await exchange(port, bytes('GET /close HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nuntil close$/);
    expect(await exchange(port, bytes('GET /v3 HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(/\r\n\r\nGET \/v3 HTTP\/1\.1$/);
    const d = p.proxy.getUpstreamPoolStats().discarded;
    expect(d).toMatchObject({ unsolicited: 2, close_framed: 1 });
    // extra → 1st socket; v1, late → 2nd; v2, close → 3rd; v3 → 4th: no socket outlived a doubt.
    expect(be.connections()).toBe(4);
    expect(be.requests.map((l) => l.split(' ')[1])).toEqual(['/extra', '/v1', '/late', '/v2', '/close', '/v3']);
  });
});

describe('routing sees what the backend sees', () => {
  const spellings = [
    '/admin/x',
    '/%61dmin/x',
    '//admin/x',
    '/./admin/x',
    '/x/../admin/x',
    '/%2e/admin/x',
    '/%2E%2E/admin/x',
    '/ADMIN/x',
    '/Admin/%78',
  ];
  it(`every spelling of /admin/x meets the admin route's IP list: ${spellings.join(' ')}`, async () => {
    const [admin, site] = await Promise.all([backend(), backend()]);
    const port = await freePort();
    const p = await proxy([
      route('admin', port, admin.port, {
        match: { path: '/admin*', pathCaseInsensitive: true },
        security: { ipAllowList: ['10.0.0.0/8'] },
      }),
      route('site', port, site.port),
    ]);
    for (const path of spellings) {
      const out = await exchange(port, bytes(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`));
      expect(out, path).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n[\s\S]*route_ip_blocked/);
    }
    for (const path of ['/;/admin/x', '/admin%2Fx', '/x\\..\\admin']) {
      expect(await exchange(port, bytes(`GET ${path} HTTP/1.1\r\nHost: h\r\n\r\n`)), path).toMatch(
        /^HTTP\/1\.1 400 [\s\S]*http_bad_path/,
      );
    }
    expect(admin.seen).toHaveLength(0);
    expect(site.seen).toHaveLength(0);
    expect(p.requests.events.filter((e) => e.reason === 'http_bad_path')).toHaveLength(3);
    // What routing matched is what the backend receives.
    const out = await exchange(port, bytes('GET /a/./b/../%63//d?q=/../x HTTP/1.1\r\nHost: h\r\n\r\n'));
    expect(out).toMatch(/seen 1 GET \/a\/c\/d\?q=\/\.\.\/x 0$/);
  });

  it('path parameters and escaped slashes follow http.path when configured', async () => {
    const site = await backend();
    const port = await freePort();
    await proxy([route('site', port, site.port)], {
      http: { path: { escapedSlashes: 'keep', pathParameters: 'strip' } },
    });
    expect(await exchange(port, bytes('GET /a;x=1/b%2fc HTTP/1.1\r\nHost: h\r\n\r\n'))).toMatch(
      /seen 1 GET \/a\/b%2Fc 0$/,
    );
  });

  it('an absolute-form target routes by its authority, and the backend gets that Host and origin-form', async () => {
    const [internal, pub] = await Promise.all([backend(), backend()]);
    const port = await freePort();
    await proxy([
      route('internal', port, internal.port, { match: { domains: 'internal.test' } }),
      route('public', port, pub.port),
    ]);
    const out = await exchange(port, bytes('GET http://Internal.Test/x/../y HTTP/1.1\r\nHost: public.test\r\n\r\n'));
    expect(out).toMatch(/seen 1 GET \/y 0$/);
    expect(pub.seen).toHaveLength(0);
    const raw = internal.seen[0]!.rawHeaders;
    const hosts = raw.filter((_v, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === 'host');
    expect(hosts).toEqual(['internal.test']);
  });
});

describe('HTTP/1.0 without Host', () => {
  it('goes on as HTTP/1.1 with the backend as Host, and no X-Forwarded-Host', async () => {
    const be = await backend();
    const port = await freePort();
    await proxy([route('be', port, be.port)]);
    expect(await exchange(port, bytes('GET /old HTTP/1.0\r\n\r\n'))).toMatch(/seen 1 GET \/old 0$/);
    const raw = be.seen[0]!.rawHeaders;
    const get = (name: string): string[] => raw.filter((_v, i) => i % 2 === 1 && raw[i - 1]!.toLowerCase() === name);
    expect(get('host')).toEqual([`${HOST}:${be.port}`]);
    expect(get('x-forwarded-host')).toEqual([]);
  });
});

describe('Host across certificates (TLS termination)', () => {
  it('answers 421 when Host names a domain of another certificate than the SNI, unless allowed', async () => {
    const [a, b] = await Promise.all([certFor('a.test'), certFor('b.test')]);
    const be = await backend();
    const port = await freePort();
    const tlsRoute = (name: string, domain: string, cert: typeof a, allow: boolean): Route =>
      ({
        name,
        match: { ports: port, domains: domain },
        action: {
          type: 'forward',
          target: { host: HOST, port: be.port },
          tls: { mode: 'terminate', certificate: cert, allowMisdirected: allow },
        },
      }) as Route;
    const p = await proxy([tlsRoute('a', 'a.test', a, false), tlsRoute('b', 'b.test', b, true)]);
    const ask = (sni: string, host: string, ca: string): Promise<string> =>
      new Promise((resolve) => {
        const s = tls.connect({ host: HOST, port, servername: sni, ca }, () =>
          s.end(`GET /p HTTP/1.1\r\nHost: ${host}\r\n\r\n`),
        );
        let got = '';
        s.on('data', (d: Buffer) => (got += d.toString('latin1')));
        s.on('error', () => undefined);
        s.on('close', () => resolve(got));
      });
    expect(await ask('a.test', 'b.test', a.cert)).toMatch(
      /^HTTP\/1\.1 421 Misdirected Request\r\n[\s\S]*http_misdirected_request/,
    );
    expect(await ask('a.test', 'a.test', a.cert)).toMatch(/^HTTP\/1\.1 200 /);
    expect(await ask('b.test', 'a.test', b.cert)).toMatch(/^HTTP\/1\.1 200 /); // route b allows it
    expect(be.seen).toHaveLength(2);
    expect(p.requests.events.map((e) => e.reason)).toEqual([
      'http_misdirected_request',
      'http_completed',
      'http_completed',
    ]);
  });
});

describe('segmentation and early bodies', () => {
  const heads = [
    ['a bare LF inside the head', 'GET / HTTP/1.1\r\nHost: h\nX-A: b\r\n'],
    ['TLS bytes on a plain port', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03'],
    ['a 20 KiB head', `GET / HTTP/1.1\r\nHost: h\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`],
    ['a complete head with obs-fold', 'GET / HTTP/1.1\r\nHost: h\r\nX-A: b\r\n c\r\n\r\n'],
  ] as const;
  for (const [what, head] of heads) {
    it(`${what}: the same answer whole, in two pieces and byte by byte`, async () => {
      const be = await backend();
      const port = await freePort();
      await proxy([route('be', port, be.port)], { http: { requestHeadersTimeout: 2000 } });
      const b = bytes(head);
      const answers = new Set<string>();
      for (const pieces of [b.length, Math.ceil(b.length / 2), 1]) {
        const out = await exchange(port, b, { pieces, end: false, timeoutMs: 2500 });
        answers.add(out);
      }
      expect(answers.size, [...answers].join('\n---\n')).toBe(1);
      expect([...answers][0]).toMatch(/^HTTP\/1\.1 4\d\d /);
      expect(be.seen).toHaveLength(0);
    });
  }

  it('a chunked body already broken in the first chunk gets 400 with nothing sent to the backend', async () => {
    const be = await backend();
    const port = await freePort();
    const p = await proxy([route('be', port, be.port)]);
    const out = await exchange(
      port,
      bytes('POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nGET /smuggled HTTP/1.1\r\n\r\n'),
    );
    expect(out).toMatch(/^HTTP\/1\.1 400 [\s\S]*invalid chunk size|^HTTP\/1\.1 400 /);
    expect((await p.requests.next()).error).toContain('invalid chunk size');
    expect(be.connections()).toBe(0);
  });
});
