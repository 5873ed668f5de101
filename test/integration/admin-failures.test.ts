// The admin server over an AdminSource fake: /api/connections query parsing, a throwing source,
// malformed requests, a taken port, and close().
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { startAdmin } from '../../src/admin/server.js';
import { SightlineError } from '../../src/core/errors.js';
import { HOST, FakeSource, start, get, raw, closeStarted } from '../helpers/admin-fake-source.js';

afterEach(closeStarted);

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
    const limited = (await (await get(admin, '/api/connections?limit=1')).json()) as {
      total: number;
      items: unknown[];
    };
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
    const garbage = await raw(
      admin.port,
      Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x00, 0x0d, 0x0a, 0x0d, 0x0a, 0xde, 0xad]),
    );
    expect(garbage).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(garbage).toContain('X-Content-Type-Options: nosniff');
    const junkLine = await raw(admin.port, 'this is not http\r\n\r\n');
    expect(junkLine).toMatch(/^HTTP\/1\.1 400/);
    const huge = await raw(admin.port, `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431/);
    const absolute = await raw(
      admin.port,
      'GET http://evil.test/api/stats HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n',
    );
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
