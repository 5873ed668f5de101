/**
 * The admin server over a hand-written AdminSource fake (the admin layer's unit boundary; the
 * proxy wiring is tested where the composition root is): every endpoint over real HTTP, content
 * negotiation, the token. Query parsing, failures, malformed requests, close(): admin-failures.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import vm from 'node:vm';
import { STATUS_JS } from '../../src/admin/status-script.js';
import { TOKEN, start, get, auth, closeStarted } from '../helpers/admin-fake-source.js';

afterEach(closeStarted);

describe('admin server: endpoints', () => {
  it('/metrics: plain text by default, OpenMetrics when the Accept header asks for it', async () => {
    const { admin, source } = await start();
    const plain = await get(admin, '/metrics');
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(await plain.text()).toBe('sightline_up 1\n');
    const om = await get(admin, '/metrics', {
      headers: { Accept: 'application/openmetrics-text; version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1' },
    });
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
    for (const path of [
      '/metrics',
      '/api/stats',
      '/api/routes',
      '/api/patterns',
      '/api/closes',
      '/api/connections',
      '/',
      '/nope',
    ]) {
      const none = await get(admin, path);
      expect(none.status, path).toBe(401);
      expect(none.headers.get('www-authenticate'), path).toMatch(/^Bearer/);
      expect(((await none.json()) as { error: string }).error).toMatch(/token/);
      for (const wrong of ['Bearer nope', `Bearer ${TOKEN.replace('s', 'S')}`, `Basic ${TOKEN}`, `Bearer ${TOKEN}x`]) {
        expect((await get(admin, path, { headers: { Authorization: wrong } })).status, `${path} ${wrong}`).toBe(401);
      }
    }
    for (const path of [
      '/metrics',
      '/api/stats',
      '/api/routes',
      '/api/patterns',
      '/api/closes',
      '/api/connections',
      '/',
    ]) {
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
