/**
 * The admin API behind the status page's pictures, over a real proxy with an injected clock:
 * `/api/close-ages` (age at close per route, log bins, recent window), `/api/open-ages`,
 * `/api/recent-closes`, `/api/connection` (open or recently closed, milestones and close record),
 * `/api/closes` by initiator, bad queries as 400s, and uPlot served from the package under the
 * page's strict CSP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type net from 'node:net';
import { PAGE_CSP } from '../../src/admin/respond.js';
import { ManualClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { ageBin } from '../../src/telemetry/close-history.js';
import { closed, connect, echoServer, freePorts, readBytes, waitFor, HOST, type TestServer } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const TOKEN = 'views-token';
let p: RunningProxy;
let echo: TestServer;
let base = '';
const clock = new ManualClock(1_750_000_000_000);
const keep: net.Socket[] = [];
const ids: number[] = [];

const get = (path: string, auth = true): Promise<Response> =>
  fetch(new URL(path, base), auth ? { headers: { authorization: `Bearer ${TOKEN}` } } : {});
const json = async (path: string): Promise<any> => {
  const r = await get(path);
  expect(r.status, path).toBe(200);
  return r.json();
};

beforeAll(async () => {
  echo = await echoServer();
  const [port, other] = (await freePorts(2)) as [number, number];
  p = await startProxy(
    {
      gracefulShutdownTimeout: 200,
      admin: { enabled: true, host: HOST, port: 0, token: TOKEN },
      routes: [
        { name: 'echo', match: { ports: port }, action: { type: 'forward', target: { host: HOST, port: echo.port } } },
        {
          name: 'quiet',
          match: { ports: other },
          action: { type: 'forward', target: { host: HOST, port: echo.port } },
        },
      ],
    } as SightlineOptions,
    { clock, autoTick: false },
  );
  base = p.proxy.adminUrl!;
  for (let i = 0; i < 3; i++) {
    const s = await connect(port);
    s.write('x');
    await readBytes(s, 1);
    keep.push(s);
  }
  await waitFor(() => p.proxy.getStats().getActiveConnections() === 3);
  ids.push(...[...p.proxy.connectionManager.getConnections().keys()].sort((a, b) => a - b));
  clock.advance(30_000);
  for (const s of keep.splice(0, 2)) {
    s.end();
    await closed(s);
  }
  await waitFor(() => p.events.events.length === 2);
});

afterAll(async () => {
  for (const s of keep) s.destroy();
  await p.stop();
  await echo.close();
});

describe('status page data', () => {
  it('/api/close-ages: per route, 70 log bins, the 30 s closes in the 30 s bin; ?route= narrows', async () => {
    const all = await json('api/close-ages');
    expect(all.windowMs).toBe(900_000);
    expect(all.edgesMs).toHaveLength(71);
    expect(all.routes.map((r: any) => r.route)).toEqual(['echo']);
    const echoAges = all.routes[0];
    expect(echoAges.total).toBe(2);
    expect(echoAges.counts).toHaveLength(70);
    expect(echoAges.counts[ageBin(30_000)]).toBe(2);
    expect((await json('api/close-ages?route=quiet')).routes).toEqual([]);
    expect((await json('api/close-ages?route=echo')).routes).toEqual(all.routes);
  });

  it('/api/open-ages: every open connection, by age and by idle time', async () => {
    const open = await json('api/open-ages');
    expect(open.routes).toHaveLength(1);
    const r = open.routes[0];
    expect(r.route).toBe('echo');
    expect(r.total).toBe(1);
    expect(r.age[ageBin(30_000)]).toBe(1);
    expect(r.idle.reduce((a: number, b: number) => a + b, 0)).toBe(1);
  });

  it('/api/closes: each minute by reason and by initiator', async () => {
    const c = await json('api/closes');
    expect(c.now).toBe(clock.now());
    const sum = (key: string, k: string): number => c.buckets.reduce((s: number, b: any) => s + (b[key][k] ?? 0), 0);
    expect(sum('byInitiator', 'client')).toBe(2);
    expect(sum('byReason', 'client_closed')).toBe(2);
  });

  it('/api/recent-closes and /api/connection: the close record, milestones, open or closed', async () => {
    const recent = await json('api/recent-closes?limit=1');
    expect(recent.items).toHaveLength(1);
    const last = recent.items[0];
    expect(last).toMatchObject({ route: 'echo', reason: 'client_closed', initiator: 'client', durationMs: 30_000 });
    expect(last.milestones[0].name).toBe('accepted');
    expect(last.milestones.at(-1)).toEqual({ name: 'closed', at: last.openedAt + 30_000 });
    expect((await json('api/recent-closes?route=quiet')).items).toEqual([]);

    const closedOne = await json(`api/connection?id=${last.id}`);
    expect(closedOne).toMatchObject({
      state: 'closed',
      connection: null,
      close: { id: last.id, reason: 'client_closed' },
    });
    const openId = ids.find((id) => id !== last.id && p.proxy.connectionManager.getConnections().has(id))!;
    const openOne = await json(`api/connection?id=${openId}`);
    expect(openOne.state).toBe('open');
    expect(openOne.connection).toMatchObject({ id: openId, route: 'echo', ageMs: 30_000 });
    expect(openOne.milestones.map((m: any) => m.name)).toContain('accepted');
    expect(openOne.milestones.map((m: any) => m.name)).toContain('backend connected');
    expect(openOne.close).toBeNull();
  });

  it('bad or unknown ids and limits: 400 / 404 with a message; no token: 401', async () => {
    const unknown = await get('api/connection?id=987654');
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as any).error).toMatch(/neither open nor among the recent closes/);
    for (const path of [
      'api/connection',
      'api/connection?id=-1',
      'api/connection?id=1e3',
      'api/recent-closes?limit=0',
      'api/recent-closes?limit=x',
    ]) {
      const r = await get(path);
      expect(r.status, path).toBe(400);
      expect(((await r.json()) as any).error, path).toMatch(/id|limit/);
    }
    expect((await json('api/recent-closes?limit=99999')).items).toHaveLength(2);
    for (const path of ['api/close-ages', 'api/open-ages', 'api/recent-closes', 'api/connection?id=1'])
      expect((await get(path, false)).status, path).toBe(401);
  });

  it('uPlot is served from the package (script, stylesheet, licence) without the token; the page keeps its strict CSP', async () => {
    const js = await get('vendor/uplot.js', false);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await js.text()).toMatch(/^\/\*! https:\/\/github\.com\/leeoniya\/uPlot/);
    const cssR = await get('vendor/uplot.css', false);
    expect(cssR.headers.get('content-type')).toMatch(/^text\/css/);
    expect(await cssR.text()).toContain('.uplot');
    expect(await (await get('vendor/uplot.LICENSE.txt', false)).text()).toMatch(/MIT License/);
    expect((await get('status-charts.js', false)).status).toBe(200);
    const page = await get(`?token=${TOKEN}`, false);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy')!;
    expect(csp).toBe(PAGE_CSP);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("style-src 'self'");
    expect(csp).not.toContain('unsafe');
    const html = await page.text();
    expect(html).not.toMatch(/<script>|<style>|\sstyle=|\son[a-z]+=/i);
    expect(html).toContain('<script src="vendor/uplot.js" defer></script>');
  });
});
