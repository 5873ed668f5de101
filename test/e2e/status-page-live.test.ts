/**
 * The status page over a real proxy (real sockets, the proxy's clock injected so that ages are
 * exact): twelve connections closed by their clients at 30.1 s make a detected pattern; others
 * close at 2.5 s and 95 s; some stay open; an HTTP route carries requests. In headless Chromium at
 * a desktop and a phone viewport, light and dark: the charts' plotted values equal the admin API's
 * (read from the uPlot instances), the pattern's period is marked, the route selector, the
 * connection buttons and the detail panel work from the keyboard, no console error or CSP
 * violation appears. Screenshots go to test-output/status-page/ for review.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdirSync } from 'node:fs';
import type net from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ManualClock } from '../../src/core/clock.js';
import type { SightlineOptions } from '../../src/config/schema.js';
import { skipped, titled } from '../helpers/needs.js';
import { CHROMIUM, CHROMIUM_ARGS, CHROMIUM_NEED, watchPage } from '../helpers/page.js';
import { closed, connect, echoServer, freePorts, readBytes, waitFor, HOST, type TestServer } from '../helpers/net.js';
import { startProxy, type RunningProxy } from '../helpers/proxy.js';

const OUT = 'test-output/status-page';
const TOKEN = 'live-page-token';

type Json = any;

describe('status page over a live proxy', () => {
  let browser: Browser | undefined;
  let p: RunningProxy | undefined;
  let echo: TestServer | undefined;
  let web: http.Server | undefined;
  const open: net.Socket[] = [];
  const clock = new ManualClock(Date.now());
  let admin = '';

  const api = async (path: string): Promise<Json> => {
    const r = await fetch(new URL(path, admin), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status, path).toBe(200);
    return r.json();
  };

  /** `n` echo round trips on new connections to `port`, left open. */
  async function openConns(port: number, n: number): Promise<net.Socket[]> {
    const out: net.Socket[] = [];
    for (let i = 0; i < n; i++) {
      const s = await connect(port);
      s.write('hi');
      await readBytes(s, 2);
      out.push(s);
    }
    return out;
  }
  async function closeAll(socks: net.Socket[]): Promise<void> {
    const before = p!.events.events.length;
    for (const s of socks) s.end();
    await Promise.all(socks.map((s) => closed(s)));
    await waitFor(() => p!.events.events.length >= before + socks.length, 5000, 'close events');
  }

  beforeAll(async () => {
    if (skipped(CHROMIUM_NEED)) return;
    mkdirSync(OUT, { recursive: true });
    echo = await echoServer();
    web = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => web!.listen(0, HOST, r));
    const webPort = (web.address() as net.AddressInfo).port;
    const [wsPort, apiPort, brokenPort, deadPort] = (await freePorts(4)) as [number, number, number, number];
    p = await startProxy(
      {
        gracefulShutdownTimeout: 200,
        admin: { enabled: true, host: HOST, port: 0, token: TOKEN },
        routes: [
          {
            name: 'ws',
            match: { ports: wsPort },
            action: { type: 'forward', target: { host: HOST, port: echo.port } },
          },
          {
            name: 'api',
            match: { ports: apiPort },
            action: { type: 'forward', protocol: 'http', target: { host: HOST, port: webPort } },
          },
          {
            name: 'broken',
            match: { ports: brokenPort },
            action: { type: 'forward', target: { host: HOST, port: deadPort } },
          },
        ],
      } as SightlineOptions,
      { clock, autoTick: false },
    );
    admin = p.proxy.adminUrl!;
    open.push(...(await openConns(wsPort, 3)));
    // A load balancer's 30 s timer: twelve connections opened 2.5 s apart, each closed by its
    // client when 30.1 s old (opened together and closed together would be one event, not a timer).
    const lb: net.Socket[] = [];
    for (let i = 0; i < 12; i++) {
      lb.push(...(await openConns(wsPort, 1)));
      if (i < 11) clock.advance(2_500);
    }
    clock.advance(30_100 - 11 * 2_500);
    for (let i = 0; i < 12; i++) {
      await closeAll([lb[i]!]);
      if (i < 11) clock.advance(2_500);
    }
    const quick = await openConns(wsPort, 4);
    clock.advance(2_500);
    await closeAll(quick);
    const slow = await openConns(wsPort, 5);
    clock.advance(95_000);
    await closeAll(slow);
    open.push(...(await openConns(wsPort, 2)));
    clock.advance(4_000);
    open[0]!.write('hi');
    await readBytes(open[0]!, 2);
    p.proxy.tick();
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        http
          .get(
            { host: HOST, port: apiPort, path: `/item/${i}`, agent: false },
            (res) => (res.resume(), res.on('end', resolve)),
          )
          .on('error', reject),
      );
    }
    await waitFor(() => p!.events.events.length >= 24, 5000, 'http closes');
    // A backend that refuses: closes the proxy decides, on another route.
    for (let i = 0; i < 3; i++) await closed(await connect(brokenPort!));
    await waitFor(() => p!.events.events.length >= 27, 5000, 'refused closes');
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    for (const s of open) s.destroy();
    await p?.stop();
    await echo?.close();
    web?.closeAllConnections();
    web?.close();
  });

  async function loaded(page: Page): Promise<void> {
    await page.goto(`${admin}?token=${TOKEN}`);
    await page.waitForFunction(() => Number((globalThis as any).document.body.dataset.refreshes) >= 1);
    await page.waitForSelector('#ages-chart canvas');
  }

  const plotted = (page: Page, chart: string): Promise<Json> =>
    page.evaluate((name) => {
      const v = (globalThis as any).SightlineStatus.charts[name];
      return { data: v.plot.data.map((a: ArrayLike<number>) => Array.from(a)), raw: v.raw };
    }, chart);

  it.skipIf(skipped(CHROMIUM_NEED))(
    titled('desktop 1280×800: the charts plot the API, the 30 s pattern is marked, keyboard works', CHROMIUM_NEED),
    async () => {
      const page = await browser!.newPage({ viewport: { width: 1280, height: 800 } });
      const problems = watchPage(page);
      await loaded(page);

      // The detector found the 30 s cluster, and the page chose its route.
      const patterns = (await api('api/patterns')).patterns as Json[];
      const p30 = patterns.find((x) => x.route === 'ws' && x.kind === 'age-clustered');
      expect(p30, JSON.stringify(patterns)).toBeDefined();
      expect(Math.abs(p30.periodMs - 30_100)).toBeLessThan(500);
      expect(await page.locator('#route-select').inputValue()).toBe('ws');
      const banner = await page.locator('#patterns li.pattern[data-route="ws"]').textContent();
      expect(banner).toContain('30.1 s');
      expect(banner).not.toContain(String.fromCharCode(96));
      expect(await page.locator('#patterns li.pattern code').count()).toBeGreaterThan(0);

      // Age at close: the plotted bars are the API's counts, on the API's bins; the mark is the period.
      const ages = (await api('api/close-ages?route=ws')).routes[0];
      const a = await plotted(page, 'ages');
      expect(a.data[1]).toEqual(ages.counts);
      expect(ages.counts.reduce((s: number, n: number) => s + n, 0)).toBe(21);
      expect(a.raw.marks.map((m: Json) => m.s)).toEqual([p30.periodMs / 1000]);
      const edges = (await api('api/close-ages')).edgesMs as number[];
      const bin30 = edges.findIndex((e, i) => e <= 30_100 && 30_100 < edges[i + 1]!);
      expect(ages.counts[bin30]).toBe(12);
      expect(a.data[0]).toHaveLength(edges.length - 1);
      // The same numbers as a table, for keyboard and screen-reader users.
      await page.locator('#ages-table').locator('xpath=ancestor::details/summary').press('Enter');
      const rows = await page.locator('#ages-table tbody tr').allTextContents();
      expect(rows).toHaveLength(ages.counts.filter((n: number) => n > 0).length);
      expect(
        await page.locator('#ages-table tbody tr', { hasText: '25.1 s – 31.6 s' }).locator('td').last().textContent(),
      ).toBe('12');

      // Open connections: age and idle, the API's numbers.
      const openWs = ((await api('api/open-ages')).routes as Json[]).find((r) => r.route === 'ws');
      const o = await plotted(page, 'open');
      expect(o.data[1]).toEqual(openWs.age);
      expect(o.data[2]).toEqual(openWs.idle);
      expect(openWs.total).toBe(5);

      // Closes per minute by initiator: raw counts are the API's, stacking adds them up.
      const closes = await api('api/closes');
      const c = await plotted(page, 'closes');
      for (const who of ['client', 'backend', 'proxy']) {
        const api_ = closes.buckets.reduce((s: number, b: Json) => s + (b.byInitiator[who] ?? 0), 0);
        expect(
          c.raw.byInitiator[who].reduce((s: number, n: number) => s + n, 0),
          who,
        ).toBe(api_);
      }
      const total = c.raw.byInitiator.client.map(
        (n: number, i: number) => n + c.raw.byInitiator.backend[i] + c.raw.byInitiator.proxy[i],
      );
      expect(c.data[1]).toEqual(total);

      // Totals: readable, pools shown (an HTTP route exists).
      expect(await page.locator('#pools').isVisible()).toBe(true);
      expect(await page.locator('#reasons tr[data-reason="client_closed"] td').first().textContent()).toBe(
        'client_closed',
      );
      await page.screenshot({ path: `${OUT}/desktop-light.png`, fullPage: true });
      await page
        .locator('section', { has: page.locator('#ages-chart') })
        .screenshot({ path: `${OUT}/desktop-light-route.png` });
      await page
        .locator('section', { has: page.locator('#closes-chart') })
        .screenshot({ path: `${OUT}/desktop-light-closes.png` });

      // Keyboard: the route selector changes the charts.
      await page.focus('#route-select');
      await page.keyboard.press('ArrowDown');
      await page.waitForFunction(
        () => (globalThis as any).document.getElementById('ages-chart')?.dataset.route === 'api',
      );
      const apiAges = (await api('api/close-ages?route=api')).routes[0];
      expect((await plotted(page, 'ages')).data[1]).toEqual(apiAges.counts);
      await page.selectOption('#route-select', 'ws');

      // Keyboard: a connection's id button opens its detail; Escape closes it and returns the focus.
      const button = page.locator('#recent button[data-connection-id]').first();
      const id = await button.getAttribute('data-connection-id');
      await button.focus();
      await page.keyboard.press('Enter');
      await page.waitForSelector('#detail:not([hidden]) #detail-close dd');
      expect(await page.locator('#detail-id').textContent()).toBe(id);
      const milestones = await page.locator('#detail-milestones li').allTextContents();
      expect(milestones[0]).toContain('accepted');
      expect(milestones.at(-1)).toContain('closed');
      const detail = await api(`api/connection?id=${id}`);
      expect(await page.locator('#detail-close').textContent()).toContain(detail.close.reason);
      expect(await page.evaluate(() => (globalThis as any).document.activeElement?.id)).toBe('detail');
      await page.screenshot({
        path: `${OUT}/desktop-detail.png`,
        fullPage: false,
        clip: { x: 0, y: 0, width: 1280, height: 800 },
      });
      await page.locator('#detail').screenshot({ path: `${OUT}/detail-panel.png` });
      await page.keyboard.press('Escape');
      expect(await page.locator('#detail').isHidden()).toBe(true);
      expect(await page.evaluate(() => (globalThis as any).document.activeElement?.dataset.connectionId)).toBe(id);

      // Focus is visible (an outline on the focused control).
      await page.focus('#route-select');
      expect(
        await page.evaluate(
          () => (globalThis as any).getComputedStyle((globalThis as any).document.activeElement).outlineStyle,
        ),
      ).not.toBe('none');

      expect(await page.locator('#problem').isHidden()).toBe(true);
      expect(problems).toEqual([]);
      await page.close();
    },
  );

  it.skipIf(skipped(CHROMIUM_NEED))(
    titled('phone 390×844 and dark mode: same elements, same values, no console error', CHROMIUM_NEED),
    async () => {
      const page = await browser!.newPage({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
      const problems = watchPage(page);
      await loaded(page);
      for (const id of [
        '#patterns',
        '#totals',
        '#reasons',
        '#route-select',
        '#ages-chart canvas',
        '#open-chart canvas',
        '#closes-chart canvas',
        '#routes',
        '#connections',
        '#recent',
      ]) {
        expect(await page.locator(id).count(), id).toBeGreaterThan(0);
      }
      const ages = (await api('api/close-ages?route=ws')).routes[0];
      expect((await plotted(page, 'ages')).data[1]).toEqual(ages.counts);
      // The charts fit the narrow screen.
      const width = await page.evaluate(
        () => (globalThis as any).document.querySelector('#ages-chart canvas').getBoundingClientRect().width as number,
      );
      expect(width).toBeLessThanOrEqual(390);
      expect(
        await page.evaluate(
          () => (globalThis as any).getComputedStyle((globalThis as any).document.body).backgroundColor,
        ),
      ).toBe('rgb(17, 20, 24)');
      await page.screenshot({ path: `${OUT}/phone-dark.png`, fullPage: true });
      await page
        .locator('section', { has: page.locator('#ages-chart') })
        .screenshot({ path: `${OUT}/phone-dark-route.png` });
      await page.emulateMedia({ colorScheme: 'light' });
      await page.waitForTimeout(300);
      await page.screenshot({ path: `${OUT}/phone-light.png`, fullPage: true });
      const desktop = await browser!.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'dark' });
      const problems2 = watchPage(desktop);
      await loaded(desktop);
      await desktop.screenshot({ path: `${OUT}/desktop-dark.png`, fullPage: true });
      await desktop
        .locator('section', { has: desktop.locator('#ages-chart') })
        .screenshot({ path: `${OUT}/desktop-dark-route.png` });
      expect(problems).toEqual([]);
      expect(problems2).toEqual([]);
      await desktop.close();
      await page.close();
    },
  );
});
