/**
 * The admin server over a hand-written AdminSource fake (the admin layer's unit boundary; the
 * proxy wiring is tested where the composition root is): every endpoint over real HTTP, the
 * token, query parsing, content negotiation, failures of the source, malformed requests, close().
 */
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import vm from 'node:vm';
import { startAdmin, type AdminServer } from '../../src/admin/server.js';
import type { AdminSource, CloseAges, CloseConnectionResult, CloseRecord, ConnectionDetail, ConnectionInfo, ConnectionQuery, HealthInfo, OpenAges, PatternInfo, RecentCloses, RouteInfo } from '../../src/admin/source.js';
import { STATUS_JS } from '../../src/admin/status-script.js';
import { SightlineError } from '../../src/core/errors.js';

const HOST = '127.0.0.1';
const TOKEN = 's3cret-token';

const conn = (id: number, over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  id,
  route: 'ws',
  client: '10.0.0.7',
  clientPort: 50000 + id,
  listenPort: 8443,
  sni: 'app.example.test',
  target: '127.0.0.1:9000',
  uniqueId: null,
  previousHopId: null,
  phase: 'tunnel',
  tls: true,
  keepAliveTreatment: 'standard',
  ageMs: 30_000 - id,
  idleMs: 1_000,
  bytesIn: 10,
  bytesOut: 20,
  ...over,
});

class FakeSource implements AdminSource {
  health_: HealthInfo = { live: true, ready: true, draining: false };
  conns: ConnectionInfo[] = [conn(1), conn(2)];
  queries: ConnectionQuery[] = [];
  metricsCalls: boolean[] = [];
  /** Make the next call of this method throw. */
  failNext: string | null = null;

  #maybeFail(name: string): void {
    if (this.failNext === name) {
      this.failNext = null;
      throw new Error(`${name} exploded`);
    }
  }
  async metrics(openMetrics: boolean): Promise<{ contentType: string; body: string }> {
    this.metricsCalls.push(openMetrics);
    this.#maybeFail('metrics');
    return openMetrics
      ? { contentType: 'application/openmetrics-text; version=1.0.0; charset=utf-8', body: 'sightline_up 1\n# EOF\n' }
      : { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: 'sightline_up 1\n' };
  }
  health(): HealthInfo {
    this.#maybeFail('health');
    return this.health_;
  }
  stats(): Readonly<Record<string, unknown>> {
    this.#maybeFail('stats');
    return { active: this.conns.length, accepted: 7, byRoute: { ws: this.conns.length } };
  }
  connections(q: ConnectionQuery): { readonly total: number; readonly items: readonly ConnectionInfo[] } {
    this.#maybeFail('connections');
    this.queries.push(q);
    return { total: this.conns.length, items: this.conns.slice(0, q.limit) };
  }
  routes(): readonly RouteInfo[] {
    return [{ name: 'ws', ports: [8443], domains: ['app.example.test'], mode: 'passthrough', protocol: 'tls', target: '127.0.0.1:9000', active: 2 }];
  }
  patterns(): readonly PatternInfo[] {
    return [{ route: 'ws', periodSeconds: 30, summary: 'route ws: connections die at 30.0 s' }];
  }
  recentCloses(): RecentCloses {
    return { bucketMs: 60_000, buckets: [{ start: 1_700_000_000_000, byReason: { client_closed: 3, inactivity: 1 }, byInitiator: { client: 3, proxy: 1 } }] };
  }
  // The status page's views: tested in admin-views.test.ts.
  closeAges = (): CloseAges => ({ windowMs: 900_000, edgesMs: [], routes: [] });
  openAges = (): OpenAges => ({ edgesMs: [], routes: [] });
  closeRecords = (): CloseRecord[] => [];
  connection = (): ConnectionDetail | null => null;
  // POST /api/connections/:id/close: tested against a real proxy in admin-close.test.ts.
  closeConnection = (): CloseConnectionResult => ({ ok: false, status: 404, error: 'none' });
}

let admin: AdminServer | undefined;
afterEach(async () => {
  await admin?.close();
  admin = undefined;
});

async function start(token?: string): Promise<{ admin: AdminServer; source: FakeSource }> {
  const source = new FakeSource();
  admin = await startAdmin({ host: HOST, port: 0, token }, source);
  return { admin, source };
}

const get = (a: AdminServer, path: string, init?: RequestInit): Promise<Response> => fetch(new URL(path, a.url), init);
const auth = { headers: { Authorization: `Bearer ${TOKEN}` } };

/** Send raw bytes, collect everything until the server closes (or a timeout). */
function raw(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, HOST);
    let out = '';
    s.setTimeout(5_000, () => {
      s.destroy();
      reject(new Error(`no close; got ${JSON.stringify(out)}`));
    });
    s.on('data', (d: Buffer) => (out += d.toString('latin1')));
    s.on('error', () => {});
    s.on('close', () => resolve(out));
    s.write(bytes);
  });
}

describe('admin server: endpoints', () => {
  it('/metrics: plain text by default, OpenMetrics when the Accept header asks for it', async () => {
    const { admin, source } = await start();
    const plain = await get(admin, '/metrics');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await plain.text()).toBe('sightline_up 1\n');
    const om = await get(admin, '/metrics', { headers: { Accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' } });
    expect(om.status).toBe(200);
    expect(om.headers.get('content-type')).toMatch(/^application\/openmetrics-text/);
    expect(await om.text()).toContain('# EOF');
    const promtool = await get(admin, '/metrics', { headers: { Accept: 'text/plain; version=0.0.4' } });
    expect(promtool.headers.get('content-type')).toMatch(/^text\/plain/);
    await promtool.text();
    expect(source.metricsCalls).toEqual([false, true, false]);
  });

  it('/healthz and /readyz: 200 while live and ready; readyz 503 with the health JSON while draining', async () => {
    const { admin, source } = await start();
    const h = await get(admin, '/healthz');
    expect(h.status).toBe(200);
    expect(h.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await h.json()).toEqual({ status: 'ok' });
    const r = await get(admin, '/readyz');
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ live: true, ready: true, draining: false });

    source.health_ = { live: true, ready: false, draining: true };
    const d = await get(admin, '/readyz');
    expect(d.status).toBe(503);
    expect(await d.json()).toEqual({ live: true, ready: false, draining: true });
    expect((await get(admin, '/healthz')).status).toBe(200);

    source.health_ = { live: false, ready: false, draining: false };
    const down = await get(admin, '/healthz');
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'down' });
  });

  it('/api/stats, /api/routes, /api/patterns, /api/closes, /api/connections answer JSON from the source', async () => {
    const { admin, source } = await start();
    const cases: Array<[string, unknown]> = [
      ['/api/stats', source.stats()],
      ['/api/routes', { routes: source.routes() }],
      ['/api/patterns', { patterns: source.patterns() }],
      ['/api/closes', source.recentCloses()],
      ['/api/connections', { total: 2, items: source.conns }],
    ];
    for (const [path, body] of cases) {
      const r = await get(admin, path);
      expect(r.status, path).toBe(200);
      expect(r.headers.get('content-type'), path).toBe('application/json; charset=utf-8');
      expect(await r.json(), path).toEqual(body);
    }
  });

  it('/ serves the status page with a strict CSP; /status.js and /status.css are its assets', async () => {
    const { admin } = await start();
    const page = await get(admin, '/');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    const html = await page.text();
    for (const id of ['routes', 'connections', 'closes', 'patterns']) expect(html).toContain(`id="${id}"`);
    expect(html).toContain('<script src="status.js"');
    expect(html).not.toMatch(/<script>(?!<)/);
    expect(html).not.toMatch(/ style=/);

    const js = await get(admin, '/status.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const code = await js.text();
    expect(code).toBe(STATUS_JS);
    expect(() => new vm.Script(code)).not.toThrow();
    expect(code).not.toContain('innerHTML');
    const css = await get(admin, '/status.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
  });

  it('security headers on every response, also errors; 404 and 405 are JSON; HEAD has no body', async () => {
    const { admin } = await start();
    const responses = [
      await get(admin, '/'),
      await get(admin, '/metrics'),
      await get(admin, '/api/stats'),
      await get(admin, '/nope'),
      await get(admin, '/api/connections?limit=x'),
      await get(admin, '/healthz', { method: 'POST', body: 'x' }),
    ];
    for (const r of responses) {
      expect(r.headers.get('cache-control'), r.url).toBe('no-store');
      expect(r.headers.get('x-content-type-options'), r.url).toBe('nosniff');
      expect(r.headers.get('content-security-policy'), r.url).toBeTruthy();
    }
    const nf = responses[3]!;
    expect(nf.status).toBe(404);
    expect(await nf.json()).toEqual({ error: 'no such endpoint: /nope' });
    const na = responses[5]!;
    expect(na.status).toBe(405);
    expect(na.headers.get('allow')).toBe('GET, HEAD');
    expect(((await na.json()) as { error: string }).error).toContain('POST');
    for (const path of ['/api/routes', '/metrics']) {
      const head = await get(admin, path, { method: 'HEAD' });
      expect(head.status).toBe(200);
      expect(Number(head.headers.get('content-length'))).toBeGreaterThan(0);
      expect(await head.text()).toBe('');
    }
    expect((await get(admin, '/api/stats', { method: 'DELETE' })).status).toBe(405);
  });
});

describe('admin server: token', () => {
  it('401 with WWW-Authenticate without or with a wrong token, 200 with it; /healthz and /readyz stay open', async () => {
    const { admin } = await start(TOKEN);
    for (const path of ['/metrics', '/api/stats', '/api/routes', '/api/patterns', '/api/closes', '/api/connections', '/', '/nope']) {
      const none = await get(admin, path);
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      expect(((await none.json()) as { error: string }).error).toMatch(/token/);
      for (const wrong of ['Bearer nope', `Bearer ${TOKEN.replace('s', 'S')}`, `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        expect((await get(admin, path, { headers: { Authorization: wrong } })).status, `${path} ${wrong}`).toBe(401);
      }
    }
    for (const path of ['/metrics', '/api/stats', '/api/routes', '/api/patterns', '/api/closes', '/api/connections', '/']) {
      const ok = await get(admin, path, auth);
      expect(ok.status, path).toBe(200);
      await ok.arrayBuffer();
    }
    expect((await get(admin, '/nope', auth)).status).toBe(404);
    expect((await get(admin, '/api/stats', { headers: { Authorization: `bearer  ${TOKEN} ` } })).status).toBe(200);
    expect((await get(admin, '/healthz')).status).toBe(200);
    expect((await get(admin, '/readyz')).status).toBe(200);
  });

  it('?token= opens the status page only (not the API); the page assets are public', async () => {
    const { admin } = await start(TOKEN);
    const page = await get(admin, `/?token=${encodeURIComponent(TOKEN)}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    expect((await get(admin, '/?token=wrong')).status).toBe(401);
    expect((await get(admin, `/api/stats?token=${TOKEN}`)).status).toBe(401);
    expect((await get(admin, `/metrics?token=${TOKEN}`)).status).toBe(401);
    expect((await get(admin, '/status.js')).status).toBe(200);
    expect((await get(admin, '/status.css')).status).toBe(200);
  });
});

describe('admin server: /api/connections query', () => {
  it('passes route, minAge, minIdle through; limit defaults to 100 and is capped at 1000', async () => {
    const { admin, source } = await start();
    await (await get(admin, '/api/connections')).json();
    await (await get(admin, '/api/connections?route=ws&minAge=30000&minIdle=250&limit=5')).json();
    await (await get(admin, '/api/connections?limit=5000')).json();
    await (await get(admin, '/api/connections?limit=1000&route=&minAge=')).json();
    await (await get(admin, '/api/connections?route=a%20b%2Fc')).json();
    expect(source.queries).toEqual([
      { limit: 100 },
      { limit: 5, route: 'ws', minAgeMs: 30_000, minIdleMs: 250 },
      { limit: 1000 },
      { limit: 1000 },
      { limit: 100, route: 'a b/c' },
    ]);
    const limited = (await (await get(admin, '/api/connections?limit=1')).json()) as { total: number; items: unknown[] };
    expect(limited.total).toBe(2);
    expect(limited.items).toHaveLength(1);
  });

  it('bad numbers are a 400 naming the parameter, and the source is not asked', async () => {
    const { admin, source } = await start();
    const bad: Array<[string, string]> = [
      ['minAge=abc', 'minAge'],
      ['minAge=-1', 'minAge'],
      ['minIdle=1.5', 'minIdle'],
      ['minIdle=1e3', 'minIdle'],
      ['minAge=9999999999999999999', 'minAge'],
      ['limit=0', 'limit'],
      ['limit=-5', 'limit'],
      ['limit=ten', 'limit'],
      ['limit=%20', 'limit'],
    ];
    for (const [qs, name] of bad) {
      const r = await get(admin, `/api/connections?${qs}`);
      expect(r.status, qs).toBe(400);
      const body = (await r.json()) as { error: string };
      expect(body.error, qs).toMatch(new RegExp(`^${name} must be`));
    }
    expect(source.queries).toEqual([]);
  });
});

describe('admin server: failures', () => {
  it('a throwing source is a 500 JSON and the next request is answered', async () => {
    const { admin, source } = await start();
    for (const [method, path] of [
      ['stats', '/api/stats'],
      ['connections', '/api/connections'],
      ['metrics', '/metrics'],
      ['health', '/readyz'],
    ] as const) {
      source.failNext = method;
      const r = await get(admin, path);
      expect(r.status, path).toBe(500);
      expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8');
      expect(await r.json()).toEqual({ error: `internal error: ${method} exploded` });
      expect((await get(admin, path)).status, path).toBe(200);
    }
    expect(admin.sourceErrors).toBe(4);
  });

  it('garbage on a raw socket gets a 400 and closes; an oversized head a 431; the server keeps answering', async () => {
    const { admin } = await start();
    const garbage = await raw(admin.port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xde, 0xad]));
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(garbage).toContain('X-Content-Type-Options: nosniff');
    const junkLine = await raw(admin.port, 'this is not http\r\n\r\n');
    expect(junkLine).toMatch(/^HTTP\/1\.1 400/);
    const huge = await raw(admin.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    const absolute = await raw(admin.port, 'GET http://evil.test/api/stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    expect(absolute).toMatch(/^HTTP\/1\.1 400/);
    // A client that connects and vanishes mid-request.
    const s = net.connect(admin.port, HOST);
    await new Promise((r) => s.once('connect', r));
    s.write('GET /api/st');
    s.destroy();
    const ok = await get(admin, '/api/stats');
    expect(ok.status).toBe(200);
    await ok.json();
  });

  it('a taken port rejects with SL_ERR_LISTEN naming the port', async () => {
    const { admin } = await start();
    const err = await startAdmin({ host: HOST, port: admin.port }, new FakeSource()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SightlineError);
    expect((err as SightlineError).code).toBe('SL_ERR_LISTEN');
    expect((err as Error).message).toContain(String(admin.port));
    expect((err as Error).message).toContain('EADDRINUSE');
  });
});

describe('admin server: close', () => {
  it('closes open keep-alive and idle sockets promptly, and is idempotent', async () => {
    const { admin } = await start();
    expect(admin.url).toBe(`http://${HOST}:${admin.port}/`);
    await (await get(admin, '/api/stats')).json(); // leaves a keep-alive socket in fetch's pool
    const idle = net.connect(admin.port, HOST); // and one that never sends a byte
    await new Promise((r) => idle.once('connect', r));
    const idleClosed = new Promise((r) => idle.once('close', r));
    idle.on('error', () => {});
    const t0 = Date.now();
    const first = admin.close();
    const second = admin.close();
    expect(second).toBe(first);
    await first;
    await idleClosed;
    expect(Date.now() - t0).toBeLessThan(2_000);
    await admin.close();
    await expect(fetch(new URL('/healthz', admin.url))).rejects.toThrow();
  });
});
