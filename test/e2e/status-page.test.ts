/**
 * The status page in headless Chromium (Debian's `chromium`), served by startAdmin over a fake
 * source whose data changes between calls: the sections render, the page refreshes itself, its
 * script sends the URL's token as a Bearer header, client-controlled strings stay text, and the
 * console stays free of errors (CSP violations would show there). Skips when Chromium is missing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { skipped, titled } from '../helpers/needs.js';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_NEED, watchPage } from '../helpers/page.js';
import { startAdmin, type AdminServer } from '../../src/admin/server.js';
import type {
  CloseConnectionResult,
  AdminSource,
  CloseAges,
  CloseRecord,
  ConnectionDetail,
  ConnectionInfo,
  ConnectionQuery,
  HealthInfo,
  OpenAges,
  PatternInfo,
  RecentCloses,
  RouteInfo,
} from '../../src/admin/source.js';
import { AGE_BINS, AGE_EDGES_MS } from '../../src/telemetry/close-history.js';

const HAVE_CHROMIUM = CHROMIUM_NEED.ok;

const TOKEN = 'page-token-123';
const EVIL_SNI = '<img src=x onerror="window.pwned=1">.test';

const conn = (id: number, ageMs: number, over: Partial<ConnectionInfo> = {}): ConnectionInfo => ({
  id,
  route: 'ws',
  client: '10.0.0.7',
  clientPort: 40000 + id,
  listenPort: 8443,
  sni: 'app.example.test',
  target: '127.0.0.1:9000',
  uniqueId: null,
  previousHopId: null,
  phase: 'tunnel',
  tls: true,
  keepAliveTreatment: 'standard',
  ageMs,
  idleMs: 500,
  bytesIn: 2048,
  bytesOut: 1_500_000,
  ...over,
});

/** Data moves on with every call, like a live proxy's; `conns` can be changed by the test. */
class ChangingSource implements AdminSource {
  calls = 0;
  conns: ConnectionInfo[] = [
    conn(1, 95_000),
    conn(2, 31_000, { sni: EVIL_SNI, client: '::1', route: null, target: null }),
  ];
  async metrics(): Promise<{ contentType: string; body: string }> {
    return { contentType: 'text/plain; version=0.0.4; charset=utf-8', body: '' };
  }
  health(): HealthInfo {
    return { live: true, ready: true, draining: false };
  }
  stats(): Readonly<Record<string, unknown>> {
    this.calls++;
    return {
      active: this.conns.length,
      accepted: 100 + this.calls,
      configGeneration: 3,
      configHash: '3f9a0c12ab47',
      terminations: { byReason: { inactivity: { proxy: 4 }, client_closed: { client: 12 } }, total: 16 },
      upstreamPools: { pools: 1, open: 2, idle: 1, waiting: 0, created: 5, reused: 9, expired: 0, detached: 0 },
    };
  }
  connections(q: ConnectionQuery): { readonly total: number; readonly items: readonly ConnectionInfo[] } {
    const items = this.conns.map((c) => ({ ...c, ageMs: c.ageMs + this.calls * 2_000 }));
    return { total: items.length, items: items.slice(0, q.limit) };
  }
  /** false: a TCP-only configuration (the page then shows no upstream pools). */
  httpRoute = true;
  routes(): readonly RouteInfo[] {
    return [
      {
        name: 'ws',
        ports: [8443, 8444],
        domains: ['app.example.test'],
        mode: 'passthrough',
        protocol: 'tls',
        target: '127.0.0.1:9000',
        active: this.conns.length,
      },
      ...(this.httpRoute
        ? [
            {
              name: 'api',
              ports: [8080],
              domains: [],
              mode: 'terminate',
              protocol: 'http',
              target: '127.0.0.1:9001',
              active: 0,
            },
          ]
        : []),
    ];
  }
  patterns(): readonly PatternInfo[] {
    return [
      {
        route: 'ws',
        periodSeconds: 30,
        count: 12,
        summary: 'route ws: 12 connections died at 30.0 s ± 0.2 s (heartbeat or half-zombie grace?)',
      },
    ];
  }
  recentCloses(): RecentCloses {
    const minute = 60_000;
    const now = Math.floor(Date.now() / minute) * minute;
    return {
      bucketMs: minute,
      now: Date.now(),
      buckets: [0, 1, 2, 3, 4].map((i) => ({
        start: now - (4 - i) * minute,
        byReason: { client_closed: 2 + i, inactivity: i % 2, [`half_zombie`]: i === 4 ? 3 : 0 },
        byInitiator: { client: 2 + i, proxy: (i % 2) + (i === 4 ? 3 : 0) },
      })),
    };
  }
  closeAges(): CloseAges {
    const counts = new Array<number>(AGE_BINS).fill(0);
    counts[44] = 12;
    counts[30] = 3;
    return { windowMs: 900_000, edgesMs: AGE_EDGES_MS, routes: [{ route: 'ws', total: 15, counts }] };
  }
  openAges(): OpenAges {
    const age = new Array<number>(AGE_BINS).fill(0);
    const idle = new Array<number>(AGE_BINS).fill(0);
    age[46] = 1;
    age[50] = 1;
    idle[27] = 2;
    return { edgesMs: AGE_EDGES_MS, routes: [{ route: 'ws', total: 2, age, idle }] };
  }
  closeRecords(): CloseRecord[] {
    return [];
  }
  connection(id: number): ConnectionDetail | null {
    const c = this.conns.find((x) => x.id === id);
    return c
      ? { state: 'open', connection: c, milestones: [{ name: 'accepted', at: Date.now() - c.ageMs }], close: null }
      : null;
  }
  closeConnection(): CloseConnectionResult {
    return { ok: false, status: 404, error: 'not in this test' };
  }
}

describe('status page in Chromium', () => {
  let browser: Browser | undefined;
  let admin: AdminServer | undefined;
  const source = new ChangingSource();

  beforeAll(async () => {
    if (!HAVE_CHROMIUM) return;
    admin = await startAdmin({ host: '127.0.0.1', port: 0, token: TOKEN }, source);
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  it.skipIf(skipped(CHROMIUM_NEED))(
    titled('renders routes, connections, close reasons and patterns, then refreshes itself', CHROMIUM_NEED),
    async () => {
      const page = await browser!.newPage();
      const problems = watchPage(page);
      const res = await page.goto(`${admin!.url}?token=${TOKEN}`);
      expect(res?.status()).toBe(200);

      // Routes.
      await page.waitForSelector('#routes tbody tr[data-route="api"]');
      const wsRoute = await page.locator('#routes tr[data-route="ws"] td').allTextContents();
      expect(wsRoute).toEqual(['ws', '8443, 8444', 'app.example.test', 'passthrough', 'tls', '127.0.0.1:9000', '2']);

      // Connections: one row each, oldest first; the client's SNI stays text.
      await page.waitForSelector('#connections tr[data-connection-id="2"]');
      const ids = async (): Promise<Array<string | null>> =>
        Promise.all(
          (await page.locator('#connections tr[data-connection-id]').all()).map((r) =>
            r.getAttribute('data-connection-id'),
          ),
        );
      expect(await ids()).toEqual(['1', '2']);
      const evil = await page.locator('#connections tr[data-connection-id="2"] td').allTextContents();
      expect(evil).toContain(EVIL_SNI);
      expect(evil).toContain('[::1]:40002');
      expect(await page.locator('#connections img').count()).toBe(0);
      expect(await page.evaluate(() => (globalThis as { pwned?: number }).pwned)).toBeUndefined();
      expect(await page.locator('#connections-count').textContent()).toBe('(2)');

      // Close reasons: the chart (uPlot, stacked by initiator) and a table row per reason.
      await page.waitForSelector('#closes-chart canvas');
      const plotted = await page.evaluate(() => (globalThis as any).SightlineStatus.charts.closes.raw.byInitiator);
      expect(plotted.client.slice(-5)).toEqual([2, 3, 4, 5, 6]);
      expect(plotted.proxy.slice(-5)).toEqual([0, 1, 0, 1, 3]);
      const zombie = await page.locator('#closes-table tr[data-reason="half_zombie"] td').allTextContents();
      expect(zombie[0]).toBe('half_zombie');
      expect(zombie.at(-1)).toBe('3');
      expect(await page.locator('#closes-table tr[data-reason]').count()).toBe(3);

      // Patterns: the summary text, highlighted.
      const pattern = page.locator('#patterns li.pattern');
      expect(await pattern.count()).toBe(1);
      expect(await pattern.textContent()).toContain('died at 30.0 s');

      // Totals: readable, no dotted keys; pools shown because an HTTP route exists.
      expect(await page.locator('#reasons tr[data-reason="inactivity"] td').allTextContents()).toEqual([
        'inactivity',
        '',
        '',
        '4',
        '4',
      ]);
      const labels = await page.locator('#totals dt').allTextContents();
      expect(labels).toContain('Accepted');
      // The configuration generation the access lines carry (configGeneration), with the file hash.
      expect(await page.locator('#totals div', { hasText: 'Configuration' }).locator('dd').textContent()).toBe(
        'generation 3 · 3f9a0c12ab47',
      );
      expect(labels.filter((l) => l.includes('.'))).toEqual([]);
      expect(await page.locator('#pools').isVisible()).toBe(true);
      expect(await page.locator('#patterns').textContent()).not.toContain(String.fromCharCode(96));

      // A TCP-only configuration: no pools section (its zeros would only be noise).
      source.httpRoute = false;
      await page.waitForSelector('#pools', { state: 'hidden', timeout: 3_500 });
      expect(await page.locator('#routes tbody tr').count()).toBe(1);
      source.httpRoute = true;

      // A new connection appears without a reload.
      const before = Number(await page.locator('body').getAttribute('data-refreshes'));
      source.conns = [...source.conns, conn(77, 120_000, { route: 'ws', sni: 'late.example.test' })];
      const t0 = Date.now();
      await page.waitForSelector('#connections tr[data-connection-id="77"]', { timeout: 3_500 });
      const waited = Date.now() - t0;
      expect(waited).toBeLessThan(3_500);
      expect(Number(await page.locator('body').getAttribute('data-refreshes'))).toBeGreaterThan(before);
      expect(await ids()).toEqual(['77', '1', '2']);
      expect(await page.locator('#connections-count').textContent()).toBe('(3)');

      expect(await page.locator('#problem').isHidden()).toBe(true);
      expect(problems).toEqual([]);
      await page.close();
    },
  );

  it.skipIf(skipped(CHROMIUM_NEED))(titled('without the token the page is refused', CHROMIUM_NEED), async () => {
    const page = await browser!.newPage();
    const res = await page.goto(admin!.url);
    expect(res?.status()).toBe(401);
    await page.close();
  });
});
