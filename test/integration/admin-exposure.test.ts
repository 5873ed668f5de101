/**
 * Admin exposure (issue 11 §7): the library opens no admin listener unless `admin` is given; a
 * non-loopback host without a token is refused naming `admin.host` unless explicitly allowed;
 * without a token only loopback Host values (and `admin.allowedHosts`) are answered, so a
 * DNS-rebinding page cannot read /api/connections.
 */
import http from 'node:http';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { SightlineProxy } from '../../src/server.js';
import { freePort, HOST } from '../helpers/net.js';

const route = (port: number) => ({
  name: 'r',
  match: { ports: port },
  action: { type: 'forward' as const, target: { host: HOST, port: 9 } },
});

/** GET with an explicit Host header (what a rebinding page's browser sends). */
function get(
  port: number,
  path: string,
  host: string | null,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const h: Record<string, string> = { ...headers };
    if (host !== null) h.host = host;
    const req = http.get({ host: HOST, port, path, headers: h, setHost: host !== null }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

describe('admin exposure', () => {
  it('the library opens no admin listener unless asked: two proxies in one process start side by side', async () => {
    const [p1, p2] = [await freePort(), await freePort()];
    const a = new SightlineProxy({ listenHost: HOST, routes: [route(p1)] }, { logger: null });
    const b = new SightlineProxy({ listenHost: HOST, routes: [route(p2)] }, { logger: null });
    await a.start();
    await b.start();
    try {
      expect(a.adminUrl).toBeNull();
      expect(b.adminUrl).toBeNull();
      expect(a.options.admin).toBeUndefined();
    } finally {
      await a.stop();
      await b.stop();
    }
  });

  it('a non-loopback host without a token is refused naming admin.host; a token or an explicit allowance accepts it', () => {
    const port = 18_443;
    let err: unknown;
    try {
      new SightlineProxy({ routes: [route(port)], admin: { host: '0.0.0.0' } });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).issues).toHaveLength(1);
    expect((err as ConfigError).issues[0]?.path).toBe('admin.host');
    expect((err as ConfigError).issues[0]?.message).toMatch(/admin\.token.*allowUnauthenticatedRemote/);
    expect(() => new SightlineProxy({ routes: [route(port)], admin: { host: '0.0.0.0', token: 't' } })).not.toThrow();
    expect(
      () => new SightlineProxy({ routes: [route(port)], admin: { host: '0.0.0.0', allowUnauthenticatedRemote: true } }),
    ).not.toThrow();
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost', '[::1]'])
      expect(() => new SightlineProxy({ routes: [route(port)], admin: { host } }), host).not.toThrow();
    expect(() => new SightlineProxy({ routes: [route(port)], admin: { host: '10.0.0.1' } })).toThrow(ConfigError);
  });

  it('without a token only loopback Host values and admin.allowedHosts are answered (DNS rebinding); probes always are', async () => {
    const proxy = new SightlineProxy(
      { listenHost: HOST, routes: [route(await freePort())], admin: { port: 0, allowedHosts: ['sightline'] } },
      { logger: null },
    );
    await proxy.start();
    try {
      const port = Number(new URL(proxy.adminUrl!).port);
      const rebinding = await get(port, '/api/connections', `evil.test:${port}`);
      expect(rebinding.status).toBe(421);
      expect(rebinding.body).toMatch(/Host not allowed/);
      expect((await get(port, '/metrics', 'attacker.example')).status).toBe(421);
      for (const host of [
        `127.0.0.1:${port}`,
        `localhost:${port}`,
        `[::1]:${port}`,
        'localhost',
        `sightline:${port}`,
        'SIGHTLINE',
      ]) {
        expect((await get(port, '/api/connections', host)).status, host).toBe(200);
      }
      // HTTP/1.1 without Host is refused by Node's parser itself (400), before any check of ours.
      expect((await get(port, '/api/stats', null)).status).toBe(400);
      expect((await get(port, '/healthz', 'evil.test')).status).toBe(200);
      expect((await get(port, '/readyz', 'evil.test')).status).toBe(200);
    } finally {
      await proxy.stop();
    }
  });

  it('with a token the Host check gives way to the token (a rebinding page cannot know it)', async () => {
    const proxy = new SightlineProxy(
      { listenHost: HOST, routes: [route(await freePort())], admin: { port: 0, token: 'tok' } },
      { logger: null },
    );
    await proxy.start();
    try {
      const port = Number(new URL(proxy.adminUrl!).port);
      expect((await get(port, '/api/stats', 'evil.test')).status).toBe(401);
      const ok = await get(port, '/api/stats', 'sightline.example.com', { authorization: 'Bearer tok' });
      expect(ok.status).toBe(200);
      expect((JSON.parse(ok.body) as { configGeneration: number }).configGeneration).toBe(1);
    } finally {
      await proxy.stop();
    }
  });
});
