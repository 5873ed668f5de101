/**
 * POST /api/connections/:id/close (issue 14) against a real proxy over real HTTP: the token is
 * always required, unknown ids are 404, and a good request closes the connection as
 * `admin_closed` (initiator proxy): the client sees the close, the access log and the metric say so.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import pino from 'pino';
import { closed, connect, echoServer, freePort, readBytes, waitFor, HOST } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';
import type { SightlineOptions } from '../../src/config/schema.js';

const TOKEN = 'close-token-1';
const cleanup: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
});

function capture(): { logger: pino.Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString().split('\n'))
        if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

async function rig(
  admin: SightlineOptions['admin'],
): Promise<{ p: RunningProxy; port: number; base: string; lines: Array<Record<string, unknown>> }> {
  const echo = await echoServer();
  cleanup.push(() => echo.close());
  const port = await freePort();
  const { logger, lines } = capture();
  const p = await startProxy(
    {
      gracefulShutdownTimeout: 100,
      admin,
      routes: [
        { name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
      ],
    },
    { logger },
  );
  cleanup.push(() => p.stop());
  return { p, port, base: p.proxy.adminUrl!, lines };
}

async function post(
  base: string,
  path: string,
  token?: string,
  method = 'POST',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(path, base), {
    method,
    headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

/** An echo connection through the proxy, proven live; its record's ids. */
async function liveConnection(r: {
  p: RunningProxy;
  port: number;
}): Promise<{ s: import('node:net').Socket; id: number; uniqueId: string }> {
  const s = await connect(r.port);
  s.write('ping');
  expect((await readBytes(s, 4)).toString()).toBe('ping');
  const c = [...r.p.proxy.connectionManager.getConnections().values()].at(-1)!;
  return { s, id: c.id, uniqueId: c.uniqueId };
}

describe('POST /api/connections/:id/close', () => {
  it('without a configured token: 403 with a one-line JSON error naming admin.token, even on loopback; nothing closed', async () => {
    const r = await rig({ host: HOST, port: 0 });
    const { s, id } = await liveConnection(r);
    const res = await post(r.base, `/api/connections/${id}/close`);
    expect(res.status).toBe(403);
    expect(Object.keys(res.body)).toEqual(['error']);
    expect(String(res.body.error)).toMatch(/admin\.token or admin\.tokenFile/);
    // A bearer header changes nothing when no token is configured.
    expect((await post(r.base, `/api/connections/${id}/close`, 'anything')).status).toBe(403);
    s.write('still');
    expect((await readBytes(s, 5)).toString()).toBe('still');
    s.destroy();
  });

  it('with a token: none or a wrong one is 401, GET is 405, an unknown or malformed id is 404 / 400', async () => {
    const r = await rig({ host: HOST, port: 0, token: TOKEN });
    const { s, id } = await liveConnection(r);
    expect((await post(r.base, `/api/connections/${id}/close`)).status).toBe(401);
    expect((await post(r.base, `/api/connections/${id}/close`, 'wrong-token')).status).toBe(401);
    const get = await post(r.base, `/api/connections/${id}/close`, TOKEN, 'GET');
    expect(get.status).toBe(405);
    const unknown = await post(r.base, `/api/connections/${id + 1000}/close`, TOKEN);
    expect(unknown).toMatchObject({ status: 404, body: { error: expect.stringMatching(/no open connection/) } });
    expect((await post(r.base, '/api/connections/ffffffffffffffffffffffffffffffffffff/close', TOKEN)).status).toBe(404);
    expect((await post(r.base, '/api/connections/not-an-id/close', TOKEN)).status).toBe(400);
    expect((await post(r.base, '/api/connections/%E0%A4%A/close', TOKEN)).status).toBe(400);
    expect((await post(r.base, '/api/connections//close', TOKEN)).status).toBe(400);
    expect((await post(r.base, `/api/connections/${'a'.repeat(65)}/close`, TOKEN)).status).toBe(400);
    s.write('alive');
    expect((await readBytes(s, 5)).toString()).toBe('alive');
    s.destroy();
  });

  it('by numeric id: 200 with the summary; the client sees the close; admin_closed in the access log, the event and the stats', async () => {
    const r = await rig({ host: HOST, port: 0, token: TOKEN });
    const { s, id, uniqueId } = await liveConnection(r);
    const other = await liveConnection(r);
    const gone = closed(s);
    const res = await post(r.base, `/api/connections/${id}/close`, TOKEN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      closed: true,
      reason: 'admin_closed',
      connection: { id, uniqueId, route: 'echo', bytesIn: 4 },
    });
    await gone;
    const ev = await r.p.events.next();
    expect(ev).toMatchObject({ reason: 'admin_closed', initiator: 'proxy', endKind: 'local' });
    expect(ev.conn.id).toBe(id);
    await waitFor(() => r.lines.some((l) => l.event === 'access'));
    // A warning: someone cut a live connection.
    expect(r.lines.find((l) => l.event === 'access')).toMatchObject({
      level: 40,
      msg: 'connection closed: admin_closed',
      connectionId: id,
      uniqueId,
      reason: 'admin_closed',
      initiator: 'proxy',
    });
    expect(r.p.proxy.getStats().getTerminationStats().byReason['admin_closed']).toEqual({ proxy: 1 });
    // Closed once: a second request finds nothing; the other connection is untouched.
    expect((await post(r.base, `/api/connections/${id}/close`, TOKEN)).status).toBe(404);
    other.s.write('ok');
    expect((await readBytes(other.s, 2)).toString()).toBe('ok');
    other.s.destroy();
  });

  it('by unique id, and through the library method closeConnection()', async () => {
    const r = await rig({ host: HOST, port: 0, token: TOKEN });
    const a = await liveConnection(r);
    const b = await liveConnection(r);
    const aGone = closed(a.s);
    expect(await post(r.base, `/api/connections/${a.uniqueId}/close`, TOKEN)).toMatchObject({
      status: 200,
      body: { connection: { id: a.id } },
    });
    await aGone;
    const bGone = closed(b.s);
    expect(r.p.proxy.closeConnection(b.id)).toBe(true);
    expect(r.p.proxy.closeConnection(b.id)).toBe(false);
    expect(r.p.proxy.closeConnection('no-such-id')).toBe(false);
    await bGone;
    await waitFor(() => r.lines.filter((l) => l.event === 'access').length === 2);
    expect(r.lines.filter((l) => l.event === 'access').map((l) => l.reason)).toEqual(['admin_closed', 'admin_closed']);
  });
});
